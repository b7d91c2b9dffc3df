"""The jobs file's fast paths: TOML writer, JSON index, newest-first head, saves."""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from plexe_tui.store import Job, JobStore
from plexe_tui.store.job_index import INDEX_FILE_NAME, FileStamp, JobIndex
from plexe_tui.store.toml_writer import UnsupportedValue, dumps_tables

SERVER = "local"


@pytest.fixture
def jobs_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "jobs.toml"


@pytest.fixture
def store(jobs_path: Path) -> JobStore:
    return JobStore(jobs_path)


def make_job(number: int, **fields: Any) -> Job:
    """Job `number`; a higher number is a newer job."""
    values: dict[str, Any] = {
        "model_name": f"job-{number:04d}",
        "model_version": "1",
        "server": SERVER,
        "goal": f"goal {number}",
        "status": "completed",
        "created_at": f"2025-01-01T00:{number // 60 % 60:02d}:{number % 60:02d}+00:00",
        "updated_at": "2025-01-02T00:00:00+00:00",
    }
    values.update(fields)
    return Job(**values)


def names(jobs: list[Job]) -> list[str]:
    return [job.model_name for job in jobs]


# The TOML writer

CONTROL_TEXT = "".join(chr(code) for code in range(0x80)) + 'é 😀 \u2028 "q" \\'

WRITER_CASES = [
    pytest.param({"text": CONTROL_TEXT}, id="control-characters"),
    pytest.param({"a key": 1, "plan [tier]": "x", "": "empty key"}, id="quoted-keys"),
    pytest.param(
        {"f": 1.5, "tiny": 1e-5, "huge": 1e300, "inf": math.inf, "minus": -math.inf},
        id="floats",
    ),
    pytest.param({"yes": True, "no": False, "n": -3, "big": 2**62}, id="ints-bools"),
    pytest.param({"list": [1, "a", [], {}, {"k": [{"z": True}]}]}, id="arrays"),
    pytest.param(
        {"after": "x", "schema": {"a": {"b": [{"c": 1}]}, "empty": {}}},
        id="nested-tables",
    ),
    pytest.param({}, id="empty-table"),
]


@pytest.mark.parametrize("table", WRITER_CASES)
def test_writer_round_trip(table: dict[str, Any]) -> None:
    text = dumps_tables(1, "jobs", [table, {"next": "table"}])

    document = tomllib.loads(text)

    assert document == {"version": 1, "jobs": [table, {"next": "table"}]}


def test_writer_nan() -> None:
    document = tomllib.loads(dumps_tables(1, "jobs", [{"x": math.nan}]))

    assert math.isnan(document["jobs"][0]["x"])


def test_writer_empty_array() -> None:
    assert tomllib.loads(dumps_tables(1, "jobs", [])) == {"version": 1, "jobs": []}


def test_writer_same_as_tomli_w() -> None:
    tables = [make_job(n, input_schema={"type": "object"}).to_toml() for n in range(5)]

    fast = tomllib.loads(dumps_tables(1, "jobs", tables))

    assert fast == tomllib.loads(tomli_w.dumps({"version": 1, "jobs": tables}))


def test_writer_rejects_dates() -> None:
    with pytest.raises(UnsupportedValue, match="date"):
        dumps_tables(1, "jobs", [{"when": datetime.date(2025, 1, 1)}])


def test_save_keeps_hand_edited_date(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "old"\nmodel_version = 7\n'
        'server = "local"\ngoal = "hand edited"\nwhen = 2025-01-01\n',
        encoding="utf-8",
    )
    store.load()

    store.save([make_job(1)])

    saved = tomllib.loads(jobs_path.read_text(encoding="utf-8"))["jobs"]
    assert saved[1]["when"] == datetime.date(2025, 1, 1)
    assert names(store.load().jobs) == ["job-0001"]


# The JSON index


def test_save_writes_index(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1), make_job(2)])

    index = JobIndex(jobs_path.with_name(INDEX_FILE_NAME))
    copy = index.read(FileStamp.of(jobs_path.stat()))

    assert copy is not None
    assert copy.tables == tomllib.loads(jobs_path.read_text("utf-8"))["jobs"]
    assert copy.forgotten == {}


def test_load_reads_current_index(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1)])
    index_path = jobs_path.with_name(INDEX_FILE_NAME)
    header, table = index_path.read_text("utf-8").splitlines()
    # Only the index contains "from the index", so the load must have read it.
    edited = json.dumps({**json.loads(table), "goal": "from the index"})
    index_path.write_text(f"{header}\n{edited}\n", "utf-8")

    (job,) = JobStore(jobs_path).load().jobs

    assert job.goal == "from the index"


def test_hand_edit_outdates_index(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1)])
    text = jobs_path.read_text("utf-8").replace("goal 1", "edited by hand")
    jobs_path.write_text(text, "utf-8")

    (job,) = JobStore(jobs_path).load().jobs

    assert job.goal == "edited by hand"


@pytest.mark.parametrize(
    "content",
    [b"", b"not json\n", b'{"format": 1}\n', b'{"format": 99}\n[]\n', b"\xff\xfe\n"],
)
def test_broken_index_ignored(store: JobStore, jobs_path: Path, content: bytes) -> None:
    store.save([make_job(1)])
    jobs_path.with_name(INDEX_FILE_NAME).write_bytes(content)

    loaded = JobStore(jobs_path).load()

    assert names(loaded.jobs) == ["job-0001"]
    assert loaded.warning is None


def test_short_index_ignored(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1), make_job(2)])
    index_path = jobs_path.with_name(INDEX_FILE_NAME)
    lines = index_path.read_text("utf-8").splitlines()
    index_path.write_text("\n".join(lines[:2]) + "\n", "utf-8")

    loaded = JobStore(jobs_path).load()

    assert names(loaded.jobs) == ["job-0002", "job-0001"]


def test_load_writes_index(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        tomli_w.dumps({"version": 1, "jobs": [make_job(1).to_toml()]}), "utf-8"
    )

    store.load()

    index = JobIndex(jobs_path.with_name(INDEX_FILE_NAME))
    assert index.read(FileStamp.of(jobs_path.stat())) is not None


def test_corrupt_file_removes_index(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1)])
    jobs_path.write_text("not = [toml", "utf-8")

    loaded = store.load()

    assert loaded.warning is not None
    assert not jobs_path.with_name(INDEX_FILE_NAME).exists()


def test_unwritable_index_save_works(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1)])
    index_path = jobs_path.with_name(INDEX_FILE_NAME)
    index_path.unlink()
    index_path.mkdir()  # A folder where the index goes: every write fails.

    store.save([make_job(2)])

    assert names(JobStore(jobs_path).load().jobs) == ["job-0002", "job-0001"]


# Reading the newest jobs first


def test_newest_reads_head(store: JobStore) -> None:
    store.save([make_job(n) for n in range(10)])

    head = JobStore(store.path).load_newest(3)

    assert names(head.jobs) == ["job-0009", "job-0008", "job-0007"]
    assert head.complete is False


def test_newest_reads_current_index(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(n) for n in range(10)])
    index_path = jobs_path.with_name(INDEX_FILE_NAME)
    header, first, *rest = index_path.read_text("utf-8").splitlines()
    table = json.loads(first)
    table["goal"] = "read from the index"
    lines = [header, json.dumps(table), *rest]
    index_path.write_text("\n".join(lines) + "\n", "utf-8")

    head = JobStore(jobs_path).load_newest(3)

    assert names(head.jobs) == ["job-0009", "job-0008", "job-0007"]
    assert head.jobs[0].goal == "read from the index"
    assert head.complete is False


def test_newest_small_file_complete(store: JobStore) -> None:
    store.save([make_job(n) for n in range(3)])

    head = JobStore(store.path).load_newest(3)

    assert names(head.jobs) == ["job-0002", "job-0001", "job-0000"]
    assert head.complete is True


def test_newest_missing_file(store: JobStore) -> None:
    head = store.load_newest(3)

    assert head.jobs == []
    assert head.complete is True


def test_newest_cut_in_string(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "a"\nmodel_version = "1"\n'
        'server = "local"\ngoal = """two\n[[jobs]]\nlines"""\n\n'
        '[[jobs]]\nmodel_name = "b"\nmodel_version = "1"\n'
        'server = "local"\ngoal = "g"\n',
        encoding="utf-8",
    )

    head = store.load_newest(1)
    loaded = store.load()

    assert head.jobs == []
    assert head.complete is False
    assert names(loaded.jobs) == ["a", "b"]
    assert loaded.jobs[0].goal == "two\n[[jobs]]\nlines"


def test_newest_corrupt_tail(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(n) for n in range(5)])
    with jobs_path.open("a", encoding="utf-8") as handle:
        handle.write("\n[[jobs]]\nmodel_name = \n")

    head = JobStore(jobs_path).load_newest(2)
    loaded = JobStore(jobs_path).load()

    assert names(head.jobs) == ["job-0004", "job-0003"]
    assert loaded.warning is not None
    assert "not valid TOML" in loaded.warning


def test_newest_corrupt_small_file_warns(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text("not = [toml", "utf-8")

    head = store.load_newest(100)

    assert head.complete is True
    assert head.warning is not None
    assert "not valid TOML" in head.warning


def test_newest_bad_table_not_logged(
    store: JobStore, jobs_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tables = [make_job(n).to_toml() for n in (3, 2, 1)]
    tables[0]["model_version"] = 7
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(tomli_w.dumps({"version": 1, "jobs": tables}), "utf-8")

    with caplog.at_level(logging.WARNING, logger="plexe_tui.store.jobs"):
        head = store.load_newest(2)

    assert names(head.jobs) == ["job-0002"]
    assert caplog.records == []


# Saves that skip reading the file


def test_save_copies_jobs(store: JobStore, jobs_path: Path) -> None:
    job = make_job(1)
    store.save([job])
    job.status = "changed after the save"

    store.save([])

    (saved,) = tomllib.loads(jobs_path.read_text("utf-8"))["jobs"]
    assert saved["status"] == "completed"


def test_save_sees_other_writer(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1)])
    JobStore(jobs_path).save([make_job(2)])

    from_disk = store.save([make_job(1), make_job(3)])

    assert names(from_disk) == ["job-0002"]
    assert names(JobStore(jobs_path).load().jobs) == [
        "job-0003",
        "job-0002",
        "job-0001",
    ]


def test_save_sees_hand_edit(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1)])
    text = jobs_path.read_text("utf-8").replace('"goal 1"', '"GOAL 1"')
    text = text.replace("2025-01-02T00:00:00", "2025-02-02T00:00:00")
    # Same size and inode: only the modification time differs.
    stamp = jobs_path.stat()
    assert len(text.encode()) == stamp.st_size
    with jobs_path.open("r+", encoding="utf-8") as handle:
        handle.write(text)
    os.utime(jobs_path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10_000_000))

    from_disk = store.save([make_job(1)])

    assert [job.goal for job in from_disk] == ["GOAL 1"]


def test_save_returns_copies(store: JobStore, jobs_path: Path) -> None:
    store.save([make_job(1)])
    (from_disk,) = store.save([])
    from_disk.status = "changed by the caller"

    store.save([])

    (saved,) = tomllib.loads(jobs_path.read_text("utf-8"))["jobs"]
    assert saved["status"] == "completed"


def test_save_sees_schema_changed_in_place(store: JobStore, jobs_path: Path) -> None:
    job = make_job(1, input_schema={"age": "int"})
    store.save([job])
    assert job.input_schema is not None
    job.input_schema["age"] = "float"

    store.save([job])

    (saved,) = tomllib.loads(jobs_path.read_text("utf-8"))["jobs"]
    assert saved["input_schema"] == {"age": "float"}


def test_save_sees_field_change(store: JobStore, jobs_path: Path) -> None:
    jobs = [make_job(1), make_job(2)]
    store.save(jobs)
    jobs[1].status = "failed"
    jobs[1].error = "out of memory"

    store.save(jobs)

    loaded = {job.model_name: job for job in JobStore(jobs_path).load().jobs}
    assert loaded["job-0002"].status == "failed"
    assert loaded["job-0002"].error == "out of memory"
    assert loaded["job-0001"].status == "completed"
