"""Pilot tests of the poll loops: request budget, back-off, model lists, servers.

Every test drives time by hand with ManualTime, so minutes of polling take a
fraction of a second and no test waits on a real timer.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from plexe_tui.ui import server_sync
from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.screens.jobs import JobsScreen
from plexe_tui.ui.servers import REMOTE_POLICY, server_label
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    read_jobs,
    settle,
    table_rows,
    write_jobs,
)
from tests.ui.manual_time import ManualTime

NAME, STATUS, METRIC = 0, 1, 2
"""Columns of the jobs table."""

ACTIVE_BUILDS = 50
MAX_REQUESTS_PER_MINUTE = 12
WARM_UP_SECONDS = 60.0
MEASURED_MINUTES = 4


def timed_app(
    url: str, config_dir: Path, time: ManualTime, **settings: Any
) -> PlexeApp:
    """Build the app with the default poll interval, on the hand-driven clock."""
    return make_app(
        url,
        config_dir,
        poll_interval=None,
        monotonic=time.monotonic,
        scheduler=time.schedule,
        **settings,
    )


def server_line(pilot: Pilot[PlexeApp]) -> str:
    """Redraw the jobs screen's status line now, and return its text."""
    screen = pilot.app.screen
    assert isinstance(screen, JobsScreen)
    screen.tick()
    return str(screen.query_one("#server-line", Static).content)


def building_jobs(platform: FakePlatform, count: int) -> list[dict[str, object]]:
    """Start `count` builds on the platform; return them as history tables."""
    tables = []
    for index in range(count):
        name = f"model-{index:02d}"
        platform.set_build(name, "1", status="building", build_progress=10.0)
        tables.append(job_table(name, "1", platform.url, status="building"))
    return tables


def per_minute(counts: Counter[str], minutes: float) -> float:
    return sum(counts.values()) / minutes


async def measure(
    pilot: Pilot[PlexeApp], time: ManualTime, platform: FakePlatform
) -> Counter[str]:
    """Let the app reach a steady state, then count the requests of a few minutes."""
    await settle(pilot)
    await time.run_for(pilot, WARM_UP_SECONDS)
    before = platform.request_counts()
    await time.run_for(pilot, MEASURED_MINUTES * 60)
    return platform.request_counts() - before


async def test_fifty_builds_within_budget(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, building_jobs(platform, ACTIVE_BUILDS))
    time = ManualTime()
    app = timed_app(platform.url, config_dir, time)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        counts = await measure(pilot, time, platform)
        platform.set_build(
            "model-07",
            "1",
            status="completed",
            result={"metric_name": "accuracy", "metric_value": 0.93},
        )
        await time.run_for(pilot, REMOTE_POLICY.interval)
        row = table_rows(pilot)[f"model-07:1@{platform.url}"]

    assert per_minute(counts, MEASURED_MINUTES) <= MAX_REQUESTS_PER_MINUTE
    assert counts["GET /models"] >= MEASURED_MINUTES * 60 / REMOTE_POLICY.interval
    assert not [path for path in counts if path.endswith("/status")]
    assert row[STATUS] == "completed"
    assert row[METRIC] == "accuracy = 0.93"


async def test_per_build_fallback_within_budget(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.respond(
        "GET", "/models", status=405, text="Method Not Allowed", times=None
    )
    write_jobs(config_dir, building_jobs(platform, ACTIVE_BUILDS))
    time = ManualTime()
    app = timed_app(platform.url, config_dir, time)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        counts = await measure(pilot, time, platform)

    status_paths = [path for path in counts if path.endswith("/status")]
    assert per_minute(counts, MEASURED_MINUTES) <= MAX_REQUESTS_PER_MINUTE
    assert counts["GET /models"] == 0
    # Round robin: the longest-waiting builds go first, so none is starved.
    assert len(status_paths) == min(ACTIVE_BUILDS, sum(counts.values()))


async def test_finished_build_not_polled_again(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.respond("GET", "/models", status=404, text="Not Found", times=None)
    write_jobs(config_dir, building_jobs(platform, 2))
    status_path = "/models/model-00/1/status"
    time = ManualTime()
    app = timed_app(platform.url, config_dir, time)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        platform.set_build("model-00", "1", status="failed", error="out of memory")
        await time.run_for(pilot, REMOTE_POLICY.interval)
        row = table_rows(pilot)[f"model-00:1@{platform.url}"]
        calls_when_ended = platform.count("GET", status_path)
        await time.run_for(pilot, 10 * REMOTE_POLICY.interval)

    assert row[STATUS] == "failed"
    assert platform.count("GET", status_path) == calls_when_ended
    assert platform.count("GET", "/models/model-01/1/status") >= 10


async def test_old_active_builds_found_by_status(
    platform: FakePlatform, config_dir: Path
) -> None:
    old = building_jobs(platform, 5)
    for index in range(150):
        platform.set_build(f"newer-{index:03d}", "1", status="completed")
    write_jobs(config_dir, old)
    time = ManualTime()
    app = timed_app(platform.url, config_dir, time)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        counts = await measure(pilot, time, platform)
        platform.set_build("model-03", "1", status="completed")
        await time.run_for(pilot, REMOTE_POLICY.interval * 2)
        row = table_rows(pilot)[f"model-03:1@{platform.url}"]

    filtered = [
        r for r in platform.requests_to("GET", "/models") if r.query.get("status")
    ]
    assert filtered
    assert {r.query["status"] for r in filtered} == {"building"}
    assert per_minute(counts, MEASURED_MINUTES) <= MAX_REQUESTS_PER_MINUTE
    assert row[STATUS] == "completed"


async def test_failures_back_off_with_jitter(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, building_jobs(platform, 1))
    platform.respond("GET", "/models", status=503, text="busy", times=3)
    time = ManualTime()
    app = timed_app(platform.url, config_dir, time)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        delays = []
        for _ in range(4):
            delay = time.next_delay()
            assert delay is not None
            delays.append(delay)
            await time.run_for(pilot, delay)
        line = server_line(pilot)

    for delay, base in zip(delays, (2.0, 4.0, 8.0), strict=False):
        assert base * 0.8 <= delay <= base * 1.2
    assert round(delays[3], 6) == REMOTE_POLICY.interval
    assert "updated 0 s ago" in line


async def test_retry_after_is_honoured(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, building_jobs(platform, 1))
    platform.respond("GET", "/models", status=429, headers={"retry-after": "40"})
    time = ManualTime()
    app = timed_app(platform.url, config_dir, time)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        delay = time.next_delay()
        first_line = server_line(pilot)
        await time.run_for(pilot, 20)
        later_line = server_line(pilot)
        requests_while_waiting = platform.count("GET", "/models")
        await time.run_for(pilot, 20)
        after_line = server_line(pilot)

    assert delay is not None
    assert round(delay, 6) == 40
    assert "offline, retrying in 40 s: Rate limited by the server (429)." in first_line
    assert "offline, retrying in 20 s" in later_line
    assert requests_while_waiting == 1
    assert "updated 0 s ago" in after_line


async def test_status_line_ages(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, building_jobs(platform, 1))
    time = ManualTime()
    app = timed_app(platform.url, config_dir, time)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        first = server_line(pilot)
        await time.run_for(pilot, 5)
        later = server_line(pilot)

    assert first == f"Server: {platform.url} · updated 0 s ago · 1 job, 1 active"
    assert later == f"Server: {platform.url} · updated 5 s ago · 1 job, 1 active"


def console_builds(platform: FakePlatform) -> None:
    """Start two builds as another client would, besides this app."""
    platform.set_build(
        "console",
        "3",
        status="completed",
        goal="predict churn [from the console]",
        result={"metric_name": "roc_auc", "metric_value": 0.88},
        created_at="2025-03-14T10:00:00+00:00",
    )
    platform.set_build(
        "laptop-model",
        "1",
        status="building",
        build_progress=30,
        created_at="2025-03-14T11:00:00Z",
    )


async def check_listed_builds_merged(platform: FakePlatform, config_dir: Path) -> None:
    console_builds(platform)
    write_jobs(config_dir, [job_table("mine", "1", platform.url, status="completed")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        rows = table_rows(pilot)
    saved = {job["model_name"]: job for job in read_jobs(config_dir)}

    console = rows[f"console:3@{platform.url}"]
    assert console[NAME] == "console:3 external"
    assert console[STATUS] == "completed"
    assert console[METRIC] == "roc_auc = 0.88"
    assert rows[f"laptop-model:1@{platform.url}"][STATUS] == "building"
    assert rows[f"mine:1@{platform.url}"][NAME] == "mine:1"
    assert saved["console"]["origin"] == "listed"
    assert saved["console"]["goal"] == "predict churn [from the console]"
    assert saved["laptop-model"]["created_at"] == "2025-03-14T11:00:00+00:00"
    assert "origin" not in saved["mine"]


async def test_listed_builds_merged(platform: FakePlatform, config_dir: Path) -> None:
    await check_listed_builds_merged(platform, config_dir)


async def test_bare_array_list_merged(platform: FakePlatform, config_dir: Path) -> None:
    platform.list_shape = "array"
    platform.list_ids = True
    await check_listed_builds_merged(platform, config_dir)


async def test_list_limit_at_most_100(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, building_jobs(platform, 1))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
    lists = platform.requests_to("GET", "/models")

    assert lists
    assert all(int(request.query["limit"]) <= 100 for request in lists)


async def test_no_list_means_no_merge(platform: FakePlatform, config_dir: Path) -> None:
    console_builds(platform)
    platform.respond("GET", "/models", status=404, text="Not Found", times=None)
    platform.set_build("mine", "1", status="completed")
    write_jobs(config_dir, [job_table("mine", "1", platform.url, status="building")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        rows = table_rows(pilot)
        line = server_line(pilot)

    assert list(rows) == [f"mine:1@{platform.url}"]
    assert rows[f"mine:1@{platform.url}"][STATUS] == "completed"
    assert "updated 0 s ago" in line


async def test_two_servers_polled_independently(
    platform: FakePlatform, config_dir: Path
) -> None:
    second_key = "second-server-key-42"
    with FakePlatform(api_key=second_key) as second:
        platform.set_build("here", "1", status="building")
        second.set_build("there", "1", status="building")
        second.respond("GET", "/models", status=503, text="down", times=2)
        write_jobs(
            config_dir,
            [
                job_table("here", "1", platform.url, status="building"),
                job_table("there", "1", second.url, status="building"),
            ],
        )
        time = ManualTime()

        def api_key_for(url: str) -> str | None:
            return second_key if url == second.url else None

        app = timed_app(platform.url, config_dir, time, api_key_for=api_key_for)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await settle(pilot)
            failing_line = server_line(pilot)
            first_counts = platform.request_counts()

            await time.run_for(pilot, 10)
            recovered_line = server_line(pilot)
            second.set_build("there", "1", status="completed")
            await time.run_for(pilot, REMOTE_POLICY.interval)
            retired_line = server_line(pilot)
            requests_when_done = len(second.requests)
            await time.run_for(pilot, 5 * REMOTE_POLICY.interval)
            second_row = table_rows(pilot)[f"there:1@{second.url}"]

    first_label = server_label(platform.url)
    second_label = server_label(second.url)
    assert f"{first_label}: updated 0 s ago" in failing_line
    assert f"{second_label}: offline, retrying in 2 s: Server error 503" in failing_line
    assert first_counts["GET /models"] == 1
    assert f"{second_label}: updated" in recovered_line
    assert second.requests[-1].headers.get("x-api-key") == second_key
    assert second_row[STATUS] == "completed"
    assert retired_line.startswith(f"Server: {platform.url} · updated")
    assert len(second.requests) == requests_when_done


async def test_older_listed_builds_backfilled(
    platform: FakePlatform, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_sync, "MAX_BACKFILL_PAGES", 2)
    for index in range(350):
        platform.set_build(f"old-{index:03d}", "1", status="completed")
    time = ManualTime()
    app = timed_app(platform.url, config_dir, time)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        after_first_round = len(pilot.app.book)
        await time.run_for(pilot, 5 * REMOTE_POLICY.interval)
        after_backfill = len(pilot.app.book)
    offsets = [int(r.query["offset"]) for r in platform.requests_to("GET", "/models")]

    assert after_first_round == 200
    # The first page and two older pages: the newest 300 of 350 models.
    assert after_backfill == 300
    assert offsets[:4] == [0, 100, 0, 200]
    assert set(offsets[4:]) == {0}
