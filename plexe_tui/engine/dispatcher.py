"""The build queue: one training process at a time, started and watched by a thread.

The dispatcher thread takes builds from a FIFO queue, claims each one (pending to
building), runs ``worker.run_build`` in a "spawn" process, and waits for it. When
the process ends without a terminal status, the build is marked failed. On
shutdown the running process is terminated and its build stays ``building``, so
``start`` queues it again at the next server start.
"""

import logging
import multiprocessing
import queue
import threading
import time
from dataclasses import dataclass
from enum import Enum
from multiprocessing.process import BaseProcess

from plexe_tui.engine.errors import NotFound
from plexe_tui.engine.records import (
    TERMINAL_STATUSES,
    BuildRecord,
    BuildState,
    now_iso,
)
from plexe_tui.engine.storage import Storage
from plexe_tui.engine.worker import record_failure, run_build

logger = logging.getLogger(__name__)

BuildKey = tuple[str, str]

_POLL_SECONDS = 0.2
_TERMINATE_WAIT_SECONDS = 5.0
# A build with a timeout gets this much longer for loading, refitting and saving
# before its process is killed.
TIMEOUT_GRACE_SECONDS = 60.0


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
    """Runs queued builds one at a time in training processes."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._queue: queue.Queue[BuildKey] = queue.Queue()
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._running: _Running | None = None
        self._thread: threading.Thread | None = None
        self._context = multiprocessing.get_context("spawn")

    def start(self) -> None:
        """Queue the builds an earlier run left unfinished, then start the thread."""
        self._requeue_unfinished()
        self._thread = threading.Thread(
            target=self._run, name="build-dispatcher", daemon=True
        )
        self._thread.start()

    def enqueue(self, name: str, version: str) -> None:
        """Add a pending build to the end of the queue."""
        self._queue.put((name, version))

    def running(self) -> BuildKey | None:
        """Return the build whose training process is running, if any."""
        with self._changed:
            return self._running.key if self._running else None

    def cancel(self, name: str, version: str, wait_seconds: float) -> bool:
        """Terminate the build's training process if it is running.

        Returns whether the build was running. Waits at most ``wait_seconds`` for the
        dispatcher to terminate the process and record the cancellation.
        """
        key = (name, version)
        with self._changed:
            if self._running is None or self._running.key != key:
                return False
            self._running.cancel_requested = True
            self._changed.wait_for(
                lambda: self._running is None or self._running.key != key,
                timeout=wait_seconds,
            )
            return True

    def stop(self) -> None:
        """Stop the thread and terminate the running training process, if any."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=_TERMINATE_WAIT_SECONDS * 3)

    def _requeue_unfinished(self) -> None:
        unfinished = [
            record
            for record in reversed(self._storage.list_builds())
            if record.state.status not in TERMINAL_STATUSES
        ]
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
                name, version = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            try:
                self._dispatch(name, version)
            except Exception:
                logger.exception("dispatching build %s v%s failed", name, version)

    def _dispatch(self, name: str, version: str) -> None:
        record = self._claim(name, version)
        if record is None:
            return
        timeout = record.request.timeout
        process = self._context.Process(
            target=run_build,
            args=(str(self._storage.data_dir), name, version),
            name=f"plexe-build-{name}-{version}",
        )
        started = time.monotonic()
        hard_deadline = started + timeout + TIMEOUT_GRACE_SECONDS if timeout else None
        running = _Running((name, version), process, started, hard_deadline)
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
            self._running = running
        try:
            ending = self._wait(running)
            self._finish(running, ending)
        finally:
            with self._changed:
                self._running = None
                self._changed.notify_all()

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
            self._storage.write_build(record)
            return record

    def _wait(self, running: _Running) -> _Ending:
        """Wait for the training process to exit; end it on stop, cancel or timeout."""
        process = running.process
        while True:
            process.join(timeout=_POLL_SECONDS)
            if not process.is_alive():
                return _Ending.EXITED
            if self._stopping.is_set():
                ending = _Ending.STOPPED
            elif running.cancel_requested:
                ending = _Ending.CANCELLED
            elif running.hard_deadline and time.monotonic() > running.hard_deadline:
                ending = _Ending.TIMED_OUT
            else:
                continue
            _terminate(process)
            return ending

    def _finish(self, running: _Running, ending: _Ending) -> None:
        """Record how the build ended unless its process already did, and log it."""
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
                message = _ending_message(running, ending)
                if ending is _Ending.CANCELLED:
                    self._storage.update_state(name, version, mark_cancelled)
                else:
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
    if ending is _Ending.CANCELLED:
        return "The build was cancelled."
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
