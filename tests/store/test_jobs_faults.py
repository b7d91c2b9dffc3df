"""The jobs file under faults: killed writers, concurrent writers and its size bound."""

from __future__ import annotations

import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

from plexe_tui.store import Job, JobStore
from plexe_tui.store.drafts import DraftStore
from plexe_tui.store.jobs import DEFAULT_MAX_JOBS
from plexe_tui.store.toml_file import STALE_TEMP_SECONDS

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER = "http://127.0.0.1:8765"

KILLS = 100
# Seconds. Bounds of the kill loop: one writer's life before SIGKILL, and the
# whole loop, which stops early on a slow machine rather than run long.
MAX_WRITER_LIFE = 0.08
KILL_LOOP_SECONDS = 18.0
MIN_KILLS = 10
PRELOADED_JOBS = 150
"""Jobs in the file before the first writer starts, so that each save takes a while."""
WRITER_TIMEOUT = 60.0


@pytest.fixture
def jobs_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "jobs.toml"


def job(name: str, status: str = "pending", created_at: str | None = None) -> Job:
    created = created_at or "2025-01-01T00:00:00+00:00"
    return Job(
        model_name=name,
        model_version="1",
        server=SERVER,
        goal="g",
        status=status,
        created_at=created,
        updated_at=created,
    )


def start_writer(path: Path, *arguments: str) -> subprocess.Popen[str]:
    """Start a jobs_writer process and wait until it has imported the store."""
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "tests.store.jobs_writer", arguments[0], str(path)),
            *arguments[1:],
        ],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    assert first == "ready", process.stderr.read() if process.stderr else first
    return process


def saved_names(lines: Iterable[str]) -> set[str]:
    """Return the job names in a writer's `saved NAME` lines."""
    return {line.split()[1] for line in lines if line.startswith("saved ")}


class ForkedWriters:
    """A jobs_writer fork server: starts writers with no end, for the test to kill."""

    def __init__(self, path: Path) -> None:
        self.process = start_writer(path, "fork")
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.commands = self.process.stdin
        self.output = self.process.stdout
        self._pending = b""

    def start(self, prefix: str) -> tuple[int, list[str]]:
        """Fork a writer; return its pid and the lines it printed meanwhile."""
        self.commands.write(f"start {prefix}\n")
        self.commands.flush()
        lines = self._read_until(f"pid {prefix} ")
        return int(lines[-1].split()[2]), lines[:-1]

    def reap(self, prefix: str, pid: int) -> list[str]:
        """Wait for a killed writer; return every line it printed since `start`."""
        self.commands.write(f"reap {prefix} {pid}\n")
        self.commands.flush()
        return self._read_until(f"reaped {prefix}")[:-1]

    def close(self) -> None:
        self.commands.close()
        self.process.wait(WRITER_TIMEOUT)
        self.output.close()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def _read_until(self, start: str) -> list[str]:
        """Return the lines up to the one starting with `start`, within
        WRITER_TIMEOUT, so that a lost line fails the test instead of hanging."""
        deadline = time.monotonic() + WRITER_TIMEOUT
        lines = []
        while True:
            line = self._read_line(deadline)
            lines.append(line.strip())
            if line.startswith(start):
                return lines

    def _read_line(self, deadline: float) -> str:
        # Reads the pipe directly: select cannot see lines held in a buffer.
        descriptor = self.output.fileno()
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([descriptor], [], [], max(0.0, left))
            assert ready, (
                f"no line from the fork server in {WRITER_TIMEOUT} s; "
                f"unfinished line: {self._pending!r}"
            )
            chunk = os.read(descriptor, 4096)
            assert chunk, "the fork server exited"
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode("utf-8")


def file_names(path: Path) -> set[str]:
    loaded = JobStore(path).load()
    assert loaded.warning is None, loaded.warning
    return {item.model_name for item in loaded.jobs}


def temp_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*"))


# Killed writers


def test_killed_writers_lose_nothing(jobs_path: Path) -> None:
    JobStore(jobs_path).save([job(f"old-{n}") for n in range(PRELOADED_JOBS)])
    expected = {f"old-{n}" for n in range(PRELOADED_JOBS)}
    chooser = random.Random(20250314)
    writers = ForkedWriters(jobs_path)
    deadline = time.monotonic() + KILL_LOOP_SECONDS
    kills = 0
    cut_short = 0

    try:
        while kills < KILLS and time.monotonic() < deadline:
            prefix = f"kill{kills}"
            pid, early = writers.start(prefix)
            time.sleep(chooser.uniform(0.0, MAX_WRITER_LIFE))
            os.kill(pid, signal.SIGKILL)
            late = writers.reap(prefix, pid)
            kills += 1
            cut_short += bool(temp_files(jobs_path))

            expected |= saved_names(early + late)
            on_disk = file_names(jobs_path)
            assert expected <= on_disk, f"lost after kill {kills}: {expected - on_disk}"
    finally:
        writers.close()

    assert kills >= MIN_KILLS
    assert len(expected) > PRELOADED_JOBS
    # Some writer died between creating its temporary file and the rename, the
    # moment a non-atomic save would have left a half-written jobs file.
    assert cut_short > 0
    assert list(jobs_path.parent.glob("*.corrupt-*")) == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_writer_lines_are_single_writes(jobs_path: Path, tmp_path: Path) -> None:
    """Each line of a writer is one write call, even with Python unbuffered.

    Were a line split in two calls, a writer killed between them would join
    its line to the fork server's next one, and the kill loop would wait for a
    line that never comes.
    """
    trace = tmp_path / "writes.trace"
    command = [
        *("strace", "-f", "-e", "trace=write", "-e", "signal=none"),
        *("-o", str(trace), sys.executable, "-u"),
        *("-m", "tests.store.jobs_writer", "run", str(jobs_path), "w", "3"),
    ]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=WRITER_TIMEOUT,
    )
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr

    writes = re.findall(r'write\(1, "(.*?)", \d+\)', trace.read_text("utf-8"))
    assert writes == ["ready\\n", "saved w-0\\n", "saved w-1\\n", "saved w-2\\n"]


def test_save_removes_temp_files_of_killed_writers(jobs_path: Path) -> None:
    store = JobStore(jobs_path)
    store.save([job("a")])
    leftover = jobs_path.with_name(f".{jobs_path.name}.k1ll3d")
    leftover.write_text('version = 1\n[[jobs]]\nmodel_name = "half', "utf-8")

    store.save([job("a"), job("b")])

    assert temp_files(jobs_path) == []
    assert file_names(jobs_path) == {"a", "b"}


def test_drafts_keep_fresh_temp_files(tmp_path: Path) -> None:
    """Files written without a lock lose only temporary files too old to be live."""
    path = tmp_path / "drafts.toml"
    path.write_text("version = 1\n", "utf-8")
    fresh = tmp_path / ".drafts.toml.fresh"
    stale = tmp_path / ".drafts.toml.stale"
    fresh.write_text("x", "utf-8")
    stale.write_text("x", "utf-8")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))

    DraftStore(path).save("new", {"goal": "g"})

    assert fresh.exists()
    assert not stale.exists()


# Two writers at once


def test_two_processes_keep_both_sets(jobs_path: Path) -> None:
    count = 40
    first = start_writer(jobs_path, "run", "left", str(count))
    second = start_writer(jobs_path, "run", "right", str(count))
    first_output, first_errors = first.communicate(timeout=WRITER_TIMEOUT)
    second_output, second_errors = second.communicate(timeout=WRITER_TIMEOUT)

    assert first.returncode == 0, first_errors
    assert second.returncode == 0, second_errors
    assert len(saved_names(first_output.splitlines())) == count
    assert len(saved_names(second_output.splitlines())) == count
    on_disk = file_names(jobs_path)
    assert {f"left-{n}" for n in range(count)} <= on_disk
    assert {f"right-{n}" for n in range(count)} <= on_disk
    assert len(on_disk) == 2 * count


def test_two_stores_in_threads_keep_both_sets(jobs_path: Path) -> None:
    count = 30
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        store = JobStore(jobs_path)
        mine: list[Job] = []
        try:
            for number in range(count):
                mine.append(job(f"{prefix}-{number}"))
                store.save(mine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in ("red", "blue")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WRITER_TIMEOUT)

    assert errors == []
    assert len(file_names(jobs_path)) == 2 * count


# Unreadable files


FOREIGN_TOML = """\
[tool.poetry]
name = "not-jobs"
version = "0.1.0"
"""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "it is empty", id="empty"),
        pytest.param(b"  \n\t\n", "it is empty", id="blank"),
        pytest.param(b"# no jobs yet\n", "not a plexe-tui jobs file", id="comments"),
        pytest.param(FOREIGN_TOML.encode(), "not a plexe-tui jobs file", id="foreign"),
        pytest.param(b'title = "TOML"\n', "not a plexe-tui jobs file", id="other-toml"),
        pytest.param(b"version = 3\njobs = []\n", "format version is 3", id="newer"),
        pytest.param(b"\x00\x01\x02garbage", "not valid TOML", id="binary"),
    ],
)
def test_unreadable_file_moved_aside(
    jobs_path: Path, content: bytes, reason: str
) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_bytes(content)

    loaded = JobStore(jobs_path).load()

    assert loaded.jobs == []
    assert loaded.warning is not None
    assert reason in loaded.warning
    aside = list(jobs_path.parent.glob("jobs.toml.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes() == content
    assert aside[0].name in loaded.warning
    assert not jobs_path.exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "it is empty", id="empty"),
        pytest.param(b'version = 1\n[[jobs]\nname = "x', "not valid TOML", id="cut"),
        pytest.param(FOREIGN_TOML.encode(), "not a plexe-tui jobs file", id="foreign"),
        pytest.param(b"version = 3\njobs = []\n", "format version is 3", id="newer"),
        pytest.param(b'version = 1\njobs = "x"\n', "not a list", id="not-a-list"),
    ],
)
def test_save_sets_aside_unreadable_file(
    jobs_path: Path, content: bytes, reason: str
) -> None:
    """A file broken while the app runs is kept aside, not overwritten."""
    store = JobStore(jobs_path)
    store.save([job("a")])
    jobs_path.write_bytes(content)

    store.save([job("a"), job("b")])

    assert file_names(jobs_path) == {"a", "b"}
    (aside,) = jobs_path.parent.glob("jobs.toml.corrupt-*")
    assert aside.read_bytes() == content
    (warning,) = store.take_warnings()
    assert reason in warning
    assert aside.name in warning
    assert "wrote the jobs it had in memory to a new file" in warning
    assert store.take_warnings() == []


def test_save_after_aside_is_quiet(jobs_path: Path) -> None:
    store = JobStore(jobs_path)
    store.save([job("a")])
    jobs_path.write_bytes(b"garbage = ")
    store.save([job("a")])
    store.take_warnings()

    store.save([job("a"), job("b")])

    assert store.take_warnings() == []
    assert len(list(jobs_path.parent.glob("jobs.toml.corrupt-*"))) == 1


def test_asides_in_one_second_all_kept(jobs_path: Path) -> None:
    store = JobStore(jobs_path)
    contents = [b"first = ", b"second = ", b"third = "]
    for content in contents:
        store.save([job("a")])
        jobs_path.write_bytes(content)
        store.save([job("a")])

    asides = sorted(jobs_path.parent.glob("jobs.toml.corrupt-*"))
    kept = sorted(path.read_bytes() for path in asides)
    assert kept == sorted(contents)


def test_second_load_after_aside_is_quiet(jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_bytes(FOREIGN_TOML.encode())

    first = JobStore(jobs_path).load()
    second = JobStore(jobs_path).load()

    assert first.warning is not None
    assert second.warning is None


# History bound


def dated(name: str, day: int, status: str) -> Job:
    return job(name, status, created_at=f"2025-01-{day:02d}T00:00:00+00:00")


def test_default_bound() -> None:
    assert JobStore(Path("jobs.toml")).max_jobs == DEFAULT_MAX_JOBS == 1000


def test_bound_drops_oldest_finished(jobs_path: Path) -> None:
    store = JobStore(jobs_path, max_jobs=3)
    jobs = [
        dated("a-done", 1, "completed"),
        dated("b-failed", 2, "failed"),
        dated("c-cancelled", 3, "cancelled"),
        dated("d-done", 4, "completed"),
        dated("e-done", 5, "completed"),
    ]

    store.save(jobs)

    assert [item.model_name for item in store.load().jobs] == [
        "e-done",
        "d-done",
        "c-cancelled",
    ]


def test_bound_never_drops_active(jobs_path: Path) -> None:
    store = JobStore(jobs_path, max_jobs=2)
    jobs = [
        dated("a-building", 1, "building"),
        dated("b-pending", 2, "pending"),
        dated("c-done", 3, "completed"),
        dated("d-odd-word", 4, "paused_awaiting_feedback"),
        dated("e-done", 5, "completed"),
    ]

    store.save(jobs)

    names = sorted(item.model_name for item in store.load().jobs)
    assert names == ["a-building", "b-pending", "d-odd-word"]


def test_bound_applies_to_jobs_from_disk(jobs_path: Path) -> None:
    JobStore(jobs_path).save([dated(f"old-{d}", d, "completed") for d in range(1, 6)])
    store = JobStore(jobs_path, max_jobs=4)

    store.save([dated("new", 20, "pending")])

    names = [item.model_name for item in store.load().jobs]
    assert names == ["new", "old-5", "old-4", "old-3"]


def test_bound_keeps_unreadable_tables(jobs_path: Path) -> None:
    jobs_path.parent.mkdir(parents=True)
    jobs_path.write_text(
        'version = 1\n\n[[jobs]]\nmodel_name = "future"\nmodel_version = 7\n'
        'server = "local"\ngoal = "g"\n',
        "utf-8",
    )
    store = JobStore(jobs_path, max_jobs=1)
    store.load()

    store.save([dated("x", 1, "completed"), dated("y", 2, "completed")])

    tables = tomllib.loads(jobs_path.read_text("utf-8"))["jobs"]
    assert [table["model_name"] for table in tables] == ["y", "future"]


def test_bound_must_be_positive(jobs_path: Path) -> None:
    with pytest.raises(ValueError, match="max_jobs"):
        JobStore(jobs_path, max_jobs=0)


# Whether the file changed behind the store's back


def test_is_current_tracks_other_writers(jobs_path: Path) -> None:
    store = JobStore(jobs_path)
    assert store.is_current()

    store.save([job("a")])
    saved = store.is_current()
    JobStore(jobs_path).save([job("b")])
    after_other = store.is_current()
    store.load()
    after_load = store.is_current()
    jobs_path.unlink()

    assert saved
    assert not after_other
    assert after_load
    assert not store.is_current()
