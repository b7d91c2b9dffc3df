"""SVG snapshots of the build form's Server field, against fake platforms at fixed
addresses.

Run `pytest tests/ui/test_server_snapshots.py --snapshot-update` after an
intended change of the UI, and look at the new SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Select

from plexe_tui.ui.screens.build import BuildScreen
from tests.fake_platform import FakePlatform
from tests.ui.helpers import TERMINAL_SIZE, job_table, make_app, settle, write_jobs

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]

LAB_KEY_VARIABLE = "PLEXE_TEST_LAB_KEY"


def write_config(config_dir: Path, theme: str, lab_url: str) -> None:
    """Write a config.toml with the theme and a profile `lab` for the second server."""
    path = config_dir / "config.toml"
    path.write_text(
        f'theme = "{theme}"\n\n[profiles.lab]\nbase_url = "{lab_url}"\n'
        f'api_key_env = "{LAB_KEY_VARIABLE}"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)


def uploaded_job(server: str) -> dict[str, Any]:
    """A finished build whose file is gone, so only its upload id is known."""
    return job_table(
        "cancer",
        "3",
        server,
        status="completed",
        goal="predict the diagnosis from the cell measurements",
        dataset="/home/analyst/data/breast_cancer.csv",
        upload_id="upl-12",
        metric="roc_auc",
        created_at="2025-03-13T16:00:00+00:00",
        updated_at="2025-03-13T16:20:00+00:00",
    )


async def open_server_choice(pilot: Pilot[Any]) -> None:
    """Resubmit the job, focus the Server field and open its list."""
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BuildScreen)
    screen.query_one("#server", Select).focus()
    await pilot.press("enter")
    await settle(pilot)


async def choose_lab(pilot: Pilot[Any]) -> None:
    """Resubmit the job to the `lab` server, chosen from the keyboard."""
    await open_server_choice(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BuildScreen)
    servers = [option.server for option in screen.options]
    lab = next(option.server for option in screen.options if option.profile == "lab")
    await pilot.press(*["down"] * servers.index(lab), "enter")
    await settle(pilot)


@pytest.fixture
def lab_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LAB_KEY_VARIABLE, "lab-key-for-snapshots")


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_resubmit_to_other_server(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    second_snapshot_platform: FakePlatform,
    config_dir: Path,
    lab_key: None,
    theme: str,
) -> None:
    """The changes name the new server, and the Dataset error requests the file."""
    write_config(config_dir, theme, second_snapshot_platform.url)
    write_jobs(config_dir, [uploaded_job(snapshot_platform.url)])
    app = make_app(snapshot_platform.url, config_dir)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=choose_lab)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_server_choice_open(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    second_snapshot_platform: FakePlatform,
    config_dir: Path,
    lab_key: None,
    theme: str,
) -> None:
    write_config(config_dir, theme, second_snapshot_platform.url)
    history = job_table(
        "forecast",
        "2",
        "http://127.0.0.79:48767",
        status="completed",
        created_at="2025-03-12T16:00:00+00:00",
    )
    write_jobs(config_dir, [uploaded_job(snapshot_platform.url), history])
    app = make_app(snapshot_platform.url, config_dir)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=open_server_choice)
