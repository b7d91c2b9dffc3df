"""Logging setup shared by the server and its training processes."""

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    """Send log records of this process to stderr, once.

    A handler that is already on the root logger (from the embedding app or a test
    runner) is left alone, so that records are not written twice.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
