"""JobStore with real files: round trips, the file layout and unreadable files."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest

from plexe_tui.store import Job, JobStore
from plexe_tui.store.jobs import FORMAT_VERSION, MAX_HISTORY, StatusChange

SERVER = "http://127.0.0.1:8765"


@pytest.fixture
def jobs_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "jobs.toml"


@pytest.fixture
def store(jobs_path: Path) -> JobStore:
    return JobStore(jobs_path)


def full_job() -> Job:
    """A job with every field set, including nested schemas and odd text."""
    return Job(
        model_name="churn",
        model_version="3",
        server=SERVER,
        goal='Predict churn [monthly] for "Zürich" customers, 顧客 ✓',
        status="completed",
        dataset="/home/user/data [2024]/customers.csv",
        upload_id="upl-17",
        input_schema={"age": "int", "city": "str", "plan [tier]": "str"},
        output_schema={"churned": "bool", "probability": "float"},
        metric="roc_auc",
        max_iterations=5,
        provider="openai/gpt-4o-mini",
        metric_name="roc_auc",
        metric_value=0.913,
        build_progress=100.0,
        phase="done",
        iteration=5,
        error="none\nreally",
        parent="churn:2@http://127.0.0.1:8765",
        created_at="2025-01-02T03:04:05+00:00",
        updated_at="2025-01-02T04:05:06+00:00",
    )


def minimal_job(version: str = "1") -> Job:
    return Job(model_name="price", model_version=version, server=SERVER, goal="g")


def aside_files(path: Path) -> list[Path]:
    """Files that `load` moved aside next to `path`."""
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


# Round trips


def test_round_trip_full_job(store: JobStore) -> None:
    job = full_job()

    store.save([job])
    loaded = store.load()

    assert loaded.jobs == [job]
    assert loaded.warning is None


def test_round_trip_keeps_order(store: JobStore) -> None:
    jobs = [minimal_job(str(n)) for n in range(5)]

    store.save(jobs)

    assert [j.model_version for j in store.load().jobs] == ["0", "1", "2", "3", "4"]


def test_round_trip_minimal_job(store: JobStore) -> None:
    job = minimal_job()

    store.save([job])

    assert store.load().jobs == [job]


def test_round_trip_empty_list(store: JobStore, jobs_path: Path) -> None:
    store.save([])

    assert store.load().jobs == []
    assert tomllib.loads(jobs_path.read_text("utf-8")) == {"version": 1, "jobs": []}


def test_save_keeps_jobs_on_disk(store: JobStore) -> None:
    """Another app instance's jobs survive this one's save."""
    store.save([minimal_job("1"), minimal_job("2")])
    from_disk = store.save([minimal_job("3")])

    assert sorted(j.model_version for j in store.load().jobs) == ["1", "2", "3"]
    assert sorted(j.model_version for j in from_disk) == ["1", "2"]


def test_save_later_update_wins(store: JobStore, jobs_path: Path) -> None:
    older = minimal_job("1")
    older.status, older.updated_at = "building", "2026-01-01T10:00:00+00:00"
    newer = minimal_job("1")
    newer.status, newer.updated_at = "completed", "2026-01-01T11:00:00+00:00"
    JobStore(jobs_path).save([newer])

    from_disk = store.save([older])

    assert [j.status for j in store.load().jobs] == ["completed"]
    assert [j.status for j in from_disk] == ["completed"]


def test_save_creates_folder(store: JobStore, jobs_path: Path) -> None:
    store.save([minimal_job()])

    assert jobs_path.is_file()


# File layout


def test_file_starts_with_version(store: JobStore, jobs_path: Path) -> None:
    store.save([full_job()])

    first_line = jobs_path.read_text("utf-8").splitlines()[0]
    assert first_line == f"version = {FORMAT_VERSION}"


def test_file_omits_none_fields(store: JobStore, jobs_path: Path) -> None:
    store.save([minimal_job()])

    table = tomllib.loads(jobs_path.read_text("utf-8"))["jobs"][0]
    assert set(table) == {
        "model_name",
        "model_version",
        "server",
        "goal",
        "status",
        "created_at",
        "updated_at",
    }


def test_file_schemas_nested_tables(store: JobStore, jobs_path: Path) -> None:
    store.save([full_job()])

    text = jobs_path.read_text("utf-8")
    table = tomllib.loads(text)["jobs"][0]
    assert "[jobs.input_schema]" in text
    assert "[jobs.output_schema]" in text
    assert table["input_schema"] == {"age": "int", "city": "str", "plan [tier]": "str"}


def test_file_json_schema_object(store: JobStore) -> None:
    schema = {
        "type": "object",
        "properties": {"x": {"type": "number"}, "tags": {"type": "array"}},
        "required": ["x"],
    }
    job = minimal_job()
    job.input_schema = schema

    store.save([job])

    assert store.load().jobs[0].input_schema == schema


def test_file_schema_with_null(store: JobStore) -> None:
    # TOML has no null, and JSON Schema from a server may carry one.
    job = minimal_job()
    job.input_schema = {"properties": {"x": {"type": "number", "default": None}}}

    store.save([job])

    loaded = store.load().jobs[0].input_schema
    assert loaded == {"properties": {"x": {"type": "number"}}}


def test_file_mode(store: JobStore, jobs_path: Path) -> None:
    store.save([minimal_job()])

    assert jobs_path.stat().st_mode & 0o777 == 0o644


def test_atomic_save_no_temp_files(store: JobStore, jobs_path: Path) -> None:
    store.save([full_job()])
    store.save([full_job(), minimal_job()])

    names = sorted(p.name for p in jobs_path.parent.iterdir())
    assert names == ["jobs.index.json", "jobs.toml", "jobs.toml.lock"]


def test_failed_save_keeps_old_file(
    store: JobStore, jobs_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save([minimal_job("1")])
    before = jobs_path.read_bytes()

    def fail_replace(source: str, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("plexe_tui.store.atomic.os.replace", fail_replace)
    with pytest.raises(OSError, match="No space"):
        store.save([minimal_job("2")])

    assert jobs_path.read_bytes() == before
    names = sorted(p.name for p in jobs_path.parent.iterdir())
    assert names == ["jobs.index.json", "jobs.toml", "jobs.toml.lock"]


def test_api_key_not_in_file(
    store: JobStore, jobs_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-plexe-secret-9f8e7d6c5b4a"
    monkeypatch.setenv("PLEXE_API_KEY", key)

    store.save([full_job(), minimal_job()])

    assert key not in jobs_path.read_text("utf-8")
    assert "api_key" not in jobs_path.read_text("utf-8")


# Missing and unreadable files


def test_missing_file_empty(store: JobStore, jobs_path: Path) -> None:
    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is None
    assert not jobs_path.exists()


@pytest.mark.parametrize("content", ["", "\n  \n", "# no jobs yet\n"])
def test_empty_file_moved_aside(store: JobStore, jobs_path: Path, content: str) -> None:
    # The app never writes a file without a version, so such a file was cut
    # short or written by something else: the user hears about it once.
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(content, "utf-8")

    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is not None
    assert not jobs_path.exists()
    assert len(aside_files(jobs_path)) == 1


def test_corrupt_toml_moved_aside(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text('version = 1\n[[jobs]\nmodel_name = "churn', "utf-8")

    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is not None
    assert "not valid TOML" in loaded.warning
    assert not jobs_path.exists()
    assert len(aside_files(jobs_path)) == 1
    assert aside_files(jobs_path)[0].name in loaded.warning


def test_corrupt_file_content_kept(store: JobStore, jobs_path: Path) -> None:
    original = b"version = 1\njobs = [ oops"
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_bytes(original)

    store.load()

    assert aside_files(jobs_path)[0].read_bytes() == original


def test_invalid_utf8_moved_aside(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_bytes(b'version = 1\ngoal = "\xff\xfe"\n')

    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is not None
    assert len(aside_files(jobs_path)) == 1


def test_save_after_corrupt_load(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text("not = [toml", "utf-8")

    store.load()
    store.save([minimal_job()])

    assert [j.model_name for j in store.load().jobs] == ["price"]
    assert len(aside_files(jobs_path)) == 1


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("version = 2\njobs = []\n", "2", id="newer"),
        pytest.param("version = 0\njobs = []\n", "0", id="older"),
        pytest.param('version = "1"\njobs = []\n', "'1'", id="text"),
    ],
)
def test_wrong_version_moved_aside(
    store: JobStore, jobs_path: Path, text: str, shown: str
) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(text, "utf-8")

    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is not None
    assert f"format version is {shown}" in loaded.warning
    assert len(aside_files(jobs_path)) == 1


def test_missing_version_moved_aside(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text("jobs = []\n", "utf-8")

    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is not None
    assert "has no format version" in loaded.warning
    assert len(aside_files(jobs_path)) == 1


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('version = 1\njobs = "churn"\n', id="text"),
        pytest.param("version = 1\n[jobs]\nmodel_name = 'churn'\n", id="table"),
    ],
)
def test_jobs_not_list(store: JobStore, jobs_path: Path, text: str) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(text, "utf-8")

    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is not None
    assert "not a list" in loaded.warning
    assert len(aside_files(jobs_path)) == 1


def test_version_without_jobs(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text("version = 1\n", "utf-8")

    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is None


def test_unreadable_path_warns(store: JobStore, jobs_path: Path) -> None:
    jobs_path.mkdir(parents=True)

    loaded = store.load()

    assert loaded.jobs == []
    assert loaded.warning is not None
    assert "Cannot read" in loaded.warning
    assert jobs_path.is_dir()


# Single jobs


BAD_JOB_TABLES = f"""\
version = 1

[[jobs]]
model_name = "churn"
model_version = "1"
server = "{SERVER}"
goal = "good one"

[[jobs]]
model_name = "churn"
model_version = "2"
goal = "no server"

[[jobs]]
model_name = "churn"
model_version = 3
server = "{SERVER}"
goal = "version is a number"

[[jobs]]
model_name = "price"
model_version = "1"
server = "{SERVER}"
goal = "another good one"
"""


def test_bad_job_skipped(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(BAD_JOB_TABLES, "utf-8")

    loaded = store.load()

    assert [j.goal for j in loaded.jobs] == ["good one", "another good one"]
    assert loaded.warning is not None
    assert loaded.warning.startswith("2 jobs in ")
    assert "cannot be read" in loaded.warning
    assert jobs_path.exists()
    assert aside_files(jobs_path) == []


def test_bad_job_logged(
    store: JobStore, jobs_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(BAD_JOB_TABLES, "utf-8")

    with caplog.at_level(logging.WARNING, logger="plexe_tui.store.jobs"):
        store.load()

    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "server" in messages[0]
    assert "model_version" in messages[1]


def test_non_table_job_skipped(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        "version = 1\njobs = [\n  42,\n  'churn:1',\n"
        f'  {{ model_name = "a", model_version = "1", server = "{SERVER}", '
        'goal = "g" },\n]\n',
        "utf-8",
    )

    loaded = store.load()

    assert [j.model_name for j in loaded.jobs] == ["a"]
    assert loaded.warning is not None
    assert loaded.warning.startswith("2 jobs in ")
    assert "cannot be read" in loaded.warning


def test_unknown_fields_ignored(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        "version = 1\n\n[[jobs]]\n"
        'model_name = "churn"\nmodel_version = "1"\n'
        f'server = "{SERVER}"\ngoal = "g"\n'
        'colour = "blue"\npinned = true\n'
        "[jobs.future_section]\nkey = 1\n",
        "utf-8",
    )

    loaded = store.load()

    assert loaded.warning is None
    assert len(loaded.jobs) == 1
    assert loaded.jobs[0].model_name == "churn"
    assert not hasattr(loaded.jobs[0], "colour")


def test_missing_optional_fields_default(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        "version = 1\n\n[[jobs]]\n"
        'model_name = "churn"\nmodel_version = "1"\n'
        f'server = "{SERVER}"\ngoal = "g"\n',
        "utf-8",
    )

    job = store.load().jobs[0]

    assert job.status == "pending"
    assert job.metric_value is None
    assert job.created_at != ""


# Job properties


def test_job_key_and_label() -> None:
    job = minimal_job("4")

    assert job.key == f"price:4@{SERVER}"
    assert job.label == "price:4"


def test_wrong_type_field_cleared(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True, exist_ok=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "a"\nmodel_version = "1"\n'
        'server = "local"\ngoal = "g"\nbuild_progress = "lots"\n'
        'metric_value = "high"\nmax_iterations = 2.5\n',
        encoding="utf-8",
    )

    (job,) = store.load().jobs

    assert job.build_progress is None
    assert job.metric_value is None
    assert job.max_iterations is None


def test_integer_metric_read_as_float(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True, exist_ok=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "a"\nmodel_version = "1"\n'
        'server = "local"\ngoal = "g"\nmetric_value = 1\n',
        encoding="utf-8",
    )

    (job,) = store.load().jobs

    assert job.metric_value == 1.0


def test_unreadable_job_kept_on_save(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True, exist_ok=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "old"\nmodel_version = 7\n'
        'server = "local"\ngoal = "hand edited"\n',
        encoding="utf-8",
    )
    store.load()

    store.save([minimal_job("1")])

    saved = tomllib.loads(jobs_path.read_text(encoding="utf-8"))["jobs"]
    assert {
        "model_name": "old",
        "model_version": 7,
        "server": "local",
        "goal": "hand edited",
    } in saved
    assert len(saved) == 2


# Status history


def history_job() -> Job:
    job = minimal_job("1")
    job.record_status("pending", "2025-01-02T03:04:05+00:00")
    job.record_status("building", "2025-01-02T03:04:07+00:00")
    job.record_status("completed", "2025-01-02T03:05:00+00:00")
    return job


def test_history_round_trip(store: JobStore) -> None:
    job = history_job()

    store.save([job])
    (loaded,) = store.load().jobs

    assert loaded.history == [
        StatusChange("pending", "2025-01-02T03:04:05+00:00"),
        StatusChange("building", "2025-01-02T03:04:07+00:00"),
        StatusChange("completed", "2025-01-02T03:05:00+00:00"),
    ]


def test_history_file_layout(store: JobStore, jobs_path: Path) -> None:
    store.save([history_job()])

    table = tomllib.loads(jobs_path.read_text("utf-8"))["jobs"][0]

    assert table["history"][1] == {
        "status": "building",
        "at": "2025-01-02T03:04:07+00:00",
    }


def test_history_absent_in_old_file(store: JobStore, jobs_path: Path) -> None:
    """A file written before the history field existed loads with an empty one."""
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "a"\nmodel_version = "1"\n'
        'server = "local"\ngoal = "g"\nstatus = "completed"\n',
        encoding="utf-8",
    )

    (job,) = store.load().jobs

    assert job.history == []
    assert job.status == "completed"


def test_history_bad_entries_dropped(store: JobStore, jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "a"\nmodel_version = "1"\n'
        'server = "local"\ngoal = "g"\n'
        'history = [{status = "pending", at = "2025-01-02T03:04:05+00:00"}, '
        '{status = 3}, "building", {at = "2025-01-02T03:04:06+00:00"}]\n',
        encoding="utf-8",
    )

    (job,) = store.load().jobs

    assert job.history == [StatusChange("pending", "2025-01-02T03:04:05+00:00")]


def test_history_repeat_not_recorded() -> None:
    job = minimal_job()
    job.record_status("building", "2025-01-02T03:04:05+00:00")
    job.record_status("building", "2025-01-02T03:04:09+00:00")

    assert len(job.history) == 1


def test_history_bounded_keeps_first() -> None:
    job = minimal_job()
    for number in range(MAX_HISTORY + 30):
        job.record_status(f"state-{number}", f"2025-01-02T03:04:{number % 60:02}")

    assert len(job.history) == MAX_HISTORY
    assert job.history[0].status == "state-0"
    assert job.history[-1].status == f"state-{MAX_HISTORY + 29}"
    assert job.history[1].status == "state-31"


def test_history_bounded_on_load(store: JobStore, jobs_path: Path) -> None:
    entries = ", ".join(
        f'{{status = "s{n}", at = "2025-01-02T03:04:05+00:00"}}'
        for n in range(MAX_HISTORY + 5)
    )
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "a"\nmodel_version = "1"\n'
        f'server = "local"\ngoal = "g"\nhistory = [{entries}]\n',
        encoding="utf-8",
    )

    (job,) = store.load().jobs

    assert len(job.history) == MAX_HISTORY
    assert job.history[0].status == "s0"
    assert job.history[-1].status == f"s{MAX_HISTORY + 4}"


# Forgetting jobs


def test_save_forget_drops_job(store: JobStore) -> None:
    store.save([minimal_job("1"), minimal_job("2")])

    store.save([minimal_job("2")], forget={minimal_job("1").key})

    assert [j.model_version for j in store.load().jobs] == ["2"]


def test_save_forget_wins_over_memory(store: JobStore) -> None:
    """A forgotten key is left out even when the caller still passes the job."""
    store.save([minimal_job("1")])

    from_disk = store.save([minimal_job("1")], forget={minimal_job("1").key})

    assert store.load().jobs == []
    assert from_disk == []
