"""Pilot tests of the app when its jobs file cannot be read, wholly or in part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plexe_tui.ui.app import JOBS_FILE_WARNING_SECONDS, PlexeApp
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

TITLE = "Jobs file"
"""Title of the app's notifications about the jobs file."""


def record_notifications(app: PlexeApp) -> list[dict[str, Any]]:
    """Record every notification the app shows, and still show it."""
    shown: list[dict[str, Any]] = []
    notify = app.notify

    def recording(message: str, **options: Any) -> None:
        shown.append({"message": message, **options})
        notify(message, **options)

    app.notify = recording  # type: ignore[method-assign]
    return shown


def about_jobs_file(shown: list[dict[str, Any]]) -> list[str]:
    return [item["message"] for item in shown if item.get("title") == TITLE]


async def run_and_poll(app: PlexeApp) -> list[dict[str, Any]]:
    """Run the app, poll three times, and return the notifications it showed."""
    shown = record_notifications(app)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        for _ in range(3):
            await pilot.press("r")
            await settle(pilot)
        await pilot.press("q")
    return shown


async def test_corrupt_file_reported_once(
    platform: FakePlatform, config_dir: Path
) -> None:
    original = b'version = 1\n[[jobs]\nmodel_name = "churn'
    (config_dir / "jobs.toml").write_bytes(original)

    first = await run_and_poll(make_app(platform.url, config_dir))
    second = await run_and_poll(make_app(platform.url, config_dir))

    messages = about_jobs_file(first)
    assert len(messages) == 1
    assert [item["timeout"] for item in first if item.get("title") == TITLE] == [
        JOBS_FILE_WARNING_SECONDS
    ]
    assert "not valid TOML" in messages[0]
    assert "It was moved to jobs.toml.corrupt-" in messages[0]
    assert about_jobs_file(second) == []
    (aside,) = config_dir.glob("jobs.toml.corrupt-*")
    assert aside.read_bytes() == original


async def test_foreign_file_reported_once(
    platform: FakePlatform, config_dir: Path
) -> None:
    (config_dir / "jobs.toml").write_text('[tool.poetry]\nname = "x"\n', "utf-8")

    shown = await run_and_poll(make_app(platform.url, config_dir))

    messages = about_jobs_file(shown)
    assert len(messages) == 1
    assert "not a plexe-tui jobs file" in messages[0]


async def test_partly_readable_file_shows_good_jobs(
    platform: FakePlatform, config_dir: Path
) -> None:
    good = job_table("churn", "1", platform.url, status="completed")
    bad = job_table("broken", "1", platform.url)
    del bad["server"]
    write_jobs(config_dir, [good, bad])
    app = make_app(platform.url, config_dir)
    shown = record_notifications(app)

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        rows = table_rows(pilot)
        await pilot.press("r")
        await settle(pilot)

    assert list(rows) == [f"churn:1@{platform.url}"]
    messages = about_jobs_file(shown)
    assert len(messages) == 1
    assert messages[0].startswith("1 job in ")
    assert "it has no server" in messages[0]


async def test_file_broken_while_running(
    platform: FakePlatform, config_dir: Path
) -> None:
    """A file broken while the app runs is set aside at the next save, once."""
    key = f"churn:1@{platform.url}"
    write_jobs(config_dir, [job_table("churn", "1", platform.url, status="building")])
    platform.set_build("churn", "1", status="building", build_progress=10.0)
    app = make_app(platform.url, config_dir)
    shown = record_notifications(app)
    garbage = b'version = 1\n[[jobs]\nmodel_name = "hand-edit'

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        (config_dir / "jobs.toml").write_bytes(garbage)
        for progress in (40.0, 70.0):
            platform.set_build("churn", "1", status="building", build_progress=progress)
            await pilot.press("r")
            await settle(pilot)
        rows = table_rows(pilot)
        await pilot.press("q")

    messages = about_jobs_file(shown)
    assert len(messages) == 1
    assert "not valid TOML" in messages[0]
    assert "The app wrote the jobs it had in memory to a new file." in messages[0]
    (aside,) = config_dir.glob("jobs.toml.corrupt-*")
    assert aside.read_bytes() == garbage
    assert aside.name in messages[0]
    assert list(rows) == [key]
    (saved,) = read_jobs(config_dir)
    assert saved["build_progress"] == 70.0


async def test_file_emptied_then_quit(platform: FakePlatform, config_dir: Path) -> None:
    """With no save left to do, quitting still writes the jobs back."""
    write_jobs(config_dir, [job_table("churn", "1", platform.url, status="completed")])
    app = make_app(platform.url, config_dir)

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        (config_dir / "jobs.toml").write_bytes(b"")
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("q")

    assert [table["model_name"] for table in read_jobs(config_dir)] == ["churn"]
    (aside,) = config_dir.glob("jobs.toml.corrupt-*")
    assert aside.read_bytes() == b""


async def test_quit_without_changes_leaves_file(
    platform: FakePlatform, config_dir: Path
) -> None:
    path = write_jobs(
        config_dir, [job_table("churn", "1", platform.url, status="completed")]
    )
    before = path.read_bytes()
    app = make_app(platform.url, config_dir)

    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")

    assert path.read_bytes() == before
