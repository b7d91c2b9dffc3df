"""Logging setup shared by the server and its training processes.

Records go to stderr, or to the file named by PLEXE_ENGINE_LOG_FILE. The
server process owns that file and rotates it. Training processes inherit the
variable and append to whichever file has that name at the time. They never
rotate it themselves, because two processes rotating one file lose records.
"""

import logging
import logging.handlers
import os
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"

LOG_FILE_VARIABLE = "PLEXE_ENGINE_LOG_FILE"
"""Path of the engine's log file; unset, the engine logs to stderr."""
LOG_MAX_BYTES = 2_000_000
"""Size at which the server starts a new log file."""
LOG_BACKUP_COUNT = 3
"""Rotated files kept beside the current one: engine.log.1 to engine.log.3."""


def configure_logging(level: int = logging.INFO, *, rotate: bool = False) -> None:
    """Send log records of this process to the log file or to stderr, once.

    `rotate` is for the server process: it rotates the file when it grows past
    LOG_MAX_BYTES. A handler that is already on the root logger (from the
    embedding app or a test runner) is left alone, so that records are not
    written twice.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    path = os.environ.get(LOG_FILE_VARIABLE)
    handler: logging.Handler
    if not path:
        handler = logging.StreamHandler(sys.stderr)
    elif rotate:
        handler = logging.handlers.RotatingFileHandler(
            path,
            maxBytes=LOG_MAX_BYTES,
            backupCount=LOG_BACKUP_COUNT,
            encoding="utf-8",
        )
    else:
        # Reopens the file when the server has renamed it in a rotation.
        handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
