"""Readable text in both themes: the status colours, and the text of every snapshot.

Also the status words in themes whose colours are ANSI names or left unset.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.style import Style
from textual.color import Color
from textual.theme import BUILTIN_THEMES, Theme

from plexe_tui.api.status import BuildState
from plexe_tui.ui.format import status_style
from tests.fake_platform import FakePlatform
from tests.ui.contrast import TextRun, contrast_ratio, rounded_box, text_runs
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    settle,
    table_rows,
    write_config,
    write_jobs,
)

SNAPSHOT_DIR = Path(__file__).parent / "__snapshots__"
THEMES = ["textual-dark", "textual-light"]
STATUSES = [*BuildState, "paused_awaiting_feedback"]

# WCAG 2.1 requires a contrast of 4.5 for normal text (criterion 1.4.3, AA).
TEXT_CONTRAST = 4.5
# WCAG 2.1 requires 3 for large text and for controls. The snapshots are held to
# this lower bound because Textual 8.2's own widgets fall between the two in
# its default themes: the dark theme's highlighted row is 3.8.
SNAPSHOT_CONTRAST = 3.0
# Behind a modal screen Textual dims the screen below on purpose, so in the
# snapshots of modals only the text inside the modal's box is checked.
MODAL_SNAPSHOTS = ("question", "picker", "help_screen")
# NOTE: the palette draws no box, so its snapshots are not checked.
UNCHECKED_SNAPSHOTS = ("palette",)


def theme_backgrounds(theme_name: str) -> dict[str, str]:
    """Return the background colours Textual derives for a theme, by name."""
    variables = BUILTIN_THEMES[theme_name].to_color_system().generate()
    return {name: variables[name] for name in ("background", "surface", "panel")}


@pytest.mark.parametrize("theme_name", THEMES)
@pytest.mark.parametrize("status", STATUSES)
def test_status_colour_readable(theme_name: str, status: str) -> None:
    theme = BUILTIN_THEMES[theme_name]
    style = Style.parse(status_style(status, theme))
    if style.color is None:
        assert style.dim, "a status without a colour is dimmed"
        return
    colour = Color.from_rich_color(style.color).hex

    for name, background in theme_backgrounds(theme_name).items():
        contrast = contrast_ratio(colour, background)
        assert contrast >= TEXT_CONTRAST, (
            f"{status} in {colour} on the {name} {background}: {contrast:.2f}"
        )


def snapshot_files() -> list[Path]:
    files = sorted(SNAPSHOT_DIR.glob("*/*.svg"))
    return [p for p in files if not any(u in p.name for u in UNCHECKED_SNAPSHOTS)]


def checked_runs(snapshot: Path) -> list[TextRun]:
    """Return the text runs of a snapshot to check: inside the modal, if any."""
    runs = list(text_runs(snapshot))
    if not any(modal in snapshot.name for modal in MODAL_SNAPSHOTS):
        return runs
    box = rounded_box(snapshot)
    assert box is not None, f"{snapshot.name} shows no modal box"
    return [run for run in runs if box.contains(run)]


@pytest.mark.parametrize("snapshot", snapshot_files(), ids=lambda path: path.stem)
def test_snapshot_text_readable(snapshot: Path) -> None:
    runs = checked_runs(snapshot)
    faint = [
        f"line {run.line}: {run.text[:40]!r} in {run.colour} on {run.background} "
        f"({run.contrast:.2f})"
        for run in runs
        if run.contrast < SNAPSHOT_CONTRAST
    ]

    assert runs
    assert not faint, "\n".join(faint)


def test_snapshots_found() -> None:
    """The check above reads both themes, so a moved folder cannot pass it empty."""
    names = [path.name for path in snapshot_files()]

    assert any("[dark]" in name for name in names)
    assert any("[light]" in name for name in names)


@pytest.mark.parametrize("theme_name", sorted(BUILTIN_THEMES))
def test_status_style_parses_in_every_theme(theme_name: str) -> None:
    """config.toml accepts any Textual theme, some of which use ANSI colours."""
    theme = BUILTIN_THEMES[theme_name]

    for status in [*STATUSES, "unknown-word"]:
        Style.parse(status_style(status, theme))


def test_status_style_bare_theme() -> None:
    """A theme that sets only its primary colour gets Textual's fallbacks."""
    theme = Theme(name="bare", primary="#336699", dark=False)

    for status in STATUSES:
        style = Style.parse(status_style(status, theme))
        assert "None" not in str(style)


async def test_ansi_theme_draws_jobs(platform: FakePlatform, config_dir: Path) -> None:
    platform.set_build("churn", "1", status="building")
    write_jobs(
        config_dir,
        [
            job_table("churn", "1", platform.url, status="building"),
            job_table("cancer", "3", platform.url, status="completed"),
        ],
    )
    write_config(config_dir, 'theme = "ansi-dark"\n')
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        rows = table_rows(pilot)

    assert app.theme == "ansi-dark"
    assert rows[f"churn:1@{platform.url}"][1] == "building"
    assert rows[f"cancer:3@{platform.url}"][1] == "completed"
