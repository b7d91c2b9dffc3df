"""The app's jobs in memory: the one place that changes them."""

from __future__ import annotations

from plexe_tui.api import BuildStatus, is_terminal
from plexe_tui.store import Job, JobStore, LoadResult, utc_now

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
        self.complete = True
        """False while only the newest jobs of the file are loaded."""

    def load(self) -> str | None:
        """Read the jobs file; return a warning to show once, if any."""
        result = self.store.load()
        self._jobs = {job.key: job for job in result.jobs}
        self.complete = True
        return result.warning

    def load_newest(self, count: int) -> LoadResult:
        """Read only the newest `count` jobs, fast, for the first frame.

        When `complete` is False afterwards, call `store.load()` off the UI's
        path and pass its result to `add_loaded`.
        """
        result = self.store.load_newest(count)
        self._jobs = {job.key: job for job in result.jobs}
        self.complete = result.complete
        return result

    def add_loaded(self, result: LoadResult) -> set[str]:
        """Add the jobs of a full load that the book lacks; return their keys.

        A job already in the book is kept as it is: it was read from the same
        file and may have been updated since.
        """
        added = {job.key for job in result.jobs if job.key not in self._jobs}
        for job in result.jobs:
            self._jobs.setdefault(job.key, job)
        self.complete = True
        return added

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

    def add(self, job: Job) -> None:
        """Record a new job, or replace one with the same key."""
        self._jobs[job.key] = job

    def apply_status(self, key: str, status: BuildStatus) -> bool:
        """Copy a status response into the job; return whether anything changed."""
        job = self._jobs.get(key)
        if job is None:
            return False

        changed = False
        for job_field, status_field in STATUS_FIELDS.items():
            value = getattr(status, status_field)
            if getattr(job, job_field) != value:
                setattr(job, job_field, value)
                changed = True

        if changed:
            job.updated_at = status.updated_at or utc_now()
        return changed

    def snapshot(self) -> list[Job]:
        """Return copies of every job, safe to write from another thread.

        The copies are shallow and unsorted (the store sorts), because this
        runs on the event loop. Nested schemas are shared: the app replaces a
        schema and never changes one in place.
        """
        return [job.copy() for job in self._jobs.values()]
