"""The job book's status history, status listeners and forgotten jobs."""

from __future__ import annotations

from pathlib import Path

from plexe_tui.api import BuildStatus
from plexe_tui.store import Job, JobStore
from plexe_tui.store.jobs import StatusChange
from plexe_tui.ui.book import JobBook

SERVER = "http://127.0.0.1:8765"
SUBMITTED_AT = "2025-03-14T11:58:00+00:00"


def new_job(version: str = "1") -> Job:
    return Job(
        model_name="churn",
        model_version=version,
        server=SERVER,
        goal="predict churn",
        created_at=SUBMITTED_AT,
        updated_at=SUBMITTED_AT,
    )


def status(word: str, at: str | None, **fields: object) -> BuildStatus:
    return BuildStatus(
        model_name="churn", model_version="1", status=word, updated_at=at, **fields
    )


def make_book(tmp_path: Path) -> JobBook:
    return JobBook(JobStore(tmp_path / "jobs.toml"))


def test_new_job_history_starts(tmp_path: Path) -> None:
    book = make_book(tmp_path)

    book.add(new_job(), new=True)

    job = book.get(new_job().key)
    assert job is not None
    assert job.history == [StatusChange("pending", SUBMITTED_AT)]


def test_job_from_file_history_kept(tmp_path: Path) -> None:
    """A job taken from another instance's save is not given a made-up history."""
    book = make_book(tmp_path)

    book.add(new_job())

    job = book.get(new_job().key)
    assert job is not None
    assert job.history == []


def test_status_change_recorded(tmp_path: Path) -> None:
    book = make_book(tmp_path)
    book.add(new_job(), new=True)

    book.apply_status(new_job().key, status("building", "2025-03-14T11:58:05+00:00"))
    book.apply_status(
        new_job().key,
        status("building", "2025-03-14T11:58:09+00:00", build_progress=40.0),
    )
    book.apply_status(new_job().key, status("completed", "2025-03-14T12:00:00+00:00"))

    job = book.get(new_job().key)
    assert job is not None
    assert job.history == [
        StatusChange("pending", SUBMITTED_AT),
        StatusChange("building", "2025-03-14T11:58:05+00:00"),
        StatusChange("completed", "2025-03-14T12:00:00+00:00"),
    ]


def test_status_change_without_time(tmp_path: Path) -> None:
    """A server that sends no updated_at gets the app's own time."""
    book = make_book(tmp_path)
    book.add(new_job(), new=True)

    book.apply_status(new_job().key, status("building", None))

    job = book.get(new_job().key)
    assert job is not None
    assert job.history[-1].status == "building"
    assert job.history[-1].at > SUBMITTED_AT


def test_listeners_get_previous_status(tmp_path: Path) -> None:
    book = make_book(tmp_path)
    book.add(new_job(), new=True)
    seen: list[tuple[str, str]] = []
    book.status_listeners.append(
        lambda job, previous: seen.append((previous, job.status))
    )

    book.apply_status(new_job().key, status("building", None))
    book.apply_status(new_job().key, status("building", None, build_progress=50.0))
    book.apply_status(new_job().key, status("failed", None, error="out of memory"))

    assert seen == [("pending", "building"), ("building", "failed")]


def test_snapshot_copies_history(tmp_path: Path) -> None:
    """The saving thread gets its own list, so a later change cannot race it."""
    book = make_book(tmp_path)
    book.add(new_job(), new=True)

    (snapshot,) = book.snapshot()
    book.apply_status(new_job().key, status("building", None))

    assert len(snapshot.history) == 1


def test_remove_forgets_on_save(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.toml")
    store.save([new_job("1"), new_job("2")])
    book = JobBook(store)
    book.load()

    removed = book.remove(new_job("1").key)
    store.save(book.snapshot(), book.forgotten)

    assert removed is not None
    assert book.get(new_job("1").key) is None
    assert [job.model_version for job in store.load().jobs] == ["2"]


def test_new_job_with_forgotten_key(tmp_path: Path) -> None:
    """A new build that gets a forgotten key (a reused version) is kept."""
    book = make_book(tmp_path)
    book.add(new_job(), new=True)
    book.remove(new_job().key)

    book.add(new_job(), new=True)
    book.store.save(book.snapshot(), book.forgotten)

    assert [job.key for job in book.store.load().jobs] == [new_job().key]


def test_earlier_server_time_kept_out(tmp_path: Path) -> None:
    """A server time before the app's own stamp must not make the saved copy win.

    The app stamps a new job with its own clock, to the second; the server's
    times have milliseconds and may fall just before that stamp. Were the job
    to take the earlier time, the next save would find the copy on disk newer
    and swap it in, undoing the change.
    """
    book = make_book(tmp_path)
    book.add(new_job(), new=True)
    book.store.save(book.snapshot())
    job = book.get(new_job().key)

    book.apply_status(
        new_job().key,
        status("pending", "2025-03-14T11:57:59.950Z", max_iterations=3),
    )
    from_disk = book.store.save(book.snapshot())

    assert from_disk == []
    assert job is not None
    assert job.planned_iterations == 3
    assert job.updated_at == SUBMITTED_AT
