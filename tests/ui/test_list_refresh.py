"""Pilot tests of the job list's cursor and scroll position across refreshes
that move or add rows above the cursor."""

from __future__ import annotations

from pathlib import Path

from plexe_tui.ui.widgets.job_table import JobTable
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    cursor_key,
    make_app,
    settle,
    table_rows,
    write_jobs,
)
from tests.ui.test_jobs_screen import many_jobs, press_until_sorted

JOB_COUNT = 300
# Builds that complete in the refresh: few enough that the cursor stays in view.
COMPLETED_COUNT = 3
# Keys that put the cursor four pages down, in the middle of the view, so a
# row more or less above it keeps it in view: the table then keeps its scroll
# position.
MID_VIEW_KEYS = ("pagedown",) * 4 + ("k",) * 15


async def test_refresh_moving_rows_above_cursor(
    platform: FakePlatform, config_dir: Path
) -> None:
    """Sorted by status, builds above the cursor complete and move below it."""
    jobs = many_jobs(platform.url, JOB_COUNT)
    write_jobs(config_dir, jobs)
    building = [str(t["model_name"]) for t in jobs if t["status"] == "building"]
    for table_ in jobs:
        if table_["status"] in ("building", "pending"):
            platform.set_build(str(table_["model_name"]), "1", status=table_["status"])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await press_until_sorted(pilot, "Status")
        await pilot.press("home", *MID_VIEW_KEYS)
        await settle(pilot)
        table = pilot.app.screen.query_one("#jobs", JobTable)
        selected = cursor_key(pilot)
        index_before = list(table_rows(pilot)).index(selected or "")
        scroll = table.scroll_offset.y

        for name in building[:COMPLETED_COUNT]:
            platform.set_build(name, "1", status="completed")
        await pilot.press("r")
        await settle(pilot)
        order = list(table_rows(pilot))
        after_scroll = table.scroll_offset.y
        after_cursor = cursor_key(pilot)

    assert scroll > 0
    assert len(building) < index_before
    assert after_cursor == selected
    assert order.index(selected or "") == index_before - COMPLETED_COUNT
    assert after_scroll == scroll


async def test_refresh_adding_rows_above_cursor(
    platform: FakePlatform, config_dir: Path
) -> None:
    """The server lists a newer build, which the default order puts on top."""
    jobs = many_jobs(platform.url, JOB_COUNT)
    write_jobs(config_dir, jobs)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*MID_VIEW_KEYS)
        await settle(pilot)
        table = pilot.app.screen.query_one("#jobs", JobTable)
        selected = cursor_key(pilot)
        index_before = list(table_rows(pilot)).index(selected or "")
        scroll = table.scroll_offset.y

        platform.respond(
            "GET",
            "/models",
            json=[
                {
                    "model_id": "console:1",
                    "status": "BUILDING",
                    "goal": "predict churn from the platform console",
                    "created_at": "2025-03-14T11:59:30Z",
                    "updated_at": "2025-03-14T11:59:40Z",
                }
            ],
            times=None,
        )
        await pilot.press("r")
        await settle(pilot)
        order = list(table_rows(pilot))
        after_scroll = table.scroll_offset.y
        after_cursor = cursor_key(pilot)

    assert scroll > 0
    assert order[0] == f"console:1@{platform.url}"
    assert after_cursor == selected
    assert order.index(selected or "") == index_before + 1
    assert after_scroll == scroll
