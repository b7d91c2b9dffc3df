"""Forgotten jobs in the jobs file: two stores on one file, resubmits and limits."""

from __future__ import annotations

import datetime
import tomllib
from pathlib import Path

import pytest

from plexe_tui.store import Job, JobStore
from plexe_tui.store.jobs import (
    MAX_FORGOTTEN,
    forget_time,
    is_forgotten,
    join_forgotten,
)

SERVER = "http://127.0.0.1:8765"
CREATED = "2025-03-01T10:00:00+00:00"
FORGOT = "2025-03-02T10:00:00+00:00"


@pytest.fixture
def jobs_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "jobs.toml"


def job(name: str, created_at: str = CREATED, status: str = "completed") -> Job:
    return Job(
        model_name=name,
        model_version="1",
        server=SERVER,
        goal="g",
        status=status,
        created_at=created_at,
        updated_at=created_at,
    )


def names(jobs: list[Job]) -> list[str]:
    return sorted(item.model_name for item in jobs)


def test_other_store_cannot_bring_back(jobs_path: Path) -> None:
    JobStore(jobs_path).save([job("kept"), job("gone")])
    first, second = JobStore(jobs_path), JobStore(jobs_path)
    in_second = second.load().jobs
    first.load()

    first.save([job("kept")], forget={job("gone").key: FORGOT})
    # The second store still has the job in memory and saves it.
    from_disk = second.save(in_second)

    assert names(JobStore(jobs_path).load().jobs) == ["kept"]
    assert from_disk == []
    assert second.forgotten == {job("gone").key: FORGOT}


def test_forgotten_kept_across_loads(jobs_path: Path) -> None:
    JobStore(jobs_path).save([job("kept")], forget={job("gone").key: FORGOT})

    loaded = JobStore(jobs_path).load()

    assert loaded.forgotten == {job("gone").key: FORGOT}
    assert loaded.warning is None


def test_forgotten_read_from_toml_and_index(jobs_path: Path) -> None:
    JobStore(jobs_path).save([job("kept")], forget={job("gone").key: FORGOT})
    from_index = JobStore(jobs_path).load()
    jobs_path.with_name("jobs.index.json").unlink()

    from_toml = JobStore(jobs_path).load()

    assert from_index.forgotten == from_toml.forgotten == {job("gone").key: FORGOT}
    document = tomllib.loads(jobs_path.read_text("utf-8"))
    assert document["forgotten"] == {job("gone").key: FORGOT}


def test_forgotten_table_after_jobs(jobs_path: Path) -> None:
    """The head of the file, which `load_newest` reads, ends before the table."""
    JobStore(jobs_path).save([job("a"), job("b")], forget={job("gone").key: FORGOT})

    text = jobs_path.read_text("utf-8")

    assert text.index("[forgotten]") > text.rindex("[[jobs]]")
    assert names(JobStore(jobs_path).load_newest(1).jobs) == ["a"]


def test_later_build_same_key_kept(jobs_path: Path) -> None:
    """A server that gives out the same name and version again makes a new build."""
    store = JobStore(jobs_path)
    store.save([job("reused")], forget={job("reused").key: FORGOT})

    store.save([job("reused", created_at="2025-03-03T10:00:00+00:00")])

    assert names(JobStore(jobs_path).load().jobs) == ["reused"]


def test_forget_keeps_later_time(jobs_path: Path) -> None:
    store = JobStore(jobs_path)
    later = "2025-03-05T10:00:00+00:00"
    store.save([], forget={job("a").key: later})

    store.save([], forget={job("a").key: FORGOT})

    assert JobStore(jobs_path).load().forgotten == {job("a").key: later}


def test_forget_plain_keys_means_now(jobs_path: Path) -> None:
    store = JobStore(jobs_path)
    store.save([job("a")])

    store.save([job("a")], forget={job("a").key})

    assert store.load().jobs == []
    assert job("a").key in store.forgotten


def test_forgotten_keys_bounded(jobs_path: Path) -> None:
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    times = {
        job(f"j{n}").key: (start + datetime.timedelta(minutes=n)).isoformat()
        for n in range(MAX_FORGOTTEN + 5)
    }

    JobStore(jobs_path).save([], forget=times)

    kept = JobStore(jobs_path).load().forgotten
    assert len(kept) == MAX_FORGOTTEN
    # The five forgotten first are the ones dropped.
    assert job("j4").key not in kept
    assert job("j5").key in kept
    assert job(f"j{MAX_FORGOTTEN + 4}").key in kept


def test_hand_edited_forgotten_entries(jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        "version = 1\n\n"
        '[[jobs]]\nmodel_name = "a"\nmodel_version = "1"\n'
        f'server = "{SERVER}"\ngoal = "g"\ncreated_at = "{CREATED}"\n\n'
        "[forgotten]\n"
        f'"{job("a").key}" = "{FORGOT}"\n'
        '"b:1@x" = 5\n'
        '"c:1@x" = "yesterday"\n',
        "utf-8",
    )

    loaded = JobStore(jobs_path).load()

    assert loaded.warning is None
    assert loaded.jobs == []
    assert loaded.forgotten == {job("a").key: FORGOT}


def test_forgotten_not_a_table(jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text('version = 1\nforgotten = "all"\njobs = []\n', "utf-8")

    loaded = JobStore(jobs_path).load()

    assert loaded.warning is None
    assert loaded.forgotten == {}


def test_forgotten_written_with_toml_dates(jobs_path: Path) -> None:
    """A hand-edited TOML date sends the save through tomli_w, which keeps them."""
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "odd"\nmodel_version = 2\n'
        f'server = "{SERVER}"\ngoal = "g"\nwhen = 2025-01-01\n',
        "utf-8",
    )
    store = JobStore(jobs_path)
    store.load()

    store.save([job("a")], forget={job("gone").key: FORGOT})

    assert JobStore(jobs_path).load().forgotten == {job("gone").key: FORGOT}


def test_is_forgotten_compares_creation() -> None:
    forgotten = {job("a").key: FORGOT}

    assert is_forgotten(job("a"), forgotten)
    assert is_forgotten(job("a", created_at=FORGOT), forgotten)
    assert not is_forgotten(job("a", created_at="2025-03-03T00:00:00+00:00"), forgotten)
    assert not is_forgotten(job("b"), forgotten)


def test_forget_time_not_before_creation() -> None:
    """A server clock ahead of this machine's must not outrun the forget."""
    ahead = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    created = ahead.replace(microsecond=0).isoformat()

    assert forget_time(job("a", created_at=created)) == created
    assert forget_time(job("a")) > CREATED


def test_join_forgotten_orders_newest_first() -> None:
    joined = join_forgotten({"a": CREATED, "b": FORGOT}, {"a": FORGOT, "c": CREATED})

    assert joined == {"a": FORGOT, "b": FORGOT, "c": CREATED}
    assert list(joined)[-1] == "c"
