"""The app's jobs in memory: the one place that changes them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from plexe_tui.api import BuildStatus, is_terminal
from plexe_tui.store import Job, JobStore, utc_now
from plexe_tui.ui.format import parse_time

StatusListener = Callable[[Job, str], None]
"""Called with a job whose status word just changed, and its previous word."""

# Job field ← status field, for every job field a status response may update.
STATUS_FIELDS = {
    "status": "status",
    "build_progress": "build_progress",
    "phase": "phase",
    "iteration": "iteration",
    "planned_iterations": "max_iterations",
    "metric_name": "metric_name",
    "metric_value": "metric_value",
    "best_metric_name": "best_metric_name",
    "best_metric_value": "best_metric_value",
    "error": "error",
}


class JobBook:
    """Jobs by key, newest first, read from and written to a JobStore."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._jobs: dict[str, Job] = {}
        self.missing: set[str] = set()
        """Keys of jobs their server returned 404 for, not polled again this run."""
        self.forgotten: set[str] = set()
        """Keys of jobs the user removed this run, left out of every save."""
        self.status_listeners: list[StatusListener] = []
        """Called after `apply_status` changes a job's status word."""

    def load(self) -> str | None:
        """Read the jobs file; return a warning to show once, if any."""
        result = self.store.load()
        self._jobs = {job.key: job for job in result.jobs}
        return result.warning

    def __len__(self) -> int:
        return len(self._jobs)

    def get(self, key: str) -> Job | None:
        """Return the job with this key, if known."""
        return self._jobs.get(key)

    def ordered(self) -> list[Job]:
        """Return every job, newest first."""
        return sorted(self._jobs.values(), key=lambda job: job.created_at, reverse=True)

    def active(self, server: str) -> list[Job]:
        """Return the jobs on `server` that have not ended."""
        return [
            job
            for job in self._jobs.values()
            if job.server == server
            and not is_terminal(job.status)
            and job.key not in self.missing
        ]

    def mark_missing(self, key: str, message: str) -> bool:
        """Record that the server does not know a job; return whether it changed."""
        job = self._jobs.get(key)
        if job is None or key in self.missing:
            return False
        self.missing.add(key)
        job.error = (
            f"The server has no record of this build ({message}). It is no "
            "longer polled; its data folder may have been removed."
        )
        job.updated_at = utc_now()
        return True

    def add(self, job: Job, *, new: bool = False) -> None:
        """Record a job, or replace one with the same key.

        A `new` job (one just submitted) starts its status history with its
        first status at its creation time. Jobs read from the file keep theirs.
        """
        if new:
            if not job.history:
                job.record_status(job.status, job.created_at)
            self.forgotten.discard(job.key)
        self._jobs[job.key] = job

    def remove(self, key: str) -> Job | None:
        """Forget a job: drop it here and from the jobs file at the next save."""
        self.missing.discard(key)
        self.forgotten.add(key)
        return self._jobs.pop(key, None)

    def apply_status(self, key: str, status: BuildStatus) -> bool:
        """Copy a status response into the job; return whether anything changed."""
        job = self._jobs.get(key)
        if job is None:
            return False

        previous = job.status
        changed = False
        for job_field, status_field in STATUS_FIELDS.items():
            value = getattr(status, status_field)
            if getattr(job, job_field) != value:
                setattr(job, job_field, value)
                changed = True

        seen_at = status.updated_at or utc_now()
        if changed:
            job.updated_at = _later(job.updated_at, seen_at)
        if job.status != previous:
            job.record_status(job.status, seen_at)
            for listener in self.status_listeners:
                listener(job, previous)
        return changed

    def snapshot(self) -> list[Job]:
        """Return copies of every job, safe to write from another thread."""
        return [
            dataclasses.replace(job, history=list(job.history))
            for job in self.ordered()
        ]


def _later(current: str, candidate: str) -> str:
    """Return `candidate` unless it is earlier than `current`.

    A status must not move a job's `updated_at` back, because the jobs file
    keeps the later copy of a job and would let the copy saved before this
    change win over it. Server times can fall just before the app's own stamp of a new
    job, which is whole seconds.
    """
    before, after = parse_time(current), parse_time(candidate)
    if before is not None and after is not None and after < before:
        return current
    return candidate
