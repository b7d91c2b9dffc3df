"""SVG snapshots of every screen, against a fake platform at a fixed address.

The job detail has its own file, test_detail_snapshots.py.

Run `pytest tests/ui/test_snapshots.py --snapshot-update` after an intended
change of the UI, and look at the new SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from plexe_tui.ui.app import PlexeApp
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
    write_jobs,
)

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]

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


def snapshot_app(
    platform: FakePlatform, config_dir: Path, jobs: list[dict[str, Any]]
) -> PlexeApp:
    """Write the jobs, script a matching status response for each, build the app."""
    if jobs:
        write_jobs(config_dir, jobs)
    for job in jobs:
        path = f"/models/{job['model_name']}/{job['model_version']}/status"
        platform.respond("GET", path, json=status_response(job), times=None)
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


def test_jobs_every_status(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
) -> None:
    jobs = every_status(snapshot_platform.url)
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=refreshed)


def test_jobs_empty(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=refreshed)


def test_build_form_empty(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=pressing("n"))


def test_build_form_errors(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=form_with_errors)


def test_resubmit_form_prefilled(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
) -> None:
    jobs = [completed_job(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=pressing("s"))


def test_build_form_columns(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The Dataset field shows the path, so it is relative to a fixed folder.
    monkeypatch.chdir(dataset_file.parent.parent)
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=form_with_columns)


def test_resubmit_form_changes(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
) -> None:
    jobs = [completed_job(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(
        app, terminal_size=TERMINAL_SIZE, run_before=resubmit_with_changes
    )


def test_build_form_leave_question(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
) -> None:
    app = snapshot_app(snapshot_platform, config_dir, [])

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=leave_question)


def test_build_form_server_error(
    snap_compare: SnapCompare, snapshot_platform: FakePlatform, config_dir: Path
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
