"""Pilot tests of the app when the server is down, failing or rejecting the key."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from tests.fake_platform import FakePlatform, closed_port_url
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    paste_into,
    static_text,
    table_rows,
    type_into,
    wait_until,
    write_jobs,
)

STATUS = 1
"""Column of the status word in the jobs table."""

RETRY_WAIT = re.compile(r"offline, retrying in (\d+) s: ")


def server_line(pilot: Pilot[PlexeApp]) -> str:
    """Return the whole text of the jobs screen's server line, shown or cut off."""
    return str(pilot.app.screen.query_one("#server-line", Static).content)


def two_jobs(server: str) -> list[dict[str, object]]:
    """Return an active and a finished job on `server`."""
    return [
        job_table("churn", "1", server, status="building", build_progress=20.0),
        job_table(
            "cancer",
            "1",
            server,
            status="completed",
            metric_name="accuracy",
            metric_value=0.9,
            created_at="2025-03-13T08:00:00+00:00",
        ),
    ]


async def test_closed_port_keeps_app_usable(config_dir: Path) -> None:
    url = closed_port_url()
    write_jobs(config_dir, two_jobs(url))
    app = make_app(url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        rows = table_rows(pilot)
        assert rows[f"churn:1@{url}"][STATUS] == "building"
        assert rows[f"cancer:1@{url}"][STATUS] == "completed"

        await wait_until(
            pilot,
            lambda: "offline, retrying in" in server_line(pilot),
            "the offline notice on the server line",
        )
        line = server_line(pilot)
        assert line.startswith(f"Server: {url} · offline, retrying in ")
        assert f"Cannot reach {url}" in line
        assert line.endswith("2 jobs, 1 active")

        await pilot.press("n")
        await pilot.pause()
        assert isinstance(pilot.app.screen, BuildScreen)

        await pilot.press("escape")
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(pilot.app.screen, JobsScreen)

        # run_test re-raises any exception the app hit; q must still quit cleanly.
        await pilot.press("q")

    assert app.return_code == 0


async def test_closed_port_detail_offline(config_dir: Path) -> None:
    url = closed_port_url()
    write_jobs(config_dir, two_jobs(url))
    app = make_app(url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, DetailScreen)

        await wait_until(
            pilot,
            lambda: (
                static_text(pilot, "#poll-line").strip().startswith("Offline, retrying")
            ),
            "the offline notice on the detail screen",
        )

        assert f"Cannot reach {url}" in static_text(pilot, "#poll-line")
        assert "building" in static_text(pilot, "#headline")


async def test_closed_port_submit_message(config_dir: Path) -> None:
    url = closed_port_url()
    app = make_app(url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await type_into(pilot, "#model_name", "churn")
        await paste_into(pilot, "#goal", "Predict churn")
        await paste_into(pilot, "#dataset", "upl-3")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: "not started" in static_text(pilot, "#submit-status"),
            "the submit failure message",
        )
        status = static_text(pilot, "#submit-status")

        assert status.startswith(f"The build was not started: Cannot reach {url}")
        assert isinstance(pilot.app.screen, BuildScreen)

    assert not (config_dir / "jobs.toml").exists()


async def test_server_error_shows_retrying(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, two_jobs(platform.url))
    platform.respond(
        "GET",
        "/models/churn/1/status",
        status=503,
        text="<html><body><h1>503 Service Unavailable</h1></body></html>",
        headers={"content-type": "text/html"},
        times=None,
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "offline, retrying" in server_line(pilot),
            "the retry notice on the server line",
        )
        line = server_line(pilot)

        assert "Server error 503: 503 Service Unavailable" in line
        assert "<html>" not in line
        assert table_rows(pilot)[f"churn:1@{platform.url}"][STATUS] == "building"


async def test_rate_limit_waits_retry_after(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, two_jobs(platform.url))
    platform.respond(
        "GET", "/models/churn/1/status", status=429, headers={"retry-after": "40"}
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "offline, retrying" in server_line(pilot),
            "the rate limit notice on the server line",
        )
        line = server_line(pilot)
        wait = RETRY_WAIT.search(line)

        assert wait is not None
        assert 35 <= int(wait.group(1)) <= 40
        assert "Rate limited by the server (429)." in line


async def test_wrong_key_is_reported(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, two_jobs(platform.url))
    platform.set_build("churn", "1", status="building", build_progress=20)
    app = make_app(platform.url, config_dir, api_key="wrong-key")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "API key" in server_line(pilot),
            "the rejected key on the server line",
        )
        await pilot.pause()  # Lets the line grow to the height of its text.
        line = server_line(pilot)
        rendered = " ".join(static_text(pilot, "#server-line").split())

        assert "The server rejected the API key (401" in line
        assert "wrong-key" not in line
        assert "The key is read from PLEXE_API_KEY" in rendered
        assert rendered.endswith("2 jobs, 1 active")
