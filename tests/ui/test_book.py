"""Tests of the jobs in memory: polling rounds, listed builds and save snapshots."""

from __future__ import annotations

from pathlib import Path

from plexe_tui.api import BuildStatus
from plexe_tui.store import ORIGIN_LISTED, Job, JobStore
from plexe_tui.ui.book import JobBook
from plexe_tui.ui.server_sync import SyncRound

SERVER = "http://127.0.0.1:8765"


def book_with(tmp_path: Path, *jobs: Job) -> JobBook:
    book = JobBook(JobStore(tmp_path / "jobs.toml"))
    for job in jobs:
        book.add(job)
    return book


def job(name: str, status: str = "building", **fields: object) -> Job:
    return Job(
        model_name=name,
        model_version="1",
        server=SERVER,
        goal="g",
        status=status,
        **fields,
    )  # type: ignore[arg-type]


def test_snapshot_copies_changed_jobs(tmp_path: Path) -> None:
    book = book_with(tmp_path, job("a"), job("b"))
    first = {copy.model_name: copy for copy in book.snapshot()}

    book.apply_status(
        f"a:1@{SERVER}", BuildStatus("a", "1", "completed", metric_value=0.9)
    )
    second = {copy.model_name: copy for copy in book.snapshot()}

    assert second["a"] is not first["a"]
    assert second["a"].status == "completed"
    assert first["a"].status == "building"
    assert second["b"] is first["b"]
    assert second["b"] is not book.get(f"b:1@{SERVER}")


def test_snapshot_after_missing_and_add(tmp_path: Path) -> None:
    book = book_with(tmp_path, job("a"))
    first = book.snapshot()[0]

    book.mark_missing(f"a:1@{SERVER}", "Model a:1 not found.")
    after_missing = book.snapshot()[0]
    book.add(job("a", status="failed"))
    after_add = book.snapshot()[0]

    assert after_missing is not first
    assert after_missing.error is not None
    assert after_add.status == "failed"


def test_missing_message_punctuation(tmp_path: Path) -> None:
    book = book_with(tmp_path, job("a"))

    book.mark_missing(f"a:1@{SERVER}", "Model a:1 not found.")

    missing = book.get(f"a:1@{SERVER}")
    assert missing is not None
    assert missing.error is not None
    assert "(Model a:1 not found). It is no longer polled" in missing.error


def test_round_adds_listed_builds(tmp_path: Path) -> None:
    book = book_with(tmp_path)
    result = SyncRound(
        listed={
            f"x:3@{SERVER}": BuildStatus(
                "x",
                "3",
                "completed",
                goal="predict x",
                metric_name="f1",
                metric_value=0.8,
                created_at="2025-03-14T08:00:00.123456Z",
            )
        }
    )

    changed = book.apply_round(SERVER, result)
    listed = book.get(f"x:3@{SERVER}")

    assert changed == {f"x:3@{SERVER}"}
    assert listed is not None
    assert listed.origin == ORIGIN_LISTED
    assert listed.goal == "predict x"
    assert listed.metric_value == 0.8
    assert listed.created_at == "2025-03-14T08:00:00+00:00"
    assert listed.updated_at == listed.created_at


def test_round_skips_forgotten_builds(tmp_path: Path) -> None:
    book = book_with(tmp_path, job("a", status="completed"))
    key = f"a:1@{SERVER}"
    book.remove(key)
    result = SyncRound(listed={key: BuildStatus("a", "1", "completed", goal="g")})

    changed = book.apply_round(SERVER, result)

    assert book.get(key) is None
    assert changed == set()


def test_round_keeps_fields_lists_omit(tmp_path: Path) -> None:
    """A list item that matches the job leaves what a status call reported."""
    book = book_with(tmp_path, job("a", build_progress=50, iteration=2, phase="search"))
    result = SyncRound(
        listed={f"a:1@{SERVER}": BuildStatus("a", "1", "building", build_progress=50)}
    )

    changed = book.apply_round(SERVER, result)
    updated = book.get(f"a:1@{SERVER}")

    assert changed == set()
    assert updated is not None
    assert updated.iteration == 2
    assert updated.phase == "search"


def test_round_progress_clears_old_phase(tmp_path: Path) -> None:
    """Once the progress moved, the phase and iteration seen before are stale."""
    book = book_with(
        tmp_path,
        job("a", phase="starting", iteration=0, planned_iterations=3),
    )
    result = SyncRound(
        listed={f"a:1@{SERVER}": BuildStatus("a", "1", "building", build_progress=50)}
    )

    changed = book.apply_round(SERVER, result)
    updated = book.get(f"a:1@{SERVER}")

    assert changed == {f"a:1@{SERVER}"}
    assert updated is not None
    assert updated.build_progress == 50
    assert updated.phase is None
    assert updated.iteration is None
    assert updated.planned_iterations == 3


def test_listed_end_clears_phase(tmp_path: Path) -> None:
    book = book_with(
        tmp_path,
        job("a", phase="starting", best_metric_name="f1", best_metric_value=0.7),
    )
    result = SyncRound(listed={f"a:1@{SERVER}": BuildStatus("a", "1", "completed")})

    book.apply_round(SERVER, result)
    ended = book.get(f"a:1@{SERVER}")

    assert ended is not None
    assert ended.status == "completed"
    assert ended.phase is None
    assert ended.best_metric_name is None
    assert ended.best_metric_value is None


def test_round_leaves_ended_builds(tmp_path: Path) -> None:
    book = book_with(tmp_path, job("a", status="completed", metric_value=0.9))
    result = SyncRound(
        listed={f"a:1@{SERVER}": BuildStatus("a", "1", "failed", error="late")}
    )

    changed = book.apply_round(SERVER, result)
    ended = book.get(f"a:1@{SERVER}")

    assert changed == set()
    assert ended is not None
    assert ended.status == "completed"


def test_active_servers(tmp_path: Path) -> None:
    other = "http://127.0.0.1:9"
    book = book_with(
        tmp_path,
        job("a"),
        Job(
            model_name="b",
            model_version="1",
            server=other,
            goal="g",
            status="completed",
        ),
    )

    assert book.active_servers() == {SERVER}
