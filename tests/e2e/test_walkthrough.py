"""A new user's first session, end to end, on a real local engine.

The app starts its own engine process on a loopback port, exactly as
`plexe-tui` does with no server configured; nothing here is faked.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from plexe_tui.api import is_terminal
from plexe_tui.ui.app import AppSettings, PlexeApp, create_app
from plexe_tui.ui.engine_builds import QuitQuestion
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from plexe_tui.ui.widgets.job_table import JobTable

DATA_DIR = Path(__file__).parent.parent / "data"
TERMINAL_SIZE = (120, 40)

# Seconds. A build of the breast cancer data takes a few seconds on two cores;
# the bound covers a cold start of the engine and a loaded CI machine.
BUILD_TIMEOUT = 180.0
STEP = 0.2

pytestmark = pytest.mark.slow


def settings_for(tmp_path: Path) -> AppSettings:
    return AppSettings(
        base_url=None,
        api_key=None,
        config_dir=tmp_path / "config",
        engine_data_dir=tmp_path / "engine",
        log_dir=tmp_path / "log",
    )


async def wait_for(
    pilot: Pilot[Any], condition: Callable[[], bool], what: str, timeout: float
) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(STEP)
    raise AssertionError(f"Timed out after {timeout:g} s waiting for {what}.")


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await pilot.press(*text)


def read_jobs(tmp_path: Path) -> list[dict[str, Any]]:
    document = tomllib.loads((tmp_path / "config" / "jobs.toml").read_text())
    jobs: list[dict[str, Any]] = document["jobs"]
    return jobs


def table_cell(app: PlexeApp, row_key: str, column: str) -> str:
    table = app.screen.query_one("#jobs", JobTable)
    return table.cell_text(row_key, column)


async def build_breast_cancer(pilot: Pilot[Any], tmp_path: Path) -> None:
    dataset = tmp_path / "breast_cancer.csv"
    shutil.copyfile(DATA_DIR / "breast_cancer.csv", dataset)

    await pilot.press("n")
    assert isinstance(pilot.app.screen, BuildScreen)
    await type_into(pilot, "#model_name", "cancer")
    await type_into(pilot, "#goal", "predict the diagnosis")
    await type_into(pilot, "#dataset", str(dataset))
    await pilot.press("ctrl+s")


async def test_first_session_builds_and_resubmits(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        # The first frame shows the job list while the engine is still starting.
        assert isinstance(app.screen, JobsScreen)
        assert app.connection.starting

        await build_breast_cancer(pilot, tmp_path)
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DetailScreen),
            "the detail screen after submitting",
            BUILD_TIMEOUT,
        )
        key = app.screen.key
        job = app.book.get(key)
        assert job is not None
        await wait_for(
            pilot, lambda: is_terminal(job.status), "the build to end", BUILD_TIMEOUT
        )

        assert job.status == "completed", job.error
        assert job.metric_name == "roc_auc"
        assert job.metric_value is not None and job.metric_value > 0.9

        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)
        assert table_cell(app, key, "status") == "completed"
        assert table_cell(app, key, "metric").startswith("roc_auc = 0.9")

    saved = read_jobs(tmp_path)
    assert [table["model_name"] for table in saved] == ["cancer"]
    assert saved[0]["status"] == "completed"
    assert saved[0]["server"] == "local"
    assert saved[0]["metric_value"] > 0.9

    relaunched = create_app(settings_for(tmp_path))
    async with relaunched.run_test(size=TERMINAL_SIZE) as pilot:
        assert table_cell(relaunched, key, "status") == "completed"

        await pilot.press("s")
        screen = relaunched.screen
        assert isinstance(screen, BuildScreen)
        assert screen.values().goal == "predict the diagnosis"
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: isinstance(relaunched.screen, DetailScreen),
            "the detail of the resubmitted build",
            BUILD_TIMEOUT,
        )
        child = relaunched.book.get(relaunched.screen.key)
        assert child is not None
        await wait_for(
            pilot, lambda: is_terminal(child.status), "the rebuild", BUILD_TIMEOUT
        )

    assert child.model_version == "2"
    assert child.parent == key
    assert child.status == "completed"
    saved_parents = {
        table["model_version"]: table.get("parent") for table in read_jobs(tmp_path)
    }
    assert saved_parents == {"1": None, "2": key}


async def test_killed_engine_is_restarted(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: app.poller.last_success is not None,
            "the first poll of the engine",
            BUILD_TIMEOUT,
        )
        engine = app.connection.engine
        assert engine is not None
        first_pid = engine.pid
        assert first_pid is not None

        os.kill(first_pid, signal.SIGKILL)
        await wait_for(
            pilot,
            lambda: (
                engine.pid != first_pid
                and app.poller.failure is None
                and app.poller.last_success is not None
                and not app.connection.starting
            ),
            "the engine to be started again",
            BUILD_TIMEOUT,
        )
        client = await app.connection.client()
        health = await client.health()

    assert health["status"] == "ok"
    assert engine.exited


async def test_quit_asks_then_build_resumes(tmp_path: Path) -> None:
    """Quitting stops the engine's build: the question names it, then the restart."""
    lines = (DATA_DIR / "breast_cancer.csv").read_text().splitlines()
    dataset = tmp_path / "cancer_x20.csv"
    dataset.write_text("\n".join([lines[0], *(lines[1:] * 20)]) + "\n")

    app = create_app(settings_for(tmp_path))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press("n")
        await type_into(pilot, "#model_name", "slow")
        await type_into(pilot, "#goal", "predict the diagnosis")
        await type_into(pilot, "#dataset", str(dataset))
        await type_into(pilot, "#max_iterations", "20")
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DetailScreen),
            "the detail screen after submitting",
            BUILD_TIMEOUT,
        )
        job = app.book.get(app.screen.key)
        assert job is not None
        await pilot.press("escape")

        await pilot.press("q")
        question = app.screen
        text = question.question if isinstance(question, QuitQuestion) else ""
        focused = app.focused.id if app.focused else None
        await pilot.press("enter")
        kept_running = isinstance(app.screen, JobsScreen)

        await pilot.press("q")
        await pilot.press("ctrl+q")

    assert isinstance(question, QuitQuestion)
    assert "1 build is running on the local engine: slow:1." in text
    assert "it resumes at its next start" in text
    assert focused == "cancel"
    assert kept_running
    assert not is_terminal(job.status)

    relaunched = create_app(settings_for(tmp_path))
    async with relaunched.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: any(
                "resumed" in note.message for note in relaunched._notifications
            ),
            "the notice of resumed builds",
            BUILD_TIMEOUT,
        )
        notices = [note.message for note in relaunched._notifications]
        client = await relaunched.connection.client()
        status = await client.get_status("slow", "1")

    assert "The local engine resumed 1 unfinished build: slow:1." in notices
    assert status.status in ("pending", "building", "completed")
