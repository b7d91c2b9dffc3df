"""The app's jobs in memory: the one place that changes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from plexe_tui.api import BuildStatus, is_terminal
from plexe_tui.store import ORIGIN_LISTED, Job, JobStore, LoadResult, utc_now
from plexe_tui.store.jobs import forget_time, is_forgotten, join_forgotten
from plexe_tui.ui.format import parse_time

if TYPE_CHECKING:
    from plexe_tui.ui.server_sync import SyncRound

FORGET_CLOCK_MARGIN = timedelta(minutes=5)
"""How far a server's clock may run ahead of this machine's, for forgotten jobs."""

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

# Job fields that describe the build's plan, not one moment of it, so a later
# response that lacks them does not make them stale.
PLAN_FIELDS = frozenset({"planned_iterations"})


class JobBook:
    """Jobs by key, newest first, read from and written to a JobStore."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._jobs: dict[str, Job] = {}
        self.missing: set[str] = set()
        """Keys of jobs their server returned 404 for, not polled again this run."""
        self._copies: dict[str, Job] = {}
        """The last snapshot's copy of each job that has not changed since."""
        self.complete = True
        """False while only the newest jobs of the file are loaded."""
        self.forgotten: dict[str, str] = {}
        """Keys of forgotten jobs and when they were forgotten, in this app or
        in the jobs file. Saves leave out the jobs they cover, and polls do not
        bring them back from a server's model list."""
        self.status_listeners: list[StatusListener] = []
        """Called after `apply_status` changes a job's status word."""

    def load(self) -> str | None:
        """Read the jobs file; return a warning to show once, if any."""
        result = self.store.load()
        self._jobs = {job.key: job for job in result.jobs}
        self._copies = {}
        self.complete = True
        self.forgotten = dict(result.forgotten)
        return result.warning

    def load_newest(self, count: int) -> LoadResult:
        """Read only the newest `count` jobs, fast, for the first frame.

        When `complete` is False afterwards, call `store.load()` off the UI's
        path and pass its result to `add_loaded`.
        """
        result = self.store.load_newest(count)
        self._jobs = {job.key: job for job in result.jobs}
        self._copies = {}
        self.complete = result.complete
        self.forgotten = dict(result.forgotten)
        return result

    def add_loaded(self, result: LoadResult) -> set[str]:
        """Add the jobs of a full load that the book lacks; return the changed keys.

        A job already in the book is kept as it is: it was read from the same
        file and may have been updated since. Jobs that the file's forgotten
        keys cover are removed, since a poll may have listed them before the
        load ended.
        """
        added = {job.key for job in result.jobs if job.key not in self._jobs}
        for job in result.jobs:
            self._jobs.setdefault(job.key, job)
        self.complete = True
        return added | self.take_forgotten(result.forgotten)

    def take_forgotten(self, forgotten: Mapping[str, str]) -> set[str]:
        """Record keys forgotten elsewhere, remove the jobs they cover, return those.

        Another app instance on the same jobs file, or an earlier run of this
        one, may have forgotten a job that this book still contains.
        """
        if forgotten.items() <= self.forgotten.items():
            return set()  # Nothing new: the jobs they cover are gone already.
        self.forgotten = join_forgotten(self.forgotten, forgotten)
        removed = {
            key for key, job in self._jobs.items() if is_forgotten(job, forgotten)
        }
        for key in removed:
            del self._jobs[key]
            self._copies.pop(key, None)
            self.missing.discard(key)
        return removed

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
        self._copies.pop(key, None)
        # Server messages usually end with a period, which must not end up
        # inside the brackets.
        job.error = (
            f"The server has no record of this build ({message.rstrip('.')}). "
            "It is no longer polled; its data folder may have been removed."
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
            self.forgotten.pop(job.key, None)
        self._jobs[job.key] = job
        self._copies.pop(job.key, None)

    def take_from_disk(self, jobs: list[Job]) -> set[str]:
        """Add the jobs from a save that the book lacks or has an older copy of.

        A save returns the jobs it found newer in the file than in its
        snapshot, but the book may have read the same jobs since, because the
        full load after the first frame runs beside the first saves. A job
        replaces the book's only when its `updated_at` is later. Return the
        keys of the jobs added or replaced.
        """
        added = set()
        for job in jobs:
            current = self._jobs.get(job.key)
            if current is None or _is_later(job.updated_at, current.updated_at):
                self.add(job)
                added.add(job.key)
        return added

    def remove(self, key: str) -> Job | None:
        """Forget a job: drop it here and from the jobs file at the next save."""
        self.missing.discard(key)
        self._copies.pop(key, None)
        job = self._jobs.pop(key, None)
        self.forgotten[key] = utc_now() if job is None else forget_time(job)
        return job

    def active_servers(self) -> set[str]:
        """Return the servers that have jobs that have not ended."""
        return {
            job.server
            for job in self._jobs.values()
            if not is_terminal(job.status) and job.key not in self.missing
        }

    def apply_status(
        self, key: str, status: BuildStatus, *, partial: bool = False
    ) -> bool:
        """Copy a status response into the job; return whether anything changed.

        With `partial`, the response may lack fields, as a list item lacks the
        phase and iteration of a status response. While the fields it has match
        the job, the job keeps the ones it lacks. Once the build moved on (its
        status or progress changed), the job's other fields describe an older
        moment, so they are cleared, all but those in PLAN_FIELDS.
        """
        job = self._jobs.get(key)
        if job is None:
            return False

        previous = job.status
        changed = False
        lacking = []
        for job_field, status_field in STATUS_FIELDS.items():
            value = getattr(status, status_field)
            if partial and value is None:
                lacking.append(job_field)
                continue
            if getattr(job, job_field) != value:
                setattr(job, job_field, value)
                changed = True

        if changed:
            for job_field in lacking:
                if job_field not in PLAN_FIELDS:
                    setattr(job, job_field, None)

        seen_at = status.updated_at or utc_now()
        if changed:
            job.updated_at = _later(job.updated_at, seen_at)
            self._copies.pop(key, None)
        if job.status != previous:
            job.record_status(job.status, seen_at)
            self._copies.pop(key, None)
            for listener in self.status_listeners:
                listener(job, previous)
        return changed

    def apply_round(self, server: str, result: SyncRound) -> set[str]:
        """Record what a polling round of `server` learned; return changed keys.

        Listed builds this app does not know are added with `ORIGIN_LISTED`,
        except those the user forgot this run. A known build that has ended is
        left as it is: it is never polled again, and a list item is no reason
        to change it.

        NOTE: forgotten keys live in memory only, so a build that its server
        still lists comes back as external after the app restarts.
        """
        changed: set[str] = set()
        for key, item in result.listed.items():
            job = self._jobs.get(key)
            if job is None:
                listed = job_from_listing(item, server)
                if self._forgot_listing(listed, item):
                    continue
                self.add(listed)
                changed.add(key)
            elif (
                not is_terminal(job.status)
                and key not in self.missing
                and self.apply_status(key, item, partial=True)
            ):
                changed.add(key)
        for key, status in result.statuses.items():
            if self.apply_status(key, status):
                changed.add(key)
        for key, message in result.missing.items():
            if self.mark_missing(key, message):
                changed.add(key)
        return changed

    def _forgot_listing(self, listed: Job, item: BuildStatus) -> bool:
        """Return whether a listed build is one the user forgot.

        The server stamps a build with its own clock, a little after this app
        stamped its copy, and that clock may run ahead. So only a build created
        more than FORGET_CLOCK_MARGIN after the forget counts as a new one
        under the same key. A list item without a creation time gets the
        current time, so for it the key alone decides.
        """
        at = parse_time(self.forgotten.get(listed.key))
        if at is None:
            return False
        created = parse_time(_stored_time(item.created_at))
        return created is None or created <= at + FORGET_CLOCK_MARGIN

    def snapshot(self) -> list[Job]:
        """Return copies of every job, safe to write from another thread.

        A job is copied again only after it changed, so the save after a poll
        that changed 50 of 5,000 jobs copies 50 on the UI's thread. Copies are
        shallow and shared between snapshots, so neither the store nor the app
        changes them or their schemas in place; the store sorts them.
        """
        copies = self._copies
        snapshot = []
        for job in self._jobs.values():
            saved = copies.get(job.key)
            if saved is None:
                saved = copies[job.key] = job.copy()
            snapshot.append(saved)
        return snapshot


def job_from_listing(item: BuildStatus, server: str) -> Job:
    """Return a job for a build found in a server's model list."""
    created = _stored_time(item.created_at) or utc_now()
    job = Job(
        model_name=item.model_name,
        model_version=item.model_version,
        server=server,
        goal=item.goal or "",
        origin=ORIGIN_LISTED,
        created_at=created,
        updated_at=_stored_time(item.updated_at) or created,
    )
    for job_field, status_field in STATUS_FIELDS.items():
        setattr(job, job_field, getattr(item, status_field))
    return job


def _stored_time(value: str | None) -> str | None:
    """Return a server's time in the jobs file's form, so that times sort as text."""
    moment = parse_time(value)
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


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


def _is_later(first: str, second: str) -> bool:
    """Return whether ISO time `first` is after `second`; False if either is invalid."""
    first_time, second_time = parse_time(first), parse_time(second)
    if first_time is None or second_time is None:
        return False
    return first_time > second_time
