"""The entry point of a training process, which trains one build.

The dispatcher starts ``run_build`` in a process made with the "spawn" method. The
process is the only writer of its build's record while it runs, and it ends every
build in ``completed`` or ``failed`` unless it is killed, a case the dispatcher
handles. This module stays light because the server imports it for the entry point.
"""

import logging
import os
import signal
import threading
import time
from pathlib import Path

from plexe_tui.engine.errors import EngineError
from plexe_tui.engine.folder_lock import hold_training_lock
from plexe_tui.engine.logs import configure_logging
from plexe_tui.engine.records import BuildState, now_iso
from plexe_tui.engine.storage import Storage

logger = logging.getLogger(__name__)

_PARENT_CHECK_SECONDS = 1.0


def run_build(
    data_dir: str,
    name: str,
    version: str,
    dispatched_at: float | None = None,
    threads: int = 1,
) -> None:
    """Train one build and store its model, state and description.

    ``dispatched_at`` is the ``time.time()`` when the server started the build, the
    start of its timeout. ``threads`` is the number of CPU threads the build may
    use. Errors are stored as a failed status instead of being raised, because the
    status endpoint, not this process's stderr, is where users see them.
    """
    # OpenMP threads that wait by spinning make gradient boosting tens of times
    # slower when other processes use the cores (measured with scikit-learn 1.9
    # on two busy cores). libgomp reads this before scikit-learn is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Ctrl+C in a terminal reaches the whole process group. The server decides when
    # to stop this process, so that the build resumes after a restart.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging()
    _exit_when_parent_exits(os.getppid())
    storage = Storage(Path(data_dir))
    if not hold_training_lock(storage.build_dir(name, version)):
        # Another process trains this build, and it alone writes the record.
        logger.error(
            "build %s v%s not started: another process holds its training lock",
            name,
            version,
        )
        return
    try:
        from plexe_tui.engine.training import train

        train(storage, name, version, dispatched_at, threads)
    except EngineError as error:
        logger.info("build %s v%s failed: %s", name, version, error.message)
        record_failure(storage, name, version, error.message)
    except Exception as error:
        logger.exception("build %s v%s failed", name, version)
        message = f"Training failed with {type(error).__name__}: {error}"
        record_failure(storage, name, version, message)


def record_failure(storage: Storage, name: str, version: str, message: str) -> None:
    """Mark a build failed with ``message``, keeping the approaches tried so far."""

    def change(state: BuildState) -> None:
        state.status = "failed"
        state.error = message
        state.phase = None
        state.finished_at = now_iso()

    storage.update_state(name, version, change)


def _exit_when_parent_exits(parent_pid: int) -> None:
    """End this process soon after the server dies without terminating it.

    Otherwise the orphan would keep writing the record of a build that the next
    server start queues again.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
