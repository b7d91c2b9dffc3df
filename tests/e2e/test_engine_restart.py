"""The local engine killed while a job's detail is open, on a real engine process."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from plexe_tui.ui.app import AppSettings, create_app
from plexe_tui.ui.connection import LOCAL_SERVER, Connection
from plexe_tui.ui.screens.detail import DetailScreen
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    toasts,
    wait_for_screen,
    wait_until,
    write_jobs,
)

# Seconds. Starting the engine takes a few seconds on a loaded 2-core machine.
ENGINE_TIMEOUT = 120.0
# Seconds between the app's own poll rounds: longer than the test, so only the
# detail screen's poll can notice the dead engine.
QUIET_POLL_INTERVAL = 3600.0
RESTART_NOTICE = (
    "The local engine stopped unexpectedly and was started again; "
    "unfinished builds resume."
)

pytestmark = pytest.mark.slow


async def test_detail_poll_restarts_engine(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    # The engine does not know this build, so once running it returns 404.
    write_jobs(config_dir, [job_table("ghost", "1", LOCAL_SERVER, status="building")])
    settings = AppSettings(
        base_url=None,
        api_key=None,
        config_dir=config_dir,
        engine_data_dir=tmp_path / "engine",
        log_dir=tmp_path / "log",
        poll_interval=QUIET_POLL_INTERVAL,
    )
    app = create_app(settings)

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: app.poller.last_success is not None,
            "the first poll of the engine",
            ENGINE_TIMEOUT,
        )
        engine = app.connection.engine
        assert engine is not None
        first_pid = engine.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        await wait_until(pilot, lambda: engine.exited, "the engine to exit")

        await pilot.press("enter")
        detail = await wait_for_screen(pilot, DetailScreen)
        await wait_until(
            pilot,
            lambda: engine.pid != first_pid and not app.connection.starting,
            "the engine to be started again",
            ENGINE_TIMEOUT,
        )
        poller = detail.poller
        assert poller is not None
        await wait_until(pilot, lambda: poller.stopped, "the detail poll's 404")
        failure = poller.failure
        shown = [message for _, message, _ in toasts(pilot)]

    assert failure is None
    assert RESTART_NOTICE in shown


async def test_racing_restarts_start_one_engine(tmp_path: Path) -> None:
    connection = Connection(
        None, engine_data_dir=tmp_path / "engine", engine_log=tmp_path / "engine.log"
    )
    await connection.open()
    try:
        engine = connection.engine
        assert engine is not None
        first_pid = engine.pid
        assert first_pid is not None
        old_client = await connection.client()
        os.kill(first_pid, signal.SIGKILL)
        deadline = time.monotonic() + ENGINE_TIMEOUT
        while not engine.exited and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        lost_before = connection.lost_engine(old_client)

        restarted = await asyncio.gather(
            connection.restart_if_exited(), connection.restart_if_exited()
        )
        new_client = await connection.client()
        health = await new_client.health()
    finally:
        await connection.close()

    assert lost_before
    assert sorted(restarted) == [False, True]
    assert engine.pid != first_pid
    assert health["status"] == "ok"
    assert connection.lost_engine(old_client)
