"""A local engine that cannot start, because another engine locks its data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Select

from plexe_tui.ui.app import AppSettings, create_app
from plexe_tui.ui.screens.detail import DetailScreen
from tests.engine.engine_harness import EngineProcess
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    enter_value,
    fixed_clock,
    make_app,
    open_new_form,
    submit_status,
    toasts,
    wait_for_screen,
    wait_until,
)

# Seconds: the app tries to start its engine at least twice in this time.
START_ATTEMPTS_SECONDS = 60.0


@pytest.fixture
def folder_holder(tmp_path: Path) -> Iterator[EngineProcess]:
    """An engine started by hand on the folder the app's engine wants."""
    engine = EngineProcess(tmp_path / "engine", tmp_path / "holder.log")
    engine.start()
    yield engine
    engine.close()


async def test_failed_restart_not_announced(
    tmp_path: Path, folder_holder: EngineProcess
) -> None:
    """Each new attempt to start the engine fails, and no toast claims it worked."""
    settings = AppSettings(
        base_url=None,
        api_key=None,
        config_dir=tmp_path / "config",
        engine_data_dir=folder_holder.data_dir,
        log_dir=tmp_path / "log",
        poll_interval=1.0,
        clock=fixed_clock,
    )
    app = create_app(settings)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        engine = app.connection.engine
        assert engine is not None
        first_pid: list[int | None] = []

        def tried_again() -> bool:
            if not first_pid and engine.pid is not None and engine.exited:
                first_pid.append(engine.pid)
            return (
                bool(first_pid)
                and engine.pid != first_pid[0]
                and not app.connection.starting
                and app.connection.error is not None
            )

        await wait_until(
            pilot, tried_again, "a second start of the engine", START_ATTEMPTS_SECONDS
        )
        await pilot.pause()
        messages = [message for _, message, _ in toasts(pilot)]
        error = app.connection.error

    assert error is not None
    assert "uses the data folder" in error
    assert not any("started again" in message for message in messages)


async def test_submit_retries_engine_start(
    platform: FakePlatform,
    tmp_path: Path,
    folder_holder: EngineProcess,
    dataset_file: Path,
) -> None:
    """Once the other engine stops, the next submit starts the local engine."""
    app = make_app(
        platform.url,
        tmp_path / "config",
        engine_data_dir=folder_holder.data_dir,
        log_dir=tmp_path / "log",
    )
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_new_form(pilot)
        screen.query_one("#server", Select).value = "local"
        await enter_value(pilot, "model_name", "held")
        await enter_value(pilot, "goal", "predict the diagnosis")
        await enter_value(pilot, "dataset", str(dataset_file))
        await enter_value(pilot, "max_iterations", "1")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: submit_status(pilot).startswith("The build was not started"),
            "the failed submit",
            START_ATTEMPTS_SECONDS,
        )
        failed_status = submit_status(pilot)

        folder_holder.close()
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, DetailScreen),
            "the build's detail",
            START_ATTEMPTS_SECONDS,
        )
        detail = await wait_for_screen(pilot, DetailScreen)
        job = app.book.get(detail.key)

    assert "uses the data folder" in failed_status
    assert job is not None
    assert job.server == "local"
