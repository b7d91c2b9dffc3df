"""Pilot tests of forgotten jobs: they stay gone after polls, restarts and saves
of a second app instance on the same jobs file."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.pilot import Pilot

from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.screens.detail import DetailScreen
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    read_jobs,
    settle,
    table_rows,
    wait_for_screen,
    wait_until,
    write_jobs,
)


def write_two_jobs(config_dir: Path, server: str) -> None:
    churn = job_table("churn", "4", server, status="completed")
    prices = job_table(
        "prices", "1", server, status="failed", created_at="2025-03-14T11:00:00+00:00"
    )
    write_jobs(config_dir, [churn, prices])


async def forget_first_job(pilot: Pilot[PlexeApp]) -> None:
    """Open the first job of the list, press f and confirm."""
    await settle(pilot)
    await pilot.press("enter")
    await wait_for_screen(pilot, DetailScreen)
    await pilot.press("f")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ChoiceScreen)
    await pilot.click("#forget")
    await settle(pilot)


async def poll(pilot: Pilot[PlexeApp]) -> None:
    await pilot.press("r")
    await settle(pilot)


def saved_names(config_dir: Path) -> list[str]:
    return sorted(table["model_name"] for table in read_jobs(config_dir))


def forgotten_keys(config_dir: Path) -> list[str]:
    text = (config_dir / "jobs.toml").read_text("utf-8")
    return sorted(tomllib.loads(text).get("forgotten", {}))


async def test_listed_job_stays_forgotten(
    platform: FakePlatform, config_dir: Path
) -> None:
    """The server still lists the build; neither a poll nor a restart brings it back."""
    churn = f"churn:4@{platform.url}"
    write_two_jobs(config_dir, platform.url)
    platform.set_build("churn", "4", status="completed")
    app = make_app(platform.url, config_dir)

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await forget_first_job(pilot)
        await poll(pilot)
        await poll(pilot)
        rows_after_poll = list(table_rows(pilot))
        await pilot.press("q")

    restarted = make_app(platform.url, config_dir)
    async with restarted.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await poll(pilot)
        rows_after_restart = list(table_rows(pilot))
        await pilot.press("q")

    assert platform.count("GET", "/models") >= 3
    assert rows_after_poll == [f"prices:1@{platform.url}"]
    assert rows_after_restart == [f"prices:1@{platform.url}"]
    assert restarted.book.get(churn) is None
    assert saved_names(config_dir) == ["prices"]
    assert forgotten_keys(config_dir) == [churn]


async def test_second_instance_cannot_bring_back(
    platform: FakePlatform, config_dir: Path
) -> None:
    """Two apps on one jobs file: one forgets a job, the other saves next."""
    churn = f"churn:4@{platform.url}"
    write_two_jobs(config_dir, platform.url)
    first = make_app(platform.url, config_dir)
    second = make_app(platform.url, config_dir)

    async with (
        first.run_test(size=TERMINAL_SIZE) as first_pilot,
        second.run_test(size=TERMINAL_SIZE) as second_pilot,
    ):
        await settle(first_pilot)
        await settle(second_pilot)
        had_it = second.book.get(churn) is not None

        await forget_first_job(first_pilot)
        # A build started elsewhere gives the second app a reason to save.
        platform.set_build("fresh", "1", status="completed")
        await poll(second_pilot)
        await wait_until(
            second_pilot,
            lambda: "fresh" in saved_names(config_dir),
            "the second app's save",
        )
        await settle(second_pilot)
        second_rows = list(table_rows(second_pilot))

    assert had_it
    assert saved_names(config_dir) == ["fresh", "prices"]
    assert forgotten_keys(config_dir) == [churn]
    assert second.book.get(churn) is None
    assert churn not in second_rows
    assert f"fresh:1@{platform.url}" in second_rows
