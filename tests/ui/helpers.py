"""Helpers for Pilot and snapshot tests: jobs files, app settings and waiting."""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import tomli_w
from textual import events
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static, TextArea

from plexe_tui.ui.app import AppSettings, PlexeApp, create_app
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.widgets.job_table import JobTable
from tests.fake_platform import FAKE_API_KEY

NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)
"""The clock of every app under test, so relative times never change."""

# Seconds between background polls when a test does not want them: the app
# polls once at start and then only when a test presses `r`.
QUIET_POLL_INTERVAL = 3600.0

# Bounds of `wait_until` and `settle`: how long to wait for the app, and how
# often to look. A loopback response takes milliseconds, so these are generous.
WAIT_SECONDS = 10.0
WAIT_STEP_SECONDS = 0.02
SETTLE_ROUNDS = 50

TERMINAL_SIZE = (120, 40)

ScreenT = TypeVar("ScreenT", bound=Screen[Any])

DATA_DIR = Path(__file__).parent.parent / "data"


def fixed_clock() -> datetime:
    """Return NOW, the fixed current time of every app under test."""
    return NOW


def job_table(
    name: str,
    version: str,
    server: str,
    **fields: Any,
) -> dict[str, Any]:
    """Return one job as a TOML table, with fixed times unless `fields` sets them."""
    table: dict[str, Any] = {
        "model_name": name,
        "model_version": version,
        "server": server,
        "goal": f"predict the target of {name}",
        "status": "pending",
        "created_at": "2025-03-14T11:58:00+00:00",
        "updated_at": "2025-03-14T11:59:30+00:00",
    }
    table.update(fields)
    return table


def write_jobs(config_dir: Path, jobs: list[dict[str, Any]]) -> Path:
    """Write a jobs.toml with these job tables, as an earlier run would have."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "jobs.toml"
    path.write_text(tomli_w.dumps({"version": 1, "jobs": jobs}), encoding="utf-8")
    return path


def write_config(config_dir: Path, text: str) -> Path:
    """Write config.toml, private to the user as the app expects of a file with keys."""
    path = config_dir / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def read_jobs(config_dir: Path) -> list[dict[str, Any]]:
    """Return the job tables of the jobs.toml in `config_dir`."""
    document = tomllib.loads((config_dir / "jobs.toml").read_text(encoding="utf-8"))
    jobs: list[dict[str, Any]] = document["jobs"]
    return jobs


def make_app(
    base_url: str,
    config_dir: Path,
    *,
    api_key: str | None = FAKE_API_KEY,
    poll_interval: float | None = QUIET_POLL_INTERVAL,
    **settings: Any,
) -> PlexeApp:
    """Build the app as the CLI does, for a server at `base_url`.

    `settings` sets other fields of AppSettings, such as `monotonic` and
    `scheduler` from a ManualTime, or `api_key_for`.
    """
    app_settings = AppSettings(
        base_url=base_url,
        api_key=api_key,
        config_dir=config_dir,
        poll_interval=poll_interval,
        clock=fixed_clock,
        **settings,
    )
    return create_app(app_settings)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no worker is running, including workers that other workers started."""
    app = pilot.app
    for _ in range(SETTLE_ROUNDS):
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):
            return
        await asyncio.wait_for(app.workers.wait_for_complete(), WAIT_SECONDS)
    raise AssertionError(f"Workers still running after {SETTLE_ROUNDS} rounds.")


async def wait_until(
    pilot: Pilot[Any],
    condition: Callable[[], bool],
    what: str,
    timeout: float = WAIT_SECONDS,
) -> None:
    """Let the app run until `condition()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / WAIT_STEP_SECONDS)):
        if condition():
            return
        if time.monotonic() > deadline:
            break
        await pilot.pause(WAIT_STEP_SECONDS)
    if not condition():
        raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")


def widget_text(widget: Widget) -> str:
    """Return the text a widget shows, border and padding included, right-trimmed."""
    width, height = widget.outer_size
    strips = widget.render_lines(Region(0, 0, width, height))
    return "\n".join(strip.text.rstrip() for strip in strips)


def static_text(pilot: Pilot[Any], selector: str) -> str:
    """Return the text of the Static matched by `selector` on the current screen."""
    return widget_text(pilot.app.screen.query_one(selector, Static))


def table_rows(pilot: Pilot[Any]) -> dict[str, list[str]]:
    """Return the jobs table's shown rows in order, by job key, as plain text."""
    table = pilot.app.screen.query_one("#jobs", JobTable)
    return {key: table.row_text(key) for key in table.model.order}


def cursor_key(pilot: Pilot[Any]) -> str | None:
    """Return the key of the job under the jobs table's cursor."""
    return pilot.app.screen.query_one("#jobs", JobTable).cursor_key


async def focus_field(pilot: Pilot[Any], selector: str) -> None:
    """Scroll a form field into view, click it, and clear its text."""
    widget = pilot.app.screen.query_one(selector)
    widget.scroll_visible(animate=False)
    await pilot.pause()
    await pilot.click(selector)
    if isinstance(widget, Input):
        widget.value = ""
    elif isinstance(widget, TextArea):
        widget.clear()


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Type `text` into a form field key by key.

    Pilot waits for the app to go idle after every key, so keep `text` short and
    use `paste_into` for long values.
    """
    await focus_field(pilot, selector)
    await pilot.press(*text)


async def paste_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Paste `text` into a form field, as a terminal sends a paste to the app."""
    await focus_field(pilot, selector)
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


def field_error(pilot: Pilot[Any], field_id: str) -> str | None:
    """Return the message shown beside a form field, or None when it is hidden."""
    error = pilot.app.screen.query_one(f"#{field_id}-error", Static)
    if not error.display:
        return None
    return str(error.content)


async def open_new_form(pilot: Pilot[Any]) -> BuildScreen:
    """Press `n` on the jobs screen and return the form.

    The app's first poll may still be running: tests that count requests should
    count those of one route only.
    """
    await pilot.press("n")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BuildScreen)
    return screen


@asynccontextmanager
async def open_form(
    base_url: str, config_dir: Path, dataset: Path | None = None, **app_options: Any
) -> AsyncIterator[tuple[Pilot[Any], BuildScreen]]:
    """Run the app, open a new build form and, when given, enter `dataset`.

    `app_options` go to `make_app`.
    """
    app = make_app(base_url, config_dir, **app_options)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_new_form(pilot)
        if dataset is not None:
            await enter_value(pilot, "dataset", str(dataset))
        yield pilot, screen


async def enter_value(pilot: Pilot[Any], field_id: str, text: str) -> None:
    """Replace a form field's text in one edit and let the form react.

    The form gets the same Changed message as for a keystroke, without the
    click and the idle wait per key that `type_into` costs.
    """
    widget = pilot.app.screen.query_one(f"#{field_id}")
    if isinstance(widget, TextArea):
        widget.text = text
    else:
        assert isinstance(widget, Input)
        widget.value = text
    await pilot.pause()


def form_values(pilot: Pilot[Any]) -> dict[str, str]:
    """Return the text of every field of the open form, by field id."""
    screen = pilot.app.screen
    values = {input_.id or "": input_.value for input_ in screen.query(Input)}
    values["goal"] = screen.query_one("#goal", TextArea).text
    return values


def shown_content(pilot: Pilot[Any], selector: str) -> str | None:
    """Return a Static's text before wrapping, or None when it is hidden."""
    static = pilot.app.screen.query_one(selector, Static)
    if not static.display:
        return None
    return str(static.content)


def field_note(pilot: Pilot[Any], field_id: str) -> str | None:
    """Return the note shown beside a form field, or None when it is hidden."""
    return shown_content(pilot, f"#{field_id}-note")


def submit_status(pilot: Pilot[Any]) -> str:
    """Return the status line above the form's buttons."""
    return str(pilot.app.screen.query_one("#submit-status", Static).content)


def row_cells(table: DataTable[Any], row_key: str) -> list[str]:
    """Return one row of a DataTable as its cells' plain text."""
    return [str(cell) for cell in table.get_row(row_key)]


async def wait_for_screen(pilot: Pilot[Any], screen_type: type[ScreenT]) -> ScreenT:
    """Wait until the app shows a screen of `screen_type` and its workers end."""
    await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, screen_type),
        f"the {screen_type.__name__}",
    )
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, screen_type)
    return screen


def toasts(pilot: Pilot[Any]) -> list[tuple[str, str, str]]:
    """Return the app's notifications still up, as (title, message, severity).

    Textual keeps them in a private attribute; reading it is simpler and more
    stable than finding the toast widgets of whichever screen is in front.
    """
    return [
        (note.title, note.message, note.severity) for note in pilot.app._notifications
    ]


def active_actions(screen: Screen[Any]) -> set[str]:
    """Return the actions of the bindings a screen enables now (footer or not)."""
    return {
        binding.action
        for _, binding, enabled, _ in screen.active_bindings.values()
        if enabled
    }


async def open_first_job(pilot: Pilot[Any]) -> DetailScreen:
    """Press enter on the job list's first row and return its detail screen."""
    await settle(pilot)
    await pilot.press("enter")
    return await wait_for_screen(pilot, DetailScreen)


async def answer(pilot: Pilot[Any], choice_id: str) -> None:
    """Press the button `choice_id` of the question in front."""
    assert isinstance(pilot.app.screen, ChoiceScreen)
    await pilot.click(f"#{choice_id}")
    await settle(pilot)
