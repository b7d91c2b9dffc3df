"""Failing tests of bugs found by using the app by hand, one test per bug.

Each test is marked `xfail(strict=True)` with the reason, so the suite stays
green until the fix, and the fix must remove the mark. Move a test next to the
tests of its module when you fix its bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plexe_tui.api import BuildStatus
from plexe_tui.store import Job, JobStore
from plexe_tui.ui.book import JobBook
from plexe_tui.ui.server_sync import SyncRound

SERVER = "http://127.0.0.1:8765"


def make_job(name: str, status: str = "building", **fields: object) -> Job:
    return Job(
        model_name=name,
        model_version="1",
        server=SERVER,
        goal="predict y",
        status=status,
        **fields,
    )  # type: ignore[arg-type]


# The jobs in memory


@pytest.mark.xfail(
    strict=True,
    reason="a list item has no phase, and apply_round keeps the old one, so a "
    "build that ends between two status calls shows 'Phase starting' forever",
)
def test_listed_end_clears_phase(tmp_path: Path) -> None:
    book = JobBook(JobStore(tmp_path / "jobs.toml"))
    key = f"a:1@{SERVER}"
    book.add(make_job("a", phase="starting"))
    result = SyncRound(listed={key: BuildStatus("a", "1", "completed")})

    book.apply_round(SERVER, result)
    ended = book.get(key)

    assert ended is not None
    assert ended.status == "completed"
    assert ended.phase is None


# Build form
