"""SVG snapshots of the job detail and its questions, in both themes.

The detail is shown building, completed, failed, and predicting; the
questions are those that confirm forgetting, deleting, cancelling and
leaving a running prediction.

Run `pytest tests/ui/test_detail_snapshots.py --snapshot-update` after an
intended change of the screen, and look at the new SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.batch import FIRST_CHUNK_ROWS
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.widgets.inference_form import InferenceForm
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    DATA_DIR,
    TERMINAL_SIZE,
    job_table,
    make_app,
    settle,
    wait_until,
    write_jobs,
)
from tests.ui.test_snapshots import (
    completed_job,
    failed_job,
    snapshot_app,
    status_response,
)

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]

NARROW_SIZE = (80, 24)
# Tall enough to show the approaches and the whole inference form at once.
TALL_SIZE = (120, 62)
PENGUIN_SCHEMA = {
    "island": "str",
    "bill_length_mm": "float",
    "bill_depth_mm": "float",
    "flipper_length_mm": "int",
    "body_mass_g": "int",
    "sex": "str",
    "year": "int",
}
DESCRIPTION = {
    "target": "species",
    "target_reason": "the goal names it",
    "task": "multiclass",
    "task_reason": "3 classes of text",
    "features": [{"name": name} for name in PENGUIN_SCHEMA],
    "dropped_columns": [],
    "validation": "5-fold stratified cross-validation on 333 rows",
    "metric": {"name": "log_loss"},
    "chosen": "hist_gradient_boosting",
    "chosen_reason": "lowest log_loss",
    "approaches": [
        {
            "name": "baseline",
            "description": "predicts the class shares, ignoring the features",
            "metric_value": 1.0493,
            "metric_std": 0.0046,
            "seconds": 0.29,
        },
        {
            "name": "logistic_regression",
            "description": "scaled linear model",
            "metric_value": 0.0921,
            "metric_std": 0.0311,
            "seconds": 0.84,
        },
        {
            "name": "hist_gradient_boosting",
            "description": "boosted trees on histograms",
            "metric_value": 0.0714,
            "metric_std": 0.0207,
            "seconds": 2.51,
        },
        {
            "name": "random_forest",
            "seconds": 0.12,
            "error": "MemoryError: the worker ran out of memory [4 GiB limit]",
        },
    ],
}
PREDICTION = {
    "species": "Adelie",
    "probability": 0.981,
    "probabilities": {"Adelie": 0.981, "Chinstrap": 0.015, "Gentoo": 0.004},
}
# Seconds a scripted response is held: longer than any snapshot takes.
HELD_SECONDS = 60.0


def history(*changes: tuple[str, str]) -> list[dict[str, str]]:
    return [{"status": status, "at": at} for status, at in changes]


def building_job(server: str) -> dict[str, Any]:
    return job_table(
        "churn",
        "7",
        server,
        status="building",
        goal="Predict which customers cancel [churn] within 90 days",
        dataset="/home/analyst/data/customers.csv",
        upload_id="upl-31",
        metric="roc_auc",
        max_iterations=5,
        build_progress=40.0,
        phase="search",
        iteration=2,
        planned_iterations=5,
        best_metric_name="roc_auc",
        best_metric_value=0.8412,
        created_at="2025-03-14T11:58:00+00:00",
        updated_at="2025-03-14T11:59:50+00:00",
        history=history(
            ("pending", "2025-03-14T11:58:00+00:00"),
            ("building", "2025-03-14T11:58:03+00:00"),
        ),
    )


def penguins_job(server: str) -> dict[str, Any]:
    """A completed penguins build whose dataset is the test data file."""
    return job_table(
        "penguins",
        "2",
        server,
        status="completed",
        goal="Predict the species of a penguin from its measurements",
        dataset="tests/data/penguins.csv",
        upload_id="upl-9",
        metric_name="log_loss",
        metric_value=0.0714,
        build_progress=100.0,
        parent=f"penguins:1@{server}",
        created_at="2025-03-14T10:00:00+00:00",
        updated_at="2025-03-14T10:01:12+00:00",
        history=history(
            ("pending", "2025-03-14T10:00:00+00:00"),
            ("building", "2025-03-14T10:00:02+00:00"),
            ("completed", "2025-03-14T10:01:12+00:00"),
        ),
    )


def earlier_penguins(server: str) -> dict[str, Any]:
    """The failed build that `penguins_job` was resubmitted from."""
    table = failed_job(server)
    table["history"] = history(
        ("pending", "2025-03-12T10:00:00+00:00"),
        ("building", "2025-03-12T10:00:04+00:00"),
        ("failed", "2025-03-12T10:05:00+00:00"),
    )
    return table


def script_penguins_model(platform: FakePlatform) -> None:
    """Script the model record, the description and inference of penguins:2."""
    platform.set_build("penguins", "2", status="completed", output=PREDICTION)
    platform.respond(
        "GET",
        "/models/penguins/2",
        json={"input_schema": PENGUIN_SCHEMA, "output_schema": {"species": "str"}},
        times=None,
    )
    platform.respond("GET", "/models/penguins/2/describe", json=DESCRIPTION, times=None)


def opening(*keys: str) -> RunBefore:
    """Return a run_before that opens the first job and presses `keys`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.fixture
def in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository, where the job's relative dataset path points."""
    monkeypatch.chdir(DATA_DIR.parent.parent)


def building_app(platform: FakePlatform, config_dir: Path) -> PlexeApp:
    """Build the app with the building job, whose status carries its best metric."""
    job = building_job(platform.url)
    write_jobs(config_dir, [job])
    response = status_response(job)
    response["best_so_far"] = {"metric_name": "roc_auc", "metric_value": 0.8412}
    path = f"/models/{job['model_name']}/{job['model_version']}/status"
    platform.respond("GET", path, json=response, times=None)
    return make_app(platform.url, config_dir)


def test_detail_building(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    app = building_app(snapshot_platform, config_dir)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=opening())


def test_detail_building_narrow(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    app = building_app(snapshot_platform, config_dir)

    assert snap_compare(app, terminal_size=NARROW_SIZE, run_before=opening())


def test_detail_completed(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    """A completed build whose server sends no description or model record."""
    jobs = [completed_job(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=opening())


def test_detail_completed_model(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    in_repository: None,
    theme: str,
) -> None:
    """Approaches, lineage and the inference form filled from the dataset."""
    server = snapshot_platform.url
    script_penguins_model(snapshot_platform)
    jobs = [penguins_job(server), earlier_penguins(server)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TALL_SIZE, run_before=opening())


def test_detail_failed_long_error(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = [earlier_penguins(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=opening())


def test_detail_failed_narrow(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = [earlier_penguins(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=NARROW_SIZE, run_before=opening())


async def predicted(pilot: Pilot[Any]) -> None:
    """Open the penguins build, predict its first row, and show the result."""
    await opening("i", "enter")(pilot)
    form = pilot.app.screen.query_one(InferenceForm)
    await wait_until(pilot, lambda: form.output is not None, "the prediction")
    await settle(pilot)


def test_detail_inference_result(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    in_repository: None,
    theme: str,
) -> None:
    script_penguins_model(snapshot_platform)
    jobs = [penguins_job(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=predicted)


def write_rows(path: Path, count: int) -> Path:
    header = ",".join(PENGUIN_SCHEMA)
    row = "Biscoe,45.1,14.5,215,5000,female,2008"
    path.write_text("\n".join([header] + [row] * count) + "\n", encoding="utf-8")
    return path


def batch_app(platform: FakePlatform, config_dir: Path) -> PlexeApp:
    """Build the app with penguins:2, whose server returns the first chunk only.

    The second chunk's request is held, so the prediction stays running.
    """
    script_penguins_model(platform)
    first = [PREDICTION] * FIRST_CHUNK_ROWS
    platform.respond("POST", "/models/penguins/2/predictions", json=first)
    platform.respond("POST", "/models/penguins/2/predictions", delay=HELD_SECONDS)
    return snapshot_app(platform, config_dir, [penguins_job(platform.url)])


def predicting(source: Path, *keys: str) -> RunBefore:
    """Return a run_before that predicts `source` until the first chunk is done,
    then presses `keys`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await opening()(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen)
        screen.predictions.start_batch(screen.job, source)  # type: ignore[arg-type]
        await wait_until(
            pilot,
            lambda: (
                "50 of 200" in str(screen.query_one("#batch-status", Static).content)
            ),
            "the first chunk's progress",
        )
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()

    return run_before


def test_detail_batch_progress(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    in_repository: None,
    tmp_path: Path,
    theme: str,
) -> None:
    """The first chunk is predicted and the second is held by the server."""
    app = batch_app(snapshot_platform, config_dir)
    source = write_rows(tmp_path / "measurements.csv", 200)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=predicting(source))


def test_detail_leave_batch_question(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    in_repository: None,
    tmp_path: Path,
    theme: str,
) -> None:
    app = batch_app(snapshot_platform, config_dir)
    source = write_rows(tmp_path / "measurements.csv", 200)

    assert snap_compare(
        app, terminal_size=TERMINAL_SIZE, run_before=predicting(source, "escape")
    )


# The questions of the detail screen, asked over a completed or building job.


def test_detail_forget_question(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = [completed_job(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=opening("f"))


def test_detail_delete_question(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    jobs = [completed_job(snapshot_platform.url)]
    app = snapshot_app(snapshot_platform, config_dir, jobs)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=opening("d"))


def test_detail_cancel_question(
    snap_compare: SnapCompare,
    snapshot_platform: FakePlatform,
    config_dir: Path,
    theme: str,
) -> None:
    app = building_app(snapshot_platform, config_dir)

    assert snap_compare(app, terminal_size=TERMINAL_SIZE, run_before=opening("d"))
