"""The jobs file: recent builds, kept across restarts in TOML."""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from plexe_tui.store.atomic import write_atomic

FORMAT_VERSION = 1
FILE_NAME = "jobs.toml"

log = logging.getLogger(__name__)


def utc_now() -> str:
    """Return the current time as ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


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

    @property
    def key(self) -> str:
        """Identity across servers: name, version and the server's base URL."""
        return f"{self.model_name}:{self.model_version}@{self.server}"

    @property
    def label(self) -> str:
        """The platform's own `name:version` form."""
        return f"{self.model_name}:{self.model_version}"

    def to_toml(self) -> dict[str, Any]:
        """Return the fields that have a value; TOML has no null."""
        table: dict[str, Any] = _drop_none(dataclasses.asdict(self))
        return table

    @classmethod
    def from_toml(cls, table: dict[str, Any]) -> Job:
        """Build a job from a TOML table, ignoring fields this version does not know."""
        known = {item.name for item in dataclasses.fields(cls)}
        values = {name: value for name, value in table.items() if name in known}
        for required in ("model_name", "model_version", "server", "goal"):
            if not isinstance(values.get(required), str):
                raise ValueError(f"a job without a text {required}")
        return cls(**values)


def _drop_none(value: Any) -> Any:
    """Leave out None at every depth, because schemas from a server may hold null."""
    if isinstance(value, dict):
        return {
            key: _drop_none(item) for key, item in value.items() if item is not None
        }
    if isinstance(value, list):
        return [_drop_none(item) for item in value if item is not None]
    return value


@dataclass
class LoadResult:
    """Jobs read from the file, and a warning to show once when some were not."""

    jobs: list[Job]
    warning: str | None = None


class JobStore:
    """Reads and writes the jobs file. The API key is never a field of a job."""

    def __init__(self, path: Path) -> None:
        self.path = path

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

    def save(self, jobs: list[Job]) -> None:
        """Write all jobs, replacing the file atomically."""
        document = {
            "version": FORMAT_VERSION,
            "jobs": [job.to_toml() for job in jobs],
        }
        write_atomic(self.path, tomli_w.dumps(document).encode("utf-8"))

    def _read_jobs(self, tables: Any) -> LoadResult:
        if not isinstance(tables, list):
            return self._set_aside("its `jobs` entry is not a list of tables")

        jobs: list[Job] = []
        skipped = 0
        for table in tables:
            if not isinstance(table, dict):
                log.warning("Skipped a job in %s: %r is not a table", self.path, table)
                skipped += 1
                continue
            try:
                jobs.append(Job.from_toml(table))
            except (TypeError, ValueError) as exc:
                log.warning("Skipped a job in %s: %s", self.path, exc)
                skipped += 1

        warning = None
        if skipped:
            warning = f"Skipped {skipped} unreadable job(s) in {self.path}."
        return LoadResult(jobs=jobs, warning=warning)

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
