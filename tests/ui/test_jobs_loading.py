"""The app reads the newest jobs before its first frame and the rest after it."""

from __future__ import annotations

import gc
from pathlib import Path

from plexe_tui.ui.app import FIRST_FRAME_JOBS
from plexe_tui.ui.screens.jobs import JobsScreen
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    read_jobs,
    settle,
    table_rows,
    wait_until,
    write_jobs,
)

EXTRA_JOBS = 30


def many_jobs(server: str, count: int) -> list[dict[str, object]]:
    """Return `count` completed jobs, newest first, as the app saves them."""
    return [
        job_table(
            f"job-{number:04d}",
            "1",
            server,
            status="completed",
            created_at=f"2025-03-{1 + number // 1440:02d}T"
            f"{number // 60 % 24:02d}:{number % 60:02d}:00+00:00",
        )
        for number in reversed(range(count))
    ]


async def test_all_jobs_after_first_frame(
    platform: FakePlatform, config_dir: Path
) -> None:
    count = FIRST_FRAME_JOBS + EXTRA_JOBS
    write_jobs(config_dir, many_jobs(platform.url, count))

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(pilot, lambda: app.book.complete, "the whole jobs file")
        await settle(pilot)
        rows = table_rows(pilot)

        assert len(app.book) == count
        assert len(rows) == count
        assert next(iter(rows)) == f"job-{count - 1:04d}:1@{platform.url}"


async def test_rows_prepared_after_full_load(
    platform: FakePlatform, config_dir: Path
) -> None:
    # Jobs read after the first frame get their filter rows in the
    # background too, or the first keystroke of a filter prepares them all.
    count = FIRST_FRAME_JOBS + EXTRA_JOBS
    write_jobs(config_dir, many_jobs(platform.url, count))

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(pilot, lambda: app.book.complete, "the whole jobs file")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, JobsScreen)

        assert screen.jobs.prepared_count == count


async def test_history_rows_left_out_of_collections(
    platform: FakePlatform, config_dir: Path
) -> None:
    # A full garbage collection walks every object that is not frozen, on
    # the UI's thread, and the rows of a long history live as long as their
    # jobs. The rows of this many jobs take several steps to prepare.
    count = 2000
    write_jobs(config_dir, many_jobs(platform.url, count))

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until(pilot, lambda: app.book.complete, "the whole jobs file")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, JobsScreen)
        rows = {id(screen.jobs.row(key)) for key in screen.jobs.order}
        collected = [item for item in gc.get_objects() if id(item) in rows]

        assert len(rows) == count
        assert collected == []


async def test_save_returning_loaded_jobs_ignored(
    platform: FakePlatform, config_dir: Path
) -> None:
    # A save that started before the full load merges with the file and
    # returns every job the first frame lacked, which the load read since.
    write_jobs(config_dir, many_jobs(platform.url, 3))

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        published: list[set[str]] = []
        app.jobs_changed.subscribe(app.screen, published.append)
        known = app.book.ordered()
        newer = known[0].copy()
        newer.status = "failed"
        newer.updated_at = "2025-03-14T12:30:00+00:00"

        app.take_jobs_from_disk([job.copy() for job in known[1:]] + [newer])
        await settle(pilot)

        assert published == [{newer.key}]
        assert app.book.get(newer.key) is newer
        assert all(app.book.get(job.key) is job for job in known[1:])


async def test_save_before_full_load_keeps_jobs(
    platform: FakePlatform, config_dir: Path
) -> None:
    count = FIRST_FRAME_JOBS + EXTRA_JOBS
    write_jobs(config_dir, many_jobs(platform.url, count))

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        # A save from the first frame's jobs alone merges with the file.
        app.request_save()
        await settle(pilot)

        assert len(app.book) == count
    assert len(read_jobs(config_dir)) == count


async def test_corrupt_tail_warns_keeps_head(
    platform: FakePlatform, config_dir: Path
) -> None:
    count = FIRST_FRAME_JOBS + EXTRA_JOBS
    path = write_jobs(config_dir, many_jobs(platform.url, count))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n[[jobs]]\nmodel_name = \n")

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        messages = [str(notice.message) for notice in app._notifications]

        assert len(app.book) == FIRST_FRAME_JOBS
        assert any("not valid TOML" in message for message in messages)
        assert list(config_dir.glob("jobs.toml.corrupt-*"))
