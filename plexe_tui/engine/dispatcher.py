"""The build queue: training processes, N at a time, started and watched by a thread.

The dispatcher thread takes builds from a FIFO queue while fewer than
``max_parallel`` run, claims each one (pending to building), and runs
``worker.run_build`` in a "spawn" process. It polls its processes: when one ends
without a terminal status, the build is marked failed. On shutdown the running
processes are terminated and their builds stay ``building``, so ``start`` queues
them again at the next server start.
"""

import collections
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from enum import Enum
from multiprocessing.process import BaseProcess

from plexe_tui.engine.errors import NotFound
from plexe_tui.engine.folder_lock import wait_for_training_lock
from plexe_tui.engine.records import (
    TERMINAL_STATUSES,
    BuildRecord,
    BuildState,
    now_iso,
)
from plexe_tui.engine.settings import DEFAULT_MAX_PARALLEL_BUILDS
from plexe_tui.engine.storage import Storage
from plexe_tui.engine.worker import record_failure, run_build

logger = logging.getLogger(__name__)

BuildKey = tuple[str, str]

_POLL_SECONDS = 0.1
_TERMINATE_WAIT_SECONDS = 5.0
# A build with a timeout gets this much longer for loading, refitting and saving
# before its process is killed. The training process itself keeps to the timeout,
# so this only ends a process that hangs.
TIMEOUT_GRACE_SECONDS = 60.0
# A training process whose server was killed exits within about a second (see
# worker._exit_when_parent_exits). A new server waits this long for such an
# orphan before it takes the build over.
ORPHAN_WAIT_SECONDS = 15.0


class _Ending(Enum):
    EXITED = "exited"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"


@dataclass
class _Running:
    key: BuildKey
    process: BaseProcess
    started: float
    hard_deadline: float | None
    cancel_requested: bool = False


class BuildDispatcher:
    """Runs queued builds in training processes, ``max_parallel`` at a time."""

    def __init__(
        self, storage: Storage, max_parallel: int = DEFAULT_MAX_PARALLEL_BUILDS
    ) -> None:
        if max_parallel < 1:
            raise ValueError(f"max_parallel must be at least 1, not {max_parallel}")
        self._storage = storage
        self._max_parallel = max_parallel
        self._pending: collections.deque[BuildKey] = collections.deque()
        self._running: dict[BuildKey, _Running] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._context = multiprocessing.get_context("spawn")

    def start(self) -> None:
        """Queue the builds an earlier run left unfinished, then start the thread.

        Training processes that outlived an earlier server are waited for first,
        and then the temporary files of writes that a killed process left are
        deleted, since no write is in progress until the thread starts.
        """
        unfinished = self._unfinished()
        for record in unfinished:
            self._wait_for_orphan(record)
        self._storage.remove_stale_temporaries()
        self._requeue(unfinished)
        self._thread = threading.Thread(
            target=self._run, name="build-dispatcher", daemon=True
        )
        self._thread.start()

    def enqueue(self, name: str, version: str) -> None:
        """Add a pending build to the end of the queue."""
        with self._changed:
            self._pending.append((name, version))
            self._changed.notify_all()

    def queue_position(self, name: str, version: str) -> int | None:
        """Return a pending build's place in the queue (1 is next), else None."""
        with self._changed:
            try:
                return self._pending.index((name, version)) + 1
            except ValueError:
                return None

    def remove_pending(self, name: str, version: str) -> None:
        """Take a build out of the queue, if it is there."""
        with self._changed:
            if (name, version) in self._pending:
                self._pending.remove((name, version))
                self._changed.notify_all()

    def cancel(self, name: str, version: str, wait_seconds: float) -> bool:
        """Terminate the build's training process if it is running.

        Returns whether the build was running. Waits at most ``wait_seconds`` for the
        dispatcher to terminate the process and record the cancellation.
        """
        key = (name, version)
        with self._changed:
            running = self._running.get(key)
            if running is None:
                return False
            running.cancel_requested = True
            self._changed.notify_all()
            self._changed.wait_for(
                lambda: self._running.get(key) is not running, timeout=wait_seconds
            )
            return True

    def stop(self) -> None:
        """Stop the thread and terminate the running training processes."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=_TERMINATE_WAIT_SECONDS * 3)

    def _unfinished(self) -> list[BuildRecord]:
        return [
            record
            for record in reversed(self._storage.list_builds())
            if record.state.status not in TERMINAL_STATUSES
        ]

    def _wait_for_orphan(self, record: BuildRecord) -> None:
        name, version = record.model_name, record.model_version
        build_dir = self._storage.build_dir(name, version)
        if wait_for_training_lock(build_dir, timeout=0):
            return
        logger.info("waiting for an earlier training process of %s v%s", name, version)
        if not wait_for_training_lock(build_dir, ORPHAN_WAIT_SECONDS):
            logger.warning(
                "a training process of %s v%s still runs after %.0f s; queued anyway",
                name,
                version,
                ORPHAN_WAIT_SECONDS,
            )

    def _requeue(self, unfinished: list[BuildRecord]) -> None:
        for record in unfinished:
            name, version = record.model_name, record.model_version
            self._storage.update_state(name, version, _reset_to_pending)
            logger.info(
                "queued build %s v%s again: an earlier run left it %s",
                name,
                version,
                record.state.status,
            )
            self.enqueue(name, version)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._start_pending()
                self._check_running()
            except Exception:
                logger.exception("the build dispatcher failed; it keeps running")
            with self._changed:
                self._changed.wait(timeout=_POLL_SECONDS)
        for running in list(self._running.values()):
            _terminate(running.process)
            self._finish(running, _Ending.STOPPED)

    def _start_pending(self) -> None:
        while True:
            with self._changed:
                if not self._pending or len(self._running) >= self._max_parallel:
                    return
                key = self._pending.popleft()
            try:
                self._dispatch(*key)
            except Exception:
                logger.exception("dispatching build %s v%s failed", *key)

    def _check_running(self) -> None:
        for running in list(self._running.values()):
            ending = self._ending(running)
            if ending is None:
                continue
            if ending is not _Ending.EXITED:
                _terminate(running.process)
            self._finish(running, ending)

    def _ending(self, running: _Running) -> _Ending | None:
        if not running.process.is_alive():
            running.process.join()
            return _Ending.EXITED
        if running.cancel_requested:
            return _Ending.CANCELLED
        if running.hard_deadline and time.monotonic() > running.hard_deadline:
            return _Ending.TIMED_OUT
        return None

    def _dispatch(self, name: str, version: str) -> None:
        record = self._claim(name, version)
        if record is None:
            return
        timeout = record.request.timeout
        threads = max(1, (os.cpu_count() or 1) // self._max_parallel)
        process = self._context.Process(
            target=run_build,
            args=(str(self._storage.data_dir), name, version, time.time(), threads),
            name=f"plexe-build-{name}-{version}",
        )
        started = time.monotonic()
        hard_deadline = started + timeout + TIMEOUT_GRACE_SECONDS if timeout else None
        logger.info(
            "build %s v%s started (goal: %s)", name, version, record.request.goal
        )
        try:
            process.start()
        except OSError as error:
            message = f"The training process could not be started: {error}."
            logger.error("build %s v%s failed: %s", name, version, message)
            record_failure(self._storage, name, version, message)
            return
        with self._changed:
            self._running[(name, version)] = _Running(
                (name, version), process, started, hard_deadline
            )

    def _claim(self, name: str, version: str) -> BuildRecord | None:
        """Move a pending build to building, or return None if it is not pending."""
        with self._storage.lock:
            try:
                record = self._storage.read_build(name, version)
            except NotFound:
                return None
            if record.state.status != "pending":
                return None
            record.state.status = "building"
            record.state.phase = "starting"
            record.state.build_progress = 1
            record.state.started_at = now_iso()
            self._storage.write_build(record)
            return record

    def _finish(self, running: _Running, ending: _Ending) -> None:
        """Record how the build ended unless its process already did, and log it."""
        try:
            self._record_ending(running, ending)
        finally:
            with self._changed:
                self._running.pop(running.key, None)
                self._changed.notify_all()

    def _record_ending(self, running: _Running, ending: _Ending) -> None:
        name, version = running.key
        seconds = time.monotonic() - running.started
        if ending is _Ending.STOPPED:
            logger.info(
                "build %s v%s interrupted by shutdown; it resumes at the next start",
                name,
                version,
            )
            return
        with self._storage.lock:
            try:
                record = self._storage.read_build(name, version)
            except NotFound:
                logger.info("build %s v%s was deleted while it ran", name, version)
                return
            if record.state.status not in TERMINAL_STATUSES:
                if ending is _Ending.CANCELLED:
                    self._storage.update_state(name, version, mark_cancelled)
                else:
                    message = _ending_message(running, ending)
                    record_failure(self._storage, name, version, message)
                record = self._storage.read_build(name, version)
        _log_ending(record, seconds)


def _terminate(process: BaseProcess) -> None:
    """Send SIGTERM, then SIGKILL if the process is still alive after a while."""
    process.terminate()
    process.join(timeout=_TERMINATE_WAIT_SECONDS)
    if process.is_alive():
        process.kill()
        process.join(timeout=_TERMINATE_WAIT_SECONDS)


def _ending_message(running: _Running, ending: _Ending) -> str:
    if ending is _Ending.TIMED_OUT:
        return (
            "The build timed out: it ran past its timeout plus "
            f"{TIMEOUT_GRACE_SECONDS:.0f} s for loading and saving, so it was stopped."
        )
    code = running.process.exitcode
    if code is not None and code < 0:
        cause = f"was killed by signal {-code}"
    else:
        cause = f"exited with code {code}"
    return (
        f"The training process {cause} before finishing (out of memory is a common "
        "cause). See the engine log for details."
    )


def _log_ending(record: BuildRecord, seconds: float) -> None:
    name, version = record.model_name, record.model_version
    state = record.state
    if state.status == "completed" and state.result is not None:
        logger.info(
            "build %s v%s completed in %.1f s: %s=%.4f",
            name,
            version,
            seconds,
            state.result.metric_name,
            state.result.metric_value,
        )
    elif state.status == "failed":
        logger.warning("build %s v%s failed: %s", name, version, state.error)
    else:
        logger.info("build %s v%s ended %s", name, version, state.status)


def _reset_to_pending(state: BuildState) -> None:
    fresh = BuildState()
    for field_name in BuildState.model_fields:
        setattr(state, field_name, getattr(fresh, field_name))


def mark_cancelled(state: BuildState) -> None:
    """Set a build's state to cancelled."""
    state.status = "cancelled"
    state.phase = None
    state.error = None
    state.finished_at = now_iso()
