"""Pilot tests of the jobs file's size bound, set by `max_jobs` in config.toml."""

from __future__ import annotations

from pathlib import Path

from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    read_jobs,
    settle,
    wait_until,
    write_jobs,
)


def day(number: int) -> str:
    return f"2025-03-{number:02d}T12:00:00+00:00"


def write_config(config_dir: Path, text: str) -> None:
    path = config_dir / "config.toml"
    path.write_text(f"version = 1\n{text}\n", "utf-8")
    path.chmod(0o600)


def saved_names(config_dir: Path) -> list[str]:
    return [table["model_name"] for table in read_jobs(config_dir)]


async def test_configured_bound_drops_oldest_finished(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_config(config_dir, "max_jobs = 4")
    finished = [
        job_table(f"done-{n}", "1", platform.url, status="completed", created_at=day(n))
        for n in range(2, 7)
    ]
    active = [
        job_table("run-old", "1", platform.url, status="building", created_at=day(1)),
        job_table("wait-old", "1", platform.url, status="pending", created_at=day(1)),
    ]
    write_jobs(config_dir, finished + active)
    platform.set_build("run-old", "1", status="building")
    platform.set_build("wait-old", "1", status="pending")
    # A build that another client started: the poll lists it, the app adds it,
    # and the save that follows applies the bound.
    platform.set_build("fresh", "1", status="completed")
    app = make_app(platform.url, config_dir)

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(
            pilot, lambda: "fresh" in saved_names(config_dir), "the listed build saved"
        )
        await settle(pilot)
        await pilot.press("q")

    assert app.book.store.max_jobs == 4
    names = saved_names(config_dir)
    # Eight jobs, four over the bound: the four oldest finished ones went.
    assert sorted(names) == ["done-6", "fresh", "run-old", "wait-old"]


async def test_bound_keeps_every_active_job(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_config(config_dir, "max_jobs = 1")
    active = [
        job_table(f"run-{n}", "1", platform.url, status="building", created_at=day(n))
        for n in range(1, 4)
    ]
    written = write_jobs(config_dir, active).stat().st_ino
    for n in range(1, 4):
        platform.set_build(f"run-{n}", "1", status="building")
    platform.set_build("fresh", "1", status="completed")
    app = make_app(platform.url, config_dir)

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        fresh = f"fresh:1@{platform.url}"
        await wait_until(pilot, lambda: app.book.get(fresh) is not None, "the poll")
        # The save that the new job asked for runs in a worker.
        await settle(pilot)
        await pilot.press("q")

    # A save replaced the file: four jobs, three over the bound, and the only
    # finished one went.
    assert (config_dir / "jobs.toml").stat().st_ino != written
    assert sorted(saved_names(config_dir)) == ["run-1", "run-2", "run-3"]
    assert app.book.get(fresh) is not None
