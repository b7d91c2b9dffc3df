"""Pilot tests of the app under every fault of the fake platform, and its recovery.

The poller runs on manual time: a test moves the clock to the next retry instead
of sleeping through the back-off.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from plexe_tui.ui.app import PlexeApp
from tests.fake_platform import (
    FAULT_MESSAGE,
    RETRY_AFTER_SECONDS,
    UNKNOWN_STATUS_WORD,
    FakePlatform,
    Fault,
)
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    table_rows,
    wait_until,
    write_jobs,
)
from tests.ui.manual_time import ManualTime

STATUS = 1
"""Column of the status word in the jobs table."""
# Seconds. The TIMEOUT fault delays responses far longer than this.
SHORT_TIMEOUT = httpx.Timeout(0.5)

# The server line's text while each failure lasts.
FAILURE_LINES = {
    Fault.REFUSED: "offline, retrying in",
    Fault.TIMEOUT: "did not respond to GET /models",
    Fault.SERVER_ERROR: "Server error 500: Internal Server Error",
    Fault.BAD_GATEWAY: "Server error 502: 502 Bad Gateway nginx",
    Fault.RATE_LIMITED: f"retrying in {RETRY_AFTER_SECONDS} s: Rate limited",
    Fault.MALFORMED_JSON: "with a body that is not JSON",
    Fault.ERROR_OBJECT: f"Server error 503: {FAULT_MESSAGE}",
    Fault.ERROR_DETAIL: f"Server error 503: {FAULT_MESSAGE}",
    Fault.ERROR_MESSAGE: f"Server error 503: {FAULT_MESSAGE}",
    Fault.ERROR_TEXT: f"Server error 503: {FAULT_MESSAGE}",
}
# The status the jobs table shows under each dialect. A poll reads the list of
# models first, so every dialect reaches the app through it.
DIALECT_STATUSES = {
    Fault.BARE_LIST: "building",
    Fault.UNKNOWN_STATUS: UNKNOWN_STATUS_WORD,
    Fault.UPPER_CASE_STATUS: "building",
    Fault.MISSING_FIELDS: "building",
    Fault.MODEL_ID: "building",
}


def server_line(pilot: Pilot[PlexeApp]) -> str:
    return str(pilot.app.screen.query_one("#server-line", Static).content)


def job_status(pilot: Pilot[PlexeApp], key: str) -> str:
    return table_rows(pilot)[key][STATUS]


def start_app(platform: FakePlatform, config_dir: Path) -> tuple[PlexeApp, ManualTime]:
    """Build the app on one building job, with a short timeout and manual time."""
    platform.set_build("churn", "1", status="building", build_progress=40)
    write_jobs(
        config_dir,
        [job_table("churn", "1", platform.url, status="building", build_progress=20.0)],
    )
    manual = ManualTime()
    app = make_app(
        platform.url,
        config_dir,
        monotonic=manual.monotonic,
        scheduler=manual.schedule,
    )
    app.connection.timeout = SHORT_TIMEOUT
    return app, manual


async def recover(
    pilot: Pilot[PlexeApp], platform: FakePlatform, manual: ManualTime
) -> None:
    """Let the server behave again, finish the build, and run the next poll."""
    platform.behave()
    platform.set_build(
        "churn",
        "1",
        status="completed",
        build_progress=100,
        result={"metric_name": "roc_auc", "metric_value": 0.91},
    )
    await wait_until(pilot, lambda: bool(manual.pending()), "the next poll's timer")
    manual.advance_to_next()
    key = f"churn:1@{platform.url}"
    await wait_until(
        pilot, lambda: job_status(pilot, key) == "completed", "the completed build"
    )


@pytest.mark.parametrize("fault", sorted(FAILURE_LINES))
async def test_failure_shown_then_recovered(
    fault_platform: FakePlatform, config_dir: Path, fault: Fault
) -> None:
    platform = fault_platform
    platform.misbehave(fault)
    app, manual = start_app(platform, config_dir)
    key = f"churn:1@{platform.url}"

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        expected = FAILURE_LINES[fault]
        await wait_until(
            pilot, lambda: expected in server_line(pilot), f"{expected!r} on screen"
        )
        during = server_line(pilot)
        status_during = job_status(pilot, key)

        await recover(pilot, platform, manual)
        # The job's status changes before the poll that brought it ends, and
        # the server line follows that end.
        await wait_until(
            pilot, lambda: "updated" in server_line(pilot), "the server line"
        )
        after = server_line(pilot)

    assert "retrying in" in during
    assert "Traceback" not in during
    assert status_during == "building"
    assert "retrying" not in after
    assert "updated" in after


async def test_backoff_grows_then_resets(
    fault_platform: FakePlatform, config_dir: Path
) -> None:
    platform = fault_platform
    platform.misbehave(Fault.SERVER_ERROR)
    app, manual = start_app(platform, config_dir)
    list_path = "/models"

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        waits = []
        for calls in range(1, 5):
            await wait_until(
                pilot,
                lambda calls=calls: (
                    platform.count("GET", list_path) == calls and bool(manual.pending())
                ),
                f"poll {calls}",
            )
            waits.append(manual.advance_to_next())
        await recover(pilot, platform, manual)
        await wait_until(pilot, lambda: bool(manual.pending()), "the next timer")
        after_recovery = manual.pending()[0].due - manual.now

    assert waits == sorted(waits)
    assert waits[-1] > 2 * waits[0]
    assert after_recovery == pytest.approx(app.poller.interval)


@pytest.mark.parametrize("fault", sorted(DIALECT_STATUSES))
async def test_dialect_shown_then_recovered(
    fault_platform: FakePlatform, config_dir: Path, fault: Fault
) -> None:
    platform = fault_platform
    platform.misbehave(fault)
    app, manual = start_app(platform, config_dir)
    key = f"churn:1@{platform.url}"
    expected = DIALECT_STATUSES[fault]

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: platform.count("GET", "/models") >= 1 and bool(manual.pending()),
            "the first poll",
        )
        status_during = job_status(pilot, key)
        during = server_line(pilot)

        await recover(pilot, platform, manual)

    assert status_during == expected
    assert "retrying" not in during
