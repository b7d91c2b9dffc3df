"""Crash-safe file replacement."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

TEMP_PREFIX_FORMAT = ".{name}."
"""Prefix of the temporary file beside the target, where {name} is its name."""


def write_atomic(
    path: Path, data: bytes, *, mode: int = 0o644, durable: bool = True
) -> os.stat_result:
    """Replace `path` with `data` so that readers see the old or the new file, whole.

    The bytes go to a temporary file in the same folder (so the rename stays on
    one file system) and are then renamed over the target. With `durable`, the
    file and the rename are flushed to disk first, so the new content survives
    a power loss; a cache that can be rebuilt may skip that.

    Returns the new file's status from before the rename. Its inode, size and
    modification time are those of `path` afterwards, because a rename changes
    none of them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=TEMP_PREFIX_FORMAT.format(name=path.name)
    )
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            if durable:
                os.fsync(temp.fileno())
            status = os.fstat(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_folder(path.parent)
    return status


def _fsync_folder(folder: Path) -> None:
    """Flush the rename itself; some file systems do not allow it, which is fine."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def remove_stale_temp_files(path: Path, *, older_than: float = 0.0) -> None:
    """Delete temporary files that a writer killed mid-write left beside `path`.

    Only files last modified more than `older_than` seconds ago are deleted.
    Pass 0 only while holding a lock that every writer of `path` takes;
    otherwise pass an age that no write in progress can reach.
    """
    prefix = TEMP_PREFIX_FORMAT.format(name=path.name)
    cutoff = time.time() - older_than
    for stale in path.parent.glob(f"{prefix}*"):
        with contextlib.suppress(OSError):
            if older_than and stale.stat().st_mtime > cutoff:
                continue
            stale.unlink()
            log.info("Removed %s, left by a write that did not finish", stale)
