"""Pilot tests of the command palette: each command runs its action.

Textual ignores a binding whose action has no `action_` method, so a
misspelt action would be a palette entry that does nothing. The first test
checks every command's action exists, and the others run each command and
check what it did.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.actions import parse
from textual.app import SystemCommand
from textual.pilot import Pilot

from plexe_tui.samples import SAMPLE_NAME
from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.schema_model import ROLE_EXCLUDED
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.help import HelpScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from plexe_tui.ui.screens.pickers import FilePickerScreen, UploadPickerScreen
from plexe_tui.ui.widgets.schema_editor import SchemaEditor
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    DATA_DIR,
    TERMINAL_SIZE,
    enter_value,
    field_error,
    form_values,
    job_table,
    make_app,
    open_new_form,
    settle,
    table_rows,
    toasts,
    wait_for_screen,
    wait_until,
    write_jobs,
)
from tests.ui.test_detail_snapshots import batch_app, write_rows


def missing_actions(app: PlexeApp) -> tuple[int, list[str]]:
    """Return how many palette commands of the screen in front run an action,
    and those whose action is missing."""
    checked = 0
    missing = []
    for command in app.get_system_commands(app.screen):
        callback = command.callback
        if not isinstance(callback, partial) or callback.func != app.run_action:
            continue  # A command of its own, such as switching servers.
        action, node = callback.args
        target, name, _ = parse(action)
        owner: Any = app if target == "app" else node or app.screen
        checked += 1
        if not callable(getattr(owner, f"action_{name}", None)):
            missing.append(f"{command.title}: {action} on {type(owner).__name__}")
    return checked, missing


@pytest.mark.parametrize(
    "keys", [(), ("n",), ("enter",)], ids=["jobs", "form", "detail"]
)
async def test_palette_actions_exist(
    platform: FakePlatform, config_dir: Path, keys: tuple[str, ...]
) -> None:
    write_jobs(
        config_dir,
        [job_table("cancer", "3", platform.url, status="completed", error="boom")],
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        if keys == ("n",):
            await wait_for_screen(pilot, BuildScreen)
        elif keys == ("enter",):
            await wait_for_screen(pilot, DetailScreen)
        checked, missing = missing_actions(app)

    assert checked > 5
    assert not missing, "\n".join(missing)


# Each command run from the palette, and what it must have done. The palette
# runs a command's callback, so the tests call it as the palette does.

OTHER_SERVER = "http://127.0.0.2:9"
DAY = "2025-03-14T"

Check = Callable[[Pilot[Any]], bool]


def command_named(app: PlexeApp, title: str) -> SystemCommand:
    """Return the palette command with this title on the screen in front."""
    commands = [c for c in app.get_system_commands(app.screen) if c.title == title]
    assert commands, f"no palette command {title!r} on {type(app.screen).__name__}"
    return commands[0]


async def run_command(pilot: Pilot[Any], title: str) -> None:
    """Run a palette command as the palette does, and let it finish."""
    pilot.app.call_later(command_named(pilot.app, title).callback)
    await pilot.pause()
    await settle(pilot)


def jobs_screen(pilot: Pilot[Any]) -> JobsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, JobsScreen)
    return screen


def cursor_row(pilot: Pilot[Any]) -> int:
    return jobs_screen(pilot).table.cursor_row


def toast_contains(pilot: Pilot[Any], text: str) -> bool:
    return any(text in message for _, message, _ in toasts(pilot))


def list_jobs(server: str) -> list[dict[str, Any]]:
    """Return three jobs, newest first, one of them on another server."""
    return [
        job_table(
            "churn", "1", server, status="building", created_at=f"{DAY}11:55:00Z"
        ),
        job_table(
            "cancer",
            "3",
            server,
            status="completed",
            error="Training failed for one approach",
            created_at=f"{DAY}11:50:00Z",
        ),
        job_table(
            "forecast",
            "2",
            OTHER_SERVER,
            status="completed",
            created_at=f"{DAY}11:40:00Z",
        ),
    ]


JOBS_SCREEN_CASES: dict[str, tuple[tuple[str, ...], Check]] = {
    "New build": ((), lambda p: isinstance(p.app.screen, BuildScreen)),
    "Open": ((), lambda p: isinstance(p.app.screen, DetailScreen)),
    "Filter": ((), lambda p: getattr(p.app.focused, "id", None) == "filter"),
    "Clear filter": (
        ("slash", *"fore", "enter"),
        lambda p: not jobs_screen(p).jobs.query and len(table_rows(p)) == 3,
    ),
    "Sort": ((), lambda p: jobs_screen(p).jobs.sort_column != "created"),
    "Reverse": ((), lambda p: jobs_screen(p).jobs.descending is False),
    "Server": ((), lambda p: jobs_screen(p).jobs.server_filter is not None),
    "Resubmit": (
        (),
        lambda p: (
            isinstance(p.app.screen, BuildScreen) and p.app.screen.source is not None
        ),
    ),
    "Try a sample": (
        (),
        lambda p: (
            isinstance(p.app.screen, BuildScreen)
            and form_values(p)["model_name"] == SAMPLE_NAME
        ),
    ),
    "Down": ((), lambda p: cursor_row(p) == 1),
    "Up": (("j",), lambda p: cursor_row(p) == 0),
    "First row": (("j", "j"), lambda p: cursor_row(p) == 0),
    "Last row": ((), lambda p: cursor_row(p) == 2),
    "Page up": (("j", "j"), lambda p: cursor_row(p) == 0),
    "Page down": ((), lambda p: cursor_row(p) == 2),
    "Help": ((), lambda p: isinstance(p.app.screen, HelpScreen)),
    "Light/dark": ((), lambda p: p.app.theme == "textual-light"),
}


@pytest.mark.parametrize("title", sorted(JOBS_SCREEN_CASES))
async def test_jobs_screen_command_runs(
    platform: FakePlatform, config_dir: Path, title: str
) -> None:
    platform.set_build("churn", "1", status="building")
    write_jobs(config_dir, list_jobs(platform.url))
    keys, check = JOBS_SCREEN_CASES[title]
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

        await run_command(pilot, title)

        assert check(pilot)


async def test_refresh_command_polls(platform: FakePlatform, config_dir: Path) -> None:
    platform.set_build("churn", "1", status="building")
    write_jobs(config_dir, list_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        before = len(platform.requests)

        await run_command(pilot, "Refresh")

        assert len(platform.requests) > before


@pytest.mark.parametrize(
    "keys", [(), ("n",), ("enter",)], ids=["jobs", "form", "detail"]
)
async def test_quit_command_quits(
    platform: FakePlatform, config_dir: Path, keys: tuple[str, ...]
) -> None:
    write_jobs(config_dir, list_jobs(platform.url)[1:])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        pilot.app.call_later(command_named(app, "Quit").callback)
        await pilot.pause()

    assert app.return_code == 0
    assert not app.is_running


DETAIL_CASES: dict[str, Check] = {
    "Back": lambda p: isinstance(p.app.screen, JobsScreen),
    "Resubmit": lambda p: isinstance(p.app.screen, BuildScreen),
    "Copy error": lambda p: toast_contains(p, "Copied the error text."),
    "Delete": lambda p: isinstance(p.app.screen, ChoiceScreen),
    "Forget": lambda p: isinstance(p.app.screen, ChoiceScreen),
    "Copy id": lambda p: toast_contains(p, "Copied the model id cancer:3."),
    "Copy curl": lambda p: toast_contains(p, "Copied a curl command"),
    "Help": lambda p: isinstance(p.app.screen, HelpScreen),
}


@pytest.mark.parametrize("title", sorted(DETAIL_CASES))
async def test_detail_command_runs(
    platform: FakePlatform, config_dir: Path, title: str
) -> None:
    write_jobs(config_dir, list_jobs(platform.url)[1:2])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for_screen(pilot, DetailScreen)

        await run_command(pilot, title)

        assert DETAIL_CASES[title](pilot)


async def test_building_detail_commands_run(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.set_build("churn", "1", status="building")
    write_jobs(config_dir, list_jobs(platform.url)[:1])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for_screen(pilot, DetailScreen)
        path = "/models/churn/1/status"
        before = sum(1 for r in platform.requests if r.path == path)

        await run_command(pilot, "Refresh")
        polled = sum(1 for r in platform.requests if r.path == path)
        await run_command(pilot, "Cancel build")

        assert polled > before
        assert isinstance(pilot.app.screen, ChoiceScreen)


def schema_editor(pilot: Pilot[Any]) -> SchemaEditor:
    return pilot.app.screen.query_one("#schema", SchemaEditor)


def first_column(pilot: Pilot[Any]) -> str:
    return schema_editor(pilot).model.columns[0].name


FORM_CASES: dict[str, Check] = {
    "Submit": lambda p: field_error(p, "goal") is not None,
    "Back": lambda p: isinstance(p.app.screen, JobsScreen),
    "Target": lambda p: schema_editor(p).model.target == first_column(p),
    "Exclude": lambda p: schema_editor(p).model.role(first_column(p)) == ROLE_EXCLUDED,
    "Type": lambda p: schema_editor(p).model.types[first_column(p)] != "float",
    "Help": lambda p: isinstance(p.app.screen, HelpScreen),
}


@pytest.mark.parametrize("title", sorted(FORM_CASES))
async def test_form_command_runs(
    platform: FakePlatform, config_dir: Path, dataset_file: Path, title: str
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await open_new_form(pilot)
        if title in ("Target", "Exclude", "Type"):
            await enter_value(pilot, "dataset", str(dataset_file))
            await wait_until(
                pilot, lambda: schema_editor(pilot).row_count > 0, "the columns"
            )
            # The breast cancer data's first column is a measurement.
            assert schema_editor(pilot).model.types[first_column(pilot)] == "float"

        await run_command(pilot, title)

        assert FORM_CASES[title](pilot)


async def test_form_picker_commands_run(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    upload = {"upload_id": "upl-7", "filename": "churn.csv", "status": "complete"}
    platform.respond("GET", "/uploads", json={"uploads": [upload]})
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await open_new_form(pilot)

        # The file picker's directory tree keeps a worker running, so these
        # wait for the screen instead of for every worker.
        app.call_later(command_named(app, "Browse files").callback)
        await wait_until(
            pilot, lambda: isinstance(app.screen, FilePickerScreen), "the file picker"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, BuildScreen), "the form")
        await run_command(pilot, "Uploads")

        assert isinstance(app.screen, UploadPickerScreen)


async def test_predict_commands_run(
    platform: FakePlatform,
    config_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The job's dataset path, tests/data/penguins.csv, is relative to the
    # repository. The server returns the first chunk of a file and holds the
    # request for the second, so the prediction is still running at Stop.
    monkeypatch.chdir(DATA_DIR.parent.parent)
    app = batch_app(platform, config_dir)
    source = write_rows(tmp_path / "measurements.csv", 200)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = await wait_for_screen(pilot, DetailScreen)
        await wait_until(
            pilot, lambda: bool(screen.predictions.features), "the model's features"
        )

        await run_command(pilot, "Predict")
        focused_field = app.focused
        app.call_later(command_named(app, "Predict file").callback)
        await wait_until(
            pilot, lambda: isinstance(app.screen, FilePickerScreen), "the file picker"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "the detail")
        screen.predictions.start_batch(screen.job, source)  # type: ignore[arg-type]
        await wait_until(
            pilot, lambda: screen.predictions.batch_running, "the running prediction"
        )
        app.call_later(command_named(app, "Stop").callback)
        await wait_until(
            pilot,
            lambda: not screen.predictions.batch_running,
            "the stopped prediction",
        )

    assert focused_field is not None
    assert focused_field.has_class("feature-input")
