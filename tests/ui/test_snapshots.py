"""SVG snapshots of every screen in both themes, against a fake platform.

The platform listens at a fixed address, which screens show. The job detail
and its questions have their own file, test_detail_snapshots.py.

Run `pytest tests/ui/test_snapshots.py --snapshot-update` after an intended
change of the UI, and look at the new SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from plexe_tui.store.drafts import NEW_BUILD, DraftStore
from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.screens.pickers import DataFileTree, FilePickerScreen
from plexe_tui.ui.widgets.schema_editor import SchemaEditor
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    enter_value,
    job_table,
    make_app,
    open_new_form,
    paste_into,
    settle,
    wait_until,
    write_config,
    write_jobs,
)
from tests.ui.manual_time import ManualTime

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]

NARROW_SIZE = (80, 24)

FAILED_ERROR = (
    "Training failed for every approach. The target column 'species' has 3 "
    "classes but the output schema declares it as float, so the regressors "
    "[ridge, random_forest, hist_gradient_boosting] could not be scored with "
    "rmse. Declare the output as str, or pick a classification metric such as "
    "accuracy or f1. Columns seen: species, island, bill_length_mm, "
    "bill_depth_mm, flipper_length_mm, body_mass_g, sex. Rows read: 344; rows "
    "kept after dropping missing values: 333."
)


def status_response(job: dict[str, Any]) -> dict[str, Any]:
    """Return the status response that matches a job, so polling changes nothing."""
    fields = ("status", "build_progress", "phase", "iteration", "max_iterations")
    response = {name: job[name] for name in fields if name in job}
    response.update(
        model_name=job["model_name"],
        model_version=job["model_version"],
        created_at=job["created_at"],
        updated_at=job["updated_at"],
    )
    return response


def every_status(server: str) -> list[dict[str, Any]]:
    """Return one job in each status the jobs table can show, newest first."""
    return [
        job_table(
            "churn",
            "7",
            server,
            status="building",
            build_progress=40.0,
            phase="search",
            iteration=2,
            max_iterations=5,
            created_at="2025-03-14T11:59:20+00:00",
            updated_at="2025-03-14T11:59:50+00:00",
        ),
        job_table(
            "prices",
            "2",
            server,
            status="pending",
            created_at="2025-03-14T11:45:00+00:00",
            updated_at="2025-03-14T11:45:00+00:00",
        ),
        job_table(
            "support-triage",
            "1",
            server,
            status="paused_awaiting_feedback",
            created_at="2025-03-14T09:10:00+00:00",
            updated_at="2025-03-14T11:30:00+00:00",
        ),
        job_table(
            "cancer",
            "3",
            server,
            status="completed",
            metric_name="roc_auc",
            metric_value=0.98765,
            build_progress=100.0,
            created_at="2025-03-13T16:00:00+00:00",
            updated_at="2025-03-13T16:20:00+00:00",
        ),
        job_table(
            "penguins",
            "1",
            server,
            status="failed",
            error=FAILED_ERROR,
            created_at="2025-03-12T10:00:00+00:00",
            updated_at="2025-03-12T10:05:00+00:00",
        ),
        job_table(
            "diabetes",
            "5",
            server,
            status="cancelled",
            created_at="2025-03-01T10:00:00+00:00",
            updated_at="2025-03-01T10:01:00+00:00",
        ),
    ]


def completed_job(server: str) -> dict[str, Any]:
    """Return a finished build with every field of the request set."""
    return job_table(
        "cancer",
        "3",
        server,
        status="completed",
        goal=(
            "Predict the diagnosis [malignant or benign] from the 30 cell "
            "measurements of each sample"
        ),
        dataset="/home/analyst/data/breast_cancer.csv",
        upload_id="upl-12",
        output_schema={"target": "int"},
        metric="roc_auc",
        max_iterations=5,
        provider="openai/gpt-4o-mini",
        metric_name="roc_auc",
        metric_value=0.98765,
        build_progress=100.0,
        parent=f"cancer:2@{server}",
        created_at="2025-03-13T16:00:00+00:00",
        updated_at="2025-03-13T16:20:00+00:00",
    )


def failed_job(server: str) -> dict[str, Any]:
    """Return a failed build with a long error message."""
    return job_table(
        "penguins",
        "1",
        server,
        status="failed",
        goal="Predict the species of a penguin from its measurements",
        dataset="/home/analyst/data/penguins.csv",
        upload_id="upl-9",
        output_schema={"species": "float"},
        metric="rmse",
        error=FAILED_ERROR,
        created_at="2025-03-12T10:00:00+00:00",
        updated_at="2025-03-12T10:05:00+00:00",
    )


def script_jobs(
    platform: FakePlatform, config_dir: Path, jobs: list[dict[str, Any]]
) -> None:
    """Write the jobs, and script a matching status response for each."""
    if jobs:
        write_jobs(config_dir, jobs)
    for job in jobs:
        path = f"/models/{job['model_name']}/{job['model_version']}/status"
        platform.respond("GET", path, json=status_response(job), times=None)


def snapshot_app(
    platform: FakePlatform, config_dir: Path, jobs: list[dict[str, Any]]
) -> PlexeApp:
    """Write and script the jobs, then build the app."""
    script_jobs(platform, config_dir, jobs)
    return make_app(platform.url, config_dir)


def pressing(*keys: str) -> RunBefore:
    """Return a run_before that lets the first poll end, then presses `keys`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return run_before


async def refreshed(pilot: Pilot[Any]) -> None:
    """Poll once more with `r`, so the server line reads "updated 0 s ago"."""
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)


async def form_with_errors(pilot: Pilot[Any]) -> None:
    """Enter invalid values, submit, and scroll back to the first field."""
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    await paste_into(pilot, "#model_name", "my model")
    await paste_into(pilot, "#dataset", "missing.csv")
    await paste_into(pilot, "#input_schema", '{"age": "int",}')
    await paste_into(pilot, "#max_iterations", "51")
    await pilot.press("ctrl+s")
    await settle(pilot)
    pilot.app.screen.query_one("#model_name", Input).focus()
    pilot.app.screen.query_one("#form").scroll_home(animate=False)
    await settle(pilot)


async def form_with_columns(pilot: Pilot[Any]) -> None:
    """Choose the dataset by a relative path and make `diagnosis` the target."""
    await settle(pilot)
    await open_new_form(pilot)
    await enter_value(pilot, "goal", "Predict whether a tumour is malignant")
    await enter_value(pilot, "dataset", "data/breast_cancer.csv")
    screen = pilot.app.screen
    screen.query_one("#schema", SchemaEditor).focus()
    await pilot.press("ctrl+end", "t")
    await settle(pilot)
    preview = screen.query_one("#preview")
    screen.query_one("#form").scroll_to_widget(preview, top=True, animate=False)
    await settle(pilot)


async def resubmit_with_changes(pilot: Pilot[Any]) -> None:
    """Open the resubmit form and change the goal and the metric."""
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)
    await enter_value(
        pilot, "goal", "Predict the diagnosis from the 10 mean cell measurements"
    )
    await enter_value(pilot, "metric", "f1")
    await settle(pilot)


async def leave_question(pilot: Pilot[Any]) -> None:
    """Change a new form, then press escape to leave it."""
    await settle(pilot)
    await open_new_form(pilot)
    await enter_value(pilot, "model_name", "churn")
    await pilot.press("escape")
    await settle(pilot)


async def form_with_server_error(pilot: Pilot[Any]) -> None:
    """Submit a form that the server rejects, naming the goal."""
    await settle(pilot)
    await open_new_form(pilot)
    await enter_value(pilot, "model_name", "cancer")
    await enter_value(pilot, "goal", "Predict the outcome")
    await pilot.press("ctrl+s")
    await settle(pilot)


async def form_uploading(pilot: Pilot[Any]) -> None:
    """Submit a form whose upload the server has not yet confirmed."""
    await settle(pilot)
    await open_new_form(pilot)
    await enter_value(pilot, "goal", "Predict whether a tumour is malignant")
    await enter_value(pilot, "dataset", "data/breast_cancer.csv")
    await pilot.press("ctrl+s")
    status = pilot.app.screen.query_one("#submit-status")
    await wait_until(
        pilot, lambda: "MB/s" in str(status.render()), "the upload's progress"
    )


def steps_of_one_second() -> Callable[[], float]:
    """Return a monotonic clock that moves one second each time it is read."""
    ticks = iter(range(1_000_000))
    return lambda: float(next(ticks))


async def sorted_by_name(pilot: Pilot[Any]) -> None:
    """Sort by name with `o`, then reverse it with `O`, and move the cursor down."""
    await settle(pilot)
    await pilot.press("o", "o", "O", "j")
    await settle(pilot)


async def filtered(pilot: Pilot[Any]) -> None:
    """Filter by `status:` and keep the filter with enter."""
    await settle(pilot)
    await pilot.press("slash", *"status:c", "enter")
    await settle(pilot)


async def palette_open(pilot: Pilot[Any]) -> None:
    """Open the command palette and wait until it lists the commands."""
    await settle(pilot)
    await pilot.press("ctrl+p")
    await wait_until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, CommandPalette)
            and pilot.app.screen.query_one(CommandList).option_count > 0
        ),
        "the palette's commands",
    )
    await settle(pilot)


async def file_picker_open(pilot: Pilot[Any]) -> None:
    """Open the form's file picker and wait until it lists the folder.

    `settle` would wait forever: the directory tree's loader is a worker that
    runs as long as the tree.
    """
    await settle(pilot)
    await open_new_form(pilot)
    await pilot.press("ctrl+o")
    await wait_until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, FilePickerScreen)
            and len(pilot.app.screen.query_one(DataFileTree).root.children) > 0
        ),
        "the picker's folder listing",
    )
    await pilot.pause()


def timed_snapshot_app(
    platform: FakePlatform, config_dir: Path, jobs: list[dict[str, Any]]
) -> PlexeApp:
    """Like `snapshot_app`, on a clock that does not move, so waits read the same."""
    script_jobs(platform, config_dir, jobs)
    time = ManualTime()
    return make_app(
        platform.url,
        config_dir,
        poll_interval=None,
        monotonic=time.monotonic,
        scheduler=time.schedule,
    )


# Every test below that takes `theme` runs once per theme: config.toml
# chooses it, as it does for a user.


def test_jobs_every_status(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = every_status(snapshot_platform.url)
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=refreshed)


def test_jobs_narrow(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = every_status(snapshot_platform.url)
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=NARROW_SIZE, run_before=refreshed)


def test_jobs_empty(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=refreshed)


def test_jobs_sorted(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = every_status(snapshot_platform.url)
    app = timed_snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=sorted_by_name)


def test_jobs_filtered(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = every_status(snapshot_platform.url)
    app = timed_snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=filtered)


def test_jobs_offline(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    snapshot_platform.respond(
        "GET", "/models", status=429, headers={"retry-after": "20"}, times=None
    )
    jobs = every_status(snapshot_platform.url)
    app = timed_snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=settle)


def test_jobs_several_servers(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    second_snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    first = snapshot_platform
    second = second_snapshot_platform
    jobs = every_status(first.url)[:4]
    jobs.append(
        job_table(
            "forecast",
            "2",
            second.url,
            status="building",
            build_progress=75.0,
            created_at="2025-03-14T11:20:00+00:00",
        )
    )
    second.respond(
        "GET",
        "/models",
        json={
            "models": [status_response(jobs[-1])],
            "pagination": {"total": 1, "limit": 100, "offset": 0, "has_more": False},
        },
        times=None,
    )
    # A build that another client started, found in the first server's list.
    first.respond(
        "GET",
        "/models",
        json=[
            {
                "model_id": "console:4",
                "status": "COMPLETED",
                "goal": "predict churn from the platform console",
                "metric_name": "f1",
                "metric_value": 0.81,
                "created_at": "2025-03-14T08:00:00Z",
                "updated_at": "2025-03-14T08:30:00Z",
            }
        ],
        times=None,
    )
    app = timed_snapshot_app(first, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=settle)


def test_command_palette(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = every_status(snapshot_platform.url)
    app = timed_snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=palette_open)


def test_build_form_empty(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=pressing("n"))


def test_build_form_errors(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=form_with_errors)


def test_build_form_columns(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    theme: str,
) -> None:
    # The Dataset field shows the path, so it is relative to a fixed folder.
    monkeypatch.chdir(dataset_file.parent.parent)
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=form_with_columns)


def test_build_form_draft_restored(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    draft = {
        "model_name": "house-prices",
        "goal": "Estimate the sale price of each house from its size and area",
        "metric": "mae",
        "max_iterations": "8",
    }
    DraftStore(config_dir / "drafts.toml").save(NEW_BUILD, draft)
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=pressing("n"))


def test_build_form_leave_question(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=leave_question)


def test_build_form_server_error(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    message = "The goal names no column of the dataset; name the column to predict."
    snapshot_platform.respond(
        "POST",
        "/models/cancer",
        status=422,
        json={"error": {"code": "invalid", "message": message, "field": "goal"}},
    )
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(
        app, terminal_size=TERMINAL_SIZE, run_before=form_with_server_error
    )


def test_build_form_uploading(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    theme: str,
) -> None:
    monkeypatch.chdir(dataset_file.parent.parent)
    # The bytes are sent; the confirmation waits until the platform stops.
    snapshot_platform.respond("POST", "/uploads/status", json={}, delay=60)
    app = snapshot_app(snapshot_platform, config_dir, [])
    app.settings.monotonic = steps_of_one_second()

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=form_uploading)


def test_build_form_upload_picker(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    uploads = [
        {
            "upload_id": "upl-7",
            "filename": "churn.csv",
            "status": "complete",
            "size_bytes": 2_400_000,
            "created_at": "2025-03-14T11:58:00+00:00",
        },
        {
            "upload_id": "upl-8",
            "filename": "prices [2024].jsonl",
            "status": "pending",
            "created_at": "2025-03-14T09:30:00+00:00",
        },
    ]
    snapshot_platform.respond("GET", "/uploads", json={"uploads": uploads})
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(
        app, terminal_size=TERMINAL_SIZE, run_before=pressing("n", "ctrl+l")
    )


def test_build_form_file_picker(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    theme: str,
) -> None:
    # The picker shows its folder under the home folder as `~/data`.
    home = dataset_file.parent.parent
    (home / "data" / "penguins.json").write_text("[]\n", encoding="utf-8")
    (home / "data" / "notes.txt").write_text("not a dataset\n", encoding="utf-8")
    (home / "data" / "archive").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home / "data")
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=file_picker_open)


def test_resubmit_form_prefilled(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = [completed_job(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=pressing("s"))


def test_resubmit_form_changes(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = [completed_job(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(
        app, terminal_size=TERMINAL_SIZE, run_before=resubmit_with_changes
    )


# The help screen opens on the build form, which shows no clock: the job
# list's "updated N s ago" could change while a busy machine renders.


def test_help_screen(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(
        app, terminal_size=TERMINAL_SIZE, run_before=pressing("n", "f1")
    )


def test_help_screen_remapped(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
) -> None:
    write_config(config_dir, '[keys]\nsubmit = "f5"\nbrowse = "ctrl+b,ctrl+o"\n')
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(
        app, terminal_size=TERMINAL_SIZE, run_before=pressing("n", "f1")
    )
