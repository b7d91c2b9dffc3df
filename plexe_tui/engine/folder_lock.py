"""An exclusive lock on the data folder, so that one engine at a time uses it.

Two engines on one folder would both queue and train the same builds. The lock is
an ``flock`` on ``engine.lock`` that the operating system releases when the
process exits, even after a crash.
"""

import os
import sys
import time
from pathlib import Path

LOCK_FILE_NAME = "engine.lock"
TRAINING_LOCK_FILE_NAME = "training.lock"
"""Lock file in a build's folder, held by the process that trains the build."""
_LOCK_POLL_SECONDS = 0.1


class FolderInUse(RuntimeError):
    """Another engine process holds the data folder's lock."""


class FolderLock:
    """The engine's lock on its data folder, held from ``acquire`` to ``release``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE_NAME
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise FolderInUse naming the process that holds it."""
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if sys.platform != "win32":
            import fcntl

            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(descriptor, 32).decode(errors="replace").strip()
                os.close(descriptor)
                raise FolderInUse(
                    f"Another engine (process {holder or 'unknown'}) uses the data "
                    f"folder {self.path.parent}. Stop it, or start this one with "
                    "another data folder."
                ) from None
        # NOTE: on Windows the lock is not taken, so two engines can share a folder.
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._descriptor = descriptor

    def release(self) -> None:
        """Give up the lock."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def hold_training_lock(build_dir: Path) -> bool:
    """Lock a build's folder for the rest of this process; return whether it could.

    The training process takes this lock, so that a server started after a
    crash can tell whether an orphaned training process still writes the build.
    The descriptor stays open on purpose: the lock ends when the process does.
    """
    if sys.platform == "win32":
        return True
    import fcntl

    descriptor = os.open(build_dir / TRAINING_LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return False
    return True


def wait_for_training_lock(build_dir: Path, timeout: float) -> bool:
    """Wait until no process trains the build; return False if one still does.

    NOTE: on Windows there is no lock, so this returns True at once.
    """
    path = build_dir / TRAINING_LOCK_FILE_NAME
    if sys.platform == "win32" or not path.exists():
        return True
    import fcntl

    deadline = time.monotonic() + timeout
    descriptor = os.open(path, os.O_RDWR)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(_LOCK_POLL_SECONDS)
                continue
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            return True
    finally:
        os.close(descriptor)
