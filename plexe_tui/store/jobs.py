"""The jobs file: recent builds, kept across restarts in TOML."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import tomllib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

import tomli_w

from plexe_tui.store.atomic import remove_stale_temp_files, write_atomic
from plexe_tui.store.job_encoding import JobEncoder
from plexe_tui.store.job_index import (
    INDEX_FILE_NAME,
    FileStamp,
    JobIndex,
    encode_table,
)
from plexe_tui.store.toml_writer import dumps_section, dumps_table, join_document

FORMAT_VERSION = 1
FILE_NAME = "jobs.toml"
TABLE_HEADER = b"\n[[jobs]]"
DEFAULT_MAX_JOBS = 1000
"""Jobs the file keeps by default; beyond it the oldest finished jobs are dropped."""
# Statuses of jobs that may be dropped from a full file. They are the canonical
# terminal words, which every job gets once the client has read its status.
FINISHED_STATUSES = frozenset({"completed", "failed", "cancelled"})
FORGOTTEN_TABLE = "forgotten"
"""The file's table of forgotten jobs: job key = the time it was forgotten."""
MAX_FORGOTTEN = 1000
"""Forgotten keys the file keeps, the most recently forgotten first.

A key must outlive every app instance that still has the job in memory, and
every server list that still contains the build. The app reads at most the
1,000 newest models of a server's list, so as many keys, at about 80 bytes
each, cover every build of one server that the app can list.
"""
# Status changes kept per job: the first one and the latest ones. A build
# changes status a handful of times, so the cap only guards against a server
# that flips between words on every poll.
MAX_HISTORY = 50

log = logging.getLogger(__name__)


ORIGIN_LISTED = "listed"
"""`Job.origin` of a build found in a server's model list."""


def job_key(model_name: str, model_version: str, server: str) -> str:
    """Return the key of a job: `name:version@server`."""
    return f"{model_name}:{model_version}@{server}"


def utc_now() -> str:
    """Return the current time as ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class StatusChange:
    """One change of a job's status word, and when it was seen."""

    status: str
    at: str
    """ISO 8601 time: the server's `updated_at` when it sent one, else the app's."""

    @classmethod
    def from_toml(cls, table: Any) -> StatusChange | None:
        """Read one entry of a job's `history`; None when it is not a valid entry."""
        if not isinstance(table, dict):
            return None
        status, at = table.get("status"), table.get("at")
        if not isinstance(status, str) or not isinstance(at, str):
            return None
        return cls(status=status, at=at)


@dataclass
class Job:
    """One build: the request as sent, and its latest status."""

    model_name: str
    model_version: str
    server: str
    """Base URL of the server that runs the build."""
    goal: str
    status: str = "pending"
    dataset: str | None = None
    """The dataset as the user entered it: a local path, an upload id or a URL."""
    upload_id: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    metric: str | None = None
    """The metric the user asked to optimise."""
    max_iterations: int | None = None
    provider: str | None = None
    metric_name: str | None = None
    """The metric the server reported, with `metric_value`."""
    metric_value: float | None = None
    best_metric_name: str | None = None
    """The best metric so far while the build runs, with `best_metric_value`."""
    best_metric_value: float | None = None
    build_progress: float | None = None
    """Percent, 0 to 100, when the server reports it."""
    phase: str | None = None
    iteration: int | None = None
    planned_iterations: int | None = None
    """How many approaches the server plans to try; `max_iterations` is the request."""
    error: str | None = None
    parent: str | None = None
    """Key of the job this one was resubmitted from."""
    origin: str | None = None
    """Where the job came from: None for a build this app started, or
    `ORIGIN_LISTED` for one found in the server's model list (started from the
    platform console or another machine)."""
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    history: list[StatusChange] = field(default_factory=list)
    """Status changes, oldest first, at most MAX_HISTORY. Files written before
    this field existed load with an empty history."""

    @property
    def key(self) -> str:
        """Identity across servers: name, version and the server's base URL."""
        return job_key(self.model_name, self.model_version, self.server)

    @property
    def label(self) -> str:
        """The platform's own `name:version` form."""
        return f"{self.model_name}:{self.model_version}"

    def copy(self) -> Job:
        """Return a shallow copy: nested schemas are shared.

        Saves copy every job, and this skips the generic copy protocol: 1,000
        copies took 0.8 ms, against 5 ms with copy.copy and 15 ms with
        dataclasses.replace (Python 3.11, 2-core Xeon).
        """
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        # The history grows in place, so a copy handed to a writer thread
        # gets a list of its own.
        clone.history = list(self.history)
        return clone

    def record_status(self, status: str, at: str) -> None:
        """Append a status change; keep the first and the latest MAX_HISTORY - 1."""
        if self.history and self.history[-1].status == status:
            return
        self.history.append(StatusChange(status=status, at=at))
        self.history[:] = _bounded(self.history)

    def to_toml(self) -> dict[str, Any]:
        """Return the fields that have a value; TOML has no null.

        Nested values (schemas) are copied, so the table shares nothing
        mutable with the job.
        """
        table: dict[str, Any] = {}
        for name in FIELD_NAMES:
            value = getattr(self, name)
            if value is None or (name == "history" and not value):
                continue
            if name == "history":
                value = [dataclasses.asdict(change) for change in value]
            elif isinstance(value, dict | list):
                value = _drop_none(value)
            table[name] = value
        return table

    @classmethod
    def from_toml(cls, table: dict[str, Any]) -> Job:
        """Build a job from a TOML table.

        Fields this version does not know are ignored, and an optional field of
        the wrong type (a hand edit, say) is cleared and logged. A required field
        that is missing or not text raises ValueError.
        """
        values: dict[str, Any] = {}
        for name, value in table.items():
            if name == "history":
                values[name] = _read_history(value)
                continue
            kind = FIELD_KINDS.get(name)
            if kind is None:
                continue
            if _has_kind(value, kind):
                values[name] = float(value) if kind is float else value
            elif name in REQUIRED_FIELDS:
                raise ValueError(f"its {name} is {value!r}, not text")
            else:
                log.warning("Cleared %s=%r of a job: expected %s", name, value, kind)

        for required in REQUIRED_FIELDS:
            if required not in values:
                raise ValueError(f"it has no {required}")
        return cls(**values)


def _read_history(value: Any) -> list[StatusChange]:
    """Read a job's `history`, dropping (and logging) entries that are not valid."""
    entries = value if isinstance(value, list) else [value]
    history: list[StatusChange] = []
    for entry in entries:
        change = StatusChange.from_toml(entry)
        if change is None:
            log.warning("Dropped a status change of a job: %r", entry)
        else:
            history.append(change)
    return _bounded(history)


def _bounded(history: list[StatusChange]) -> list[StatusChange]:
    """Return the first change and the latest MAX_HISTORY - 1 of a longer history."""
    if len(history) <= MAX_HISTORY:
        return history
    return [history[0], *history[len(history) - MAX_HISTORY + 1 :]]


def _drop_none(value: Any) -> Any:
    """Leave out None at every depth, because schemas from a server may hold null."""
    if isinstance(value, dict):
        return {
            key: _drop_none(item) for key, item in value.items() if item is not None
        }
    if isinstance(value, list):
        return [_drop_none(item) for item in value if item is not None]
    return value


REQUIRED_FIELDS = ("model_name", "model_version", "server", "goal")
FIELD_NAMES = tuple(item.name for item in dataclasses.fields(Job))

# The Python type each field must have in the file; TOML integers are also
# accepted where a float is expected.
FIELD_KINDS: dict[str, type] = {
    item.name: {"str": str, "float": float, "int": int}.get(
        item.type.split(" | ")[0] if isinstance(item.type, str) else "", dict
    )
    for item in dataclasses.fields(Job)
}


def _has_kind(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


@dataclass
class LoadResult:
    """Jobs read from the file, and a warning to show once when some were not."""

    jobs: list[Job]
    warning: str | None = None
    unreadable: list[Any] = field(default_factory=list)
    """Job tables this version cannot read, kept to be written back as they are."""
    complete: bool = True
    """False when only the head of the file was read (see `load_newest`)."""
    forgotten: dict[str, str] = field(default_factory=dict)
    """Keys of forgotten jobs and when they were forgotten (see `is_forgotten`)."""


@dataclass
class _DiskState:
    """The file as this store last read or wrote it, so a save can skip reading."""

    stamp: FileStamp
    jobs: list[Job]
    unreadable: list[Any]
    forgotten: dict[str, str]


def is_forgotten(job: Job, forgotten: Mapping[str, str]) -> bool:
    """Return whether `forgotten` covers `job`: its key was forgotten after it began.

    A build created after the forget under the same key (a server that gave
    out the name and version again) is a new build, and stays.
    """
    at = forgotten.get(job.key)
    return at is not None and not _is_later(job.created_at, at)


def forget_time(job: Job) -> str:
    """Return the time to record when `job` is forgotten: now, or its creation if later.

    A server's clock may run ahead of this machine's, and a forget must still
    cover the build it was made for.
    """
    now = utc_now()
    return job.created_at if _is_later(job.created_at, now) else now


class JobStore:
    """Reads and writes the jobs file. The API key is never a field of a job.

    The file keeps at most `max_jobs` jobs: each save drops the oldest finished
    jobs beyond it. Unfinished jobs are never dropped, so a file with more
    unfinished jobs than that keeps them all.

    Forgotten jobs leave a key in the file's `[forgotten]` table, so that
    another app instance that still has the job in memory does not write it
    back, and a server's model list does not bring it back. `forgotten` is
    that table as this store last read or wrote it.

    Beside the file, `jobs.index.json` keeps a JSON copy of its tables that
    reads about eight times faster (see `job_index`). Only a current copy is used.
    """

    def __init__(self, path: Path, *, max_jobs: int = DEFAULT_MAX_JOBS) -> None:
        if max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, not {max_jobs}")
        self.path = path
        self.max_jobs = max_jobs
        self.index = JobIndex(path.with_name(INDEX_FILE_NAME))
        self._encoder = JobEncoder()
        self._unreadable: list[Any] = []
        self._disk: _DiskState | None = None
        self.forgotten: dict[str, str] = {}
        self.warnings: list[str] = []
        """Problems that saves found with the file, for the app to show once."""

    def load(self) -> LoadResult:
        """Read every job; move an unreadable file aside and return a warning."""
        try:
            stamp, raw = self._read_file()
        except FileNotFoundError:
            return LoadResult(jobs=[])
        except OSError as exc:
            return LoadResult(jobs=[], warning=f"Cannot read {self.path}: {exc}.")

        if not raw.strip():
            # This app never writes an empty file, so a crash or another
            # program emptied it and its jobs are lost. The warning reports that.
            return self._set_aside("it is empty")

        copy = self.index.read(stamp)
        if copy is not None:
            return self._read_jobs(copy.tables, copy.forgotten, stamp)

        document = _parse_document(raw)
        if isinstance(document, str):
            return self._set_aside(document)

        tables = document.get("jobs", [])
        forgotten = document.get(FORGOTTEN_TABLE, {})
        result = self._read_jobs(tables, forgotten, stamp)
        if isinstance(tables, list):
            self.index.write(stamp, tables, result.forgotten)
        return result

    def load_newest(self, count: int) -> LoadResult:
        """Read the first `count` jobs of the file quickly, for a first frame.

        `save` writes the newest jobs first, so these are the newest unless the
        file was edited by hand. Only the head of the file is parsed: parsing
        5,000 jobs takes about 0.3 s, and 100 of them a few milliseconds. When
        the file contains at most `count` jobs, this is `load` itself and the
        result is complete. Otherwise `complete` is False, and the caller calls
        `load` later (in a worker thread) for every job and any warning. A head
        that does not parse, such as one cut inside a multi-line string of a
        hand-edited file, yields no jobs and complete=False; `load` then
        reports what is wrong.
        """
        try:
            stamp = FileStamp.of(self.path.stat())
        except OSError:
            return self.load()
        # The JSON index, while current, is faster still: the newest 100 of
        # tests/benchmarks/job_history.py's jobs took a median of 0.9 ms from it and
        # 7 ms with tomllib, at a load of 2.7 on a shared 2-core machine.
        indexed = self.index.read_head(stamp, count)
        if indexed is not None:
            head_tables, total = indexed
            if total <= count:
                return self.load()
            head_jobs, _, _ = _parse_tables(head_tables, quiet=True)
            return LoadResult(jobs=head_jobs, complete=False)

        try:
            raw = self.path.read_bytes()
        except OSError:
            return self.load()
        cut = _nth_table_offset(raw, count)
        if cut is None:
            return self.load()
        try:
            document = tomllib.loads(raw[:cut].decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            return LoadResult(jobs=[], complete=False)
        tables = document.get("jobs")
        if document.get("version") != FORMAT_VERSION or not isinstance(tables, list):
            return LoadResult(jobs=[], complete=False)
        jobs, _, _ = _parse_tables(tables, quiet=True)
        return LoadResult(jobs=jobs, complete=False)

    def save(
        self, jobs: list[Job], forget: Mapping[str, str] | Collection[str] = ()
    ) -> list[Job]:
        """Merge with the file on disk, write it atomically, return what was new there.

        Another app instance may have saved jobs since this one loaded, so the
        file is read again under a lock: jobs only on disk are kept, and for a
        job in both places the later `updated_at` wins. `forget` maps keys of
        forgotten jobs to the time they were forgotten (a plain collection of
        keys means now). It joins the file's own forgotten keys, and every job
        they cover (see `is_forgotten`) is left out, wherever it comes from.
        Tables this version cannot read are written back untouched. The oldest
        finished jobs beyond `max_jobs` are left out. The returned jobs are
        those on disk that were unknown to `jobs` or newer there. When the file
        is still the one this store last read or wrote, it is not read again.
        """
        with _file_lock(self.path):
            # Writers create temporary files only while holding the lock, so
            # every one found now was left by a writer killed mid-save.
            if fcntl is not None:
                remove_stale_temp_files(self.path)
            disk = self._read_quietly()
            forgotten = join_forgotten(disk.forgotten, _forget_times(forget))
            on_disk = [job for job in disk.jobs if not is_forgotten(job, forgotten)]
            mine = [job for job in jobs if not is_forgotten(job, forgotten)]
            merged, from_disk = _merge(mine, on_disk)
            merged = _bound(merged, self.max_jobs)
            unreadable = _unique(self._unreadable + disk.unreadable)
            data, index_lines = self._encode(merged, unreadable, forgotten)
            stamp = FileStamp.of(write_atomic(self.path, data))
            if index_lines is None:
                self.index.remove()
            else:
                self.index.write_lines(stamp, index_lines, forgotten)
            self._disk = _DiskState(stamp, _copies(merged), unreadable, forgotten)
            self.forgotten = dict(forgotten)
        return _copies(from_disk)

    def _encode(
        self, jobs: list[Job], unreadable: list[Any], forgotten: dict[str, str]
    ) -> tuple[bytes, list[str] | None]:
        """Return the file's bytes and its index lines (None when JSON cannot hold it).

        TOML dates, which only a hand-edited table can hold, need tomli_w.
        The forgotten keys go last, after the job tables, so that
        `load_newest` reads the head of the file without them.
        """
        try:
            tables, lines = self._encoder.encode(jobs)
            for table in unreadable:
                tables.append(dumps_table("jobs", table))
                lines.append(encode_table(table))
        except (TypeError, ValueError):
            document: dict[str, Any] = {
                "version": FORMAT_VERSION,
                "jobs": [job.to_toml() for job in jobs] + unreadable,
            }
            if forgotten:
                document[FORGOTTEN_TABLE] = forgotten
            return tomli_w.dumps(document).encode("utf-8"), None
        text = join_document(FORMAT_VERSION, "jobs", tables)
        if forgotten:
            text += dumps_section(FORGOTTEN_TABLE, forgotten)
        return text.encode("utf-8"), lines

    def _read_file(self) -> tuple[FileStamp, bytes]:
        """Return the file's stamp and bytes, both from the same open file."""
        with self.path.open("rb") as handle:
            stamp = FileStamp.of(os.fstat(handle.fileno()))
            return stamp, handle.read()

    def _read_quietly(self) -> _DiskState | LoadResult:
        """Read the file for a merge; an unreadable file counts as empty.

        A file that is there but cannot be read (another program or a hand
        edit broke it while the app ran) is moved aside first, as `load`
        does, and its warning is added to `warnings`. A file that cannot be
        opened at all is left for the write to report.
        """
        try:
            with self.path.open("rb") as handle:
                stamp = FileStamp.of(os.fstat(handle.fileno()))
                if self._disk is not None and self._disk.stamp == stamp:
                    return self._disk
                copy = self.index.read(stamp)
                raw = handle.read() if copy is None else b""
        except OSError:
            return LoadResult(jobs=[])

        if copy is None:
            document = _parse_document(raw)
            if isinstance(document, str):
                return self._set_aside_while_saving(document)
            tables = document.get("jobs", [])
            forgotten = document.get(FORGOTTEN_TABLE, {})
        else:
            tables, forgotten = copy.tables, copy.forgotten
        if not isinstance(tables, list):
            return self._set_aside_while_saving(NOT_A_LIST)
        jobs, unreadable, _ = _parse_tables(tables)
        return LoadResult(
            jobs=jobs, unreadable=unreadable, forgotten=_read_forgotten(forgotten)
        )

    def _read_jobs(self, tables: Any, forgotten: Any, stamp: FileStamp) -> LoadResult:
        if not isinstance(tables, list):
            return self._set_aside(NOT_A_LIST)

        jobs, unreadable, reasons = _parse_tables(tables)
        keys = _read_forgotten(forgotten)
        # Only a hand edit puts a forgotten job back into the file.
        jobs = [job for job in jobs if not is_forgotten(job, keys)]
        self._unreadable = unreadable
        self._disk = _DiskState(stamp, _copies(jobs), unreadable, keys)
        self.forgotten = dict(keys)
        warning = None
        if reasons:
            count = len(reasons)
            noun = "job" if count == 1 else "jobs"
            warning = (
                f"{count} {noun} in {self.path} cannot be read ({reasons[0]}); "
                "tables among them stay in the file untouched."
            )
        return LoadResult(
            jobs=jobs, unreadable=unreadable, warning=warning, forgotten=dict(keys)
        )

    def _set_aside_while_saving(self, reason: str) -> LoadResult:
        """Move the unreadable file aside during a save, and keep its warning."""
        result = self._set_aside(reason)
        if result.warning is not None:
            self.warnings.append(
                f"{result.warning} The app wrote the jobs it had in memory to a "
                "new file."
            )
        return result

    def is_current(self) -> bool:
        """Return whether the file is still the one this store last read or wrote.

        False when anything else changed, replaced or removed it since, or
        when it appeared without this store reading it.
        """
        try:
            stamp = FileStamp.of(self.path.stat())
        except FileNotFoundError:
            return self._disk is None
        except OSError:
            return False
        return self._disk is not None and self._disk.stamp == stamp

    def take_warnings(self) -> list[str]:
        """Return and clear the warnings of saves that found the file unreadable."""
        warnings, self.warnings = self.warnings, []
        return warnings

    def _set_aside(self, reason: str) -> LoadResult:
        """Rename the unreadable file so that nothing overwrites it."""
        self.index.remove()
        aside = _aside_path(self.path)
        try:
            self.path.replace(aside)
        except OSError as exc:
            log.error("Cannot move %s aside: %s", self.path, exc)
            return LoadResult(
                jobs=[],
                warning=f"Cannot read {self.path}: {reason}, and cannot move it aside.",
            )
        log.warning("Moved unreadable %s to %s: %s", self.path, aside, reason)
        return LoadResult(
            jobs=[],
            warning=f"Cannot read {self.path}: {reason}. It was moved to {aside.name}.",
        )


NOT_A_LIST = "its `jobs` entry is not a list of tables"


def _parse_document(raw: bytes) -> dict[str, Any] | str:
    """Return the parsed jobs file, or why it is not one as a clause for the user."""
    if not raw.strip():
        return "it is empty"
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return f"it is not valid TOML ({exc})"

    if "version" not in document:
        return "it has no format version, so it is not a plexe-tui jobs file"
    version = document["version"]
    if version != FORMAT_VERSION:
        return f"its format version is {version!r}, and this app reads {FORMAT_VERSION}"
    return document


def _aside_path(path: Path) -> Path:
    """Return a free name for an unreadable file: `<name>.corrupt-<UTC time>`.

    Two files set aside within one second get `-2`, `-3` and so on, so
    neither replaces the other.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 2
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
        number += 1
    return aside


def _nth_table_offset(raw: bytes, count: int) -> int | None:
    """Return where job table `count` (from 0) starts, or None if there is none.

    A `[[jobs]]` line inside a multi-line string also counts. Cutting there
    leaves that string open, so the head does not parse, and the caller
    notices.
    """
    offset = -1
    for _ in range(count + 1):
        offset = raw.find(TABLE_HEADER, offset + 1)
        if offset < 0:
            return None
    return offset + 1


def _copies(jobs: list[Job]) -> list[Job]:
    """Return shallow copies, which later changes to `jobs` leave alone."""
    return [job.copy() for job in jobs]


def _parse_tables(
    tables: Any, *, quiet: bool = False
) -> tuple[list[Job], list[Any], list[str]]:
    """Return the readable jobs, the unreadable tables, and why each failed.

    A value that is not a table at all is dropped: it cannot be a job of any
    version. `quiet` leaves the failures unlogged, for a read that `load`
    repeats.
    """
    jobs: list[Job] = []
    unreadable: list[Any] = []
    reasons: list[str] = []
    for table in tables if isinstance(tables, list) else []:
        if not isinstance(table, dict):
            if not quiet:
                log.warning("Dropped %r from the jobs file: it is not a table", table)
            reasons.append(f"{table!r} is not a table")
            continue
        try:
            jobs.append(Job.from_toml(table))
        except (TypeError, ValueError) as exc:
            if not quiet:
                log.warning("Cannot read a job in the jobs file: %s", exc)
            unreadable.append(table)
            reasons.append(str(exc))
    return jobs, unreadable, reasons


def _merge(mine: list[Job], theirs: list[Job]) -> tuple[list[Job], list[Job]]:
    """Return all jobs (the later update of each key) and those taken from `theirs`."""
    merged = {job.key: job for job in mine}
    from_theirs: list[Job] = []
    for job in theirs:
        current = merged.get(job.key)
        if current is None or _is_later(job.updated_at, current.updated_at):
            merged[job.key] = job
            from_theirs.append(job)
    ordered = sorted(merged.values(), key=lambda job: job.created_at, reverse=True)
    return ordered, from_theirs


def _forget_times(forget: Mapping[str, str] | Collection[str]) -> dict[str, str]:
    if isinstance(forget, Mapping):
        return dict(forget)
    now = utc_now()
    return dict.fromkeys(forget, now)


def join_forgotten(*tables: Mapping[str, str]) -> dict[str, str]:
    """Return the forgotten keys of all `tables`, each with its latest time.

    At most MAX_FORGOTTEN keys are kept, the most recently forgotten, ordered
    newest first.
    """
    joined: dict[str, str] = {}
    for table in tables:
        for key, at in table.items():
            current = joined.get(key)
            if current is None or _is_later(at, current):
                joined[key] = at
    oldest = datetime.min.replace(tzinfo=UTC)
    newest = sorted(
        joined.items(),
        key=lambda item: _sort_time(item[1]) or oldest,
        reverse=True,
    )
    return dict(newest[:MAX_FORGOTTEN])


def _read_forgotten(value: Any) -> dict[str, str]:
    """Read the `forgotten` table; drop (and log) entries that are not key = time."""
    if not isinstance(value, dict):
        log.warning("Ignored the forgotten jobs of the jobs file: %r", value)
        return {}
    forgotten: dict[str, str] = {}
    for key, at in value.items():
        if isinstance(at, str) and _sort_time(at) is not None:
            forgotten[key] = at
        else:
            log.warning("Ignored a forgotten job of the jobs file: %s = %r", key, at)
    return forgotten


def _sort_time(text: str) -> datetime | None:
    """Return an ISO 8601 time as an aware datetime (UTC when it has no offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bound(jobs: list[Job], max_jobs: int) -> list[Job]:
    """Drop the oldest finished jobs until at most `max_jobs` remain.

    `jobs` is ordered newest first, and the order is kept.
    """
    excess = len(jobs) - max_jobs
    if excess <= 0:
        return jobs
    dropped: set[int] = set()
    for index in range(len(jobs) - 1, -1, -1):
        if len(dropped) == excess:
            break
        if jobs[index].status in FINISHED_STATUSES:
            dropped.add(index)
    if dropped:
        log.info(
            "Dropped %d finished jobs beyond the limit of %d", len(dropped), max_jobs
        )
    return [job for index, job in enumerate(jobs) if index not in dropped]


def _is_later(first: str, second: str) -> bool:
    if first == second:
        return False
    try:
        return datetime.fromisoformat(first) > datetime.fromisoformat(second)
    except (TypeError, ValueError):
        return False


def _unique(tables: list[Any]) -> list[Any]:
    unique: list[Any] = []
    for table in tables:
        if table not in unique:
            unique.append(table)
    return unique


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `<path>.lock` so that two apps do not interleave.

    NOTE: fcntl exists only on Unix; elsewhere saves are not locked.
    """
    if fcntl is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
