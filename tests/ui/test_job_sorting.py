"""Pilot tests of sorting the job list by each column, in both directions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fake_platform import FakePlatform
from tests.ui.helpers import job_table, make_app, settle, table_rows, write_jobs
from tests.ui.test_jobs_screen import header, press_until_sorted

# A server that is never polled: its only job has ended.
OTHER_SERVER = "http://127.0.0.2:9"


def sortable_jobs(server: str) -> list[dict[str, Any]]:
    """Return six jobs whose every column sorts them differently.

    The app's clock reads 12:00, so the building and pending jobs last until
    then.
    """
    day = "2025-03-14T"
    return [
        job_table(
            "alpha",
            "1",
            server,
            status="completed",
            metric_name="roc_auc",
            metric_value=0.91,
            build_progress=100.0,
            created_at=f"{day}11:00:00+00:00",
            updated_at=f"{day}11:30:00+00:00",
        ),
        job_table(
            "bravo",
            "1",
            OTHER_SERVER,
            status="failed",
            created_at=f"{day}11:10:00+00:00",
            updated_at=f"{day}11:15:00+00:00",
        ),
        job_table(
            "charlie",
            "1",
            server,
            status="building",
            build_progress=40.0,
            created_at=f"{day}11:20:00+00:00",
            updated_at=f"{day}11:50:00+00:00",
        ),
        job_table(
            "delta",
            "1",
            server,
            status="pending",
            created_at=f"{day}11:40:00+00:00",
            updated_at=f"{day}11:40:00+00:00",
        ),
        job_table(
            "echo",
            "1",
            server,
            status="cancelled",
            created_at=f"{day}10:00:00+00:00",
            updated_at=f"{day}10:01:00+00:00",
        ),
        job_table(
            "foxtrot",
            "1",
            server,
            status="completed",
            metric_name="roc_auc",
            metric_value=0.75,
            build_progress=100.0,
            created_at=f"{day}09:00:00+00:00",
            updated_at=f"{day}11:59:00+00:00",
        ),
    ]


# Per column header: the first direction `o` sorts in, the names in that
# order, and the names after `O` reverses it. Jobs without a value come last
# in both directions, and equal values keep the newest first.
EXPECTED: dict[str, tuple[str, str, str]] = {
    "Name": (
        "▲",
        "alpha bravo charlie delta echo foxtrot",
        "foxtrot echo delta charlie bravo alpha",
    ),
    # building, pending, failed, cancelled, completed
    "Status": (
        "▲",
        "charlie delta bravo echo alpha foxtrot",
        "alpha foxtrot echo bravo delta charlie",
    ),
    "Metric": (
        "▼",
        "alpha foxtrot delta charlie bravo echo",
        "foxtrot alpha delta charlie bravo echo",
    ),
    "Progress": (
        "▼",
        "alpha foxtrot charlie delta bravo echo",
        "charlie alpha foxtrot delta bravo echo",
    ),
    # The test platform's address, 127.0.0.1, sorts before 127.0.0.2.
    "Server": (
        "▲",
        "delta charlie alpha echo foxtrot bravo",
        "bravo delta charlie alpha echo foxtrot",
    ),
    # Durations: alpha 30 min, bravo 5, charlie 40, delta 20, echo 1, foxtrot 179.
    "Duration": (
        "▼",
        "foxtrot charlie alpha delta bravo echo",
        "echo bravo delta alpha charlie foxtrot",
    ),
}


def shown_names(pilot: Any) -> str:
    return " ".join(key.split(":")[0] for key in table_rows(pilot))


@pytest.mark.parametrize("label", sorted(EXPECTED))
async def test_sort_column_both_directions(
    platform: FakePlatform, config_dir: Path, label: str
) -> None:
    platform.set_build("charlie", "1", status="building", build_progress=40.0)
    platform.set_build("delta", "1", status="pending")
    write_jobs(config_dir, sortable_jobs(platform.url))
    arrow, first, reversed_ = EXPECTED[label]
    other_arrow = "▲" if arrow == "▼" else "▼"
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        await press_until_sorted(pilot, label)
        first_header = header(pilot)
        first_order = shown_names(pilot)
        await pilot.press("O")
        await pilot.pause()
        second_header = header(pilot)
        second_order = shown_names(pilot)

    assert f"{label}{arrow}" in first_header
    assert first_order == first
    assert f"{label}{other_arrow}" in second_header
    assert second_order == reversed_


async def test_sort_created_both_directions(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.set_build("charlie", "1", status="building", build_progress=40.0)
    platform.set_build("delta", "1", status="pending")
    write_jobs(config_dir, sortable_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        default_header = header(pilot)
        newest_first = shown_names(pilot)
        await pilot.press("O")
        await pilot.pause()
        reversed_header = header(pilot)
        oldest_first = shown_names(pilot)

    assert "Created▼" in default_header
    assert newest_first == "delta charlie bravo alpha echo foxtrot"
    assert "Created▲" in reversed_header
    assert oldest_first == "foxtrot echo alpha bravo charlie delta"
