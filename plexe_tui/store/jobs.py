"""The jobs file: recent builds, kept across restarts in TOML."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import tomllib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

import tomli_w

from plexe_tui.store.atomic import write_atomic

FORMAT_VERSION = 1
FILE_NAME = "jobs.toml"
# Status changes kept per job: the first one and the latest ones. A build
# changes status a handful of times, so the cap only guards against a server
# that flips between words on every poll.
MAX_HISTORY = 50

log = logging.getLogger(__name__)


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
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    history: list[StatusChange] = field(default_factory=list)
    """Status changes, oldest first, at most MAX_HISTORY. Files written before
    this field existed load with an empty history."""

    @property
    def key(self) -> str:
        """Identity across servers: name, version and the server's base URL."""
        return f"{self.model_name}:{self.model_version}@{self.server}"

    @property
    def label(self) -> str:
        """The platform's own `name:version` form."""
        return f"{self.model_name}:{self.model_version}"

    def record_status(self, status: str, at: str) -> None:
        """Append a status change; keep the first and the latest MAX_HISTORY - 1."""
        if self.history and self.history[-1].status == status:
            return
        self.history.append(StatusChange(status=status, at=at))
        self.history[:] = _bounded(self.history)

    def to_toml(self) -> dict[str, Any]:
        """Return the fields that have a value; TOML has no null."""
        table: dict[str, Any] = _drop_none(dataclasses.asdict(self))
        if not self.history:
            del table["history"]
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


class JobStore:
    """Reads and writes the jobs file. The API key is never a field of a job."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._unreadable: list[Any] = []

    def load(self) -> LoadResult:
        """Read every job; move an unreadable file aside and return a warning."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LoadResult(jobs=[])
        except OSError as exc:
            return LoadResult(jobs=[], warning=f"Cannot read {self.path}: {exc}.")

        try:
            document = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return self._set_aside(f"it is not valid TOML ({exc})")

        if not document:
            # An empty file, or one with only comments, contains no jobs, so
            # there is nothing to move aside.
            return LoadResult(jobs=[])

        version = document.get("version")
        if version != FORMAT_VERSION:
            return self._set_aside(
                f"its format version is {version!r}, "
                f"and this app reads {FORMAT_VERSION}"
            )

        return self._read_jobs(document.get("jobs", []))

    def save(self, jobs: list[Job], forget: Collection[str] = ()) -> list[Job]:
        """Merge with the file on disk, write it atomically, return what was new there.

        Another app instance may have saved jobs since this one loaded, so the
        file is read again under a lock: jobs only on disk are kept, and for a
        job in both places the later `updated_at` wins. Jobs whose key is in
        `forget` are left out of the file wherever they come from. Tables this
        version cannot read are written back untouched. The returned jobs are
        those on disk that were unknown to `jobs` or newer there.
        """
        with _file_lock(self.path):
            disk = self._read_quietly()
            on_disk = [job for job in disk.jobs if job.key not in forget]
            mine = [job for job in jobs if job.key not in forget]
            merged, from_disk = _merge(mine, on_disk)
            unreadable = _unique(self._unreadable + disk.unreadable)
            document = {
                "version": FORMAT_VERSION,
                "jobs": [job.to_toml() for job in merged] + unreadable,
            }
            write_atomic(self.path, tomli_w.dumps(document).encode("utf-8"))
        return from_disk

    def _read_quietly(self) -> LoadResult:
        """Read the file for a merge; an unreadable file counts as empty."""
        try:
            document = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return LoadResult(jobs=[])
        if document.get("version") != FORMAT_VERSION:
            return LoadResult(jobs=[])
        jobs, unreadable, _ = _parse_tables(document.get("jobs", []))
        return LoadResult(jobs=jobs, unreadable=unreadable)

    def _read_jobs(self, tables: Any) -> LoadResult:
        if not isinstance(tables, list):
            return self._set_aside("its `jobs` entry is not a list of tables")

        jobs, unreadable, reasons = _parse_tables(tables)
        self._unreadable = unreadable
        warning = None
        if reasons:
            count = len(reasons)
            noun = "job" if count == 1 else "jobs"
            warning = (
                f"{count} {noun} in {self.path} cannot be read ({reasons[0]}); "
                "tables among them stay in the file untouched."
            )
        return LoadResult(jobs=jobs, unreadable=unreadable, warning=warning)

    def _set_aside(self, reason: str) -> LoadResult:
        """Rename the unreadable file so that nothing overwrites it."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
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


def _parse_tables(tables: Any) -> tuple[list[Job], list[Any], list[str]]:
    """Return the readable jobs, the unreadable tables, and why each failed.

    A value that is not a table at all is dropped: it cannot be a job of any
    version.
    """
    jobs: list[Job] = []
    unreadable: list[Any] = []
    reasons: list[str] = []
    for table in tables if isinstance(tables, list) else []:
        if not isinstance(table, dict):
            log.warning("Dropped %r from the jobs file: it is not a table", table)
            reasons.append(f"{table!r} is not a table")
            continue
        try:
            jobs.append(Job.from_toml(table))
        except (TypeError, ValueError) as exc:
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


def _is_later(first: str, second: str) -> bool:
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
