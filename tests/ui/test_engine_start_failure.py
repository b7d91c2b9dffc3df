"""A local engine that cannot start, because another engine holds its data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from plexe_tui.ui.app import AppSettings, create_app
from tests.engine.engine_harness import EngineProcess
from tests.ui.helpers import TERMINAL_SIZE, fixed_clock, toasts, wait_until

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
    """Each new attempt to start the engine fails, and the app says only that."""
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
