"""The app's log file, rotated, with API keys masked in every record.

While the app runs the terminal belongs to Textual, so log records go to
`plexe-tui.log` in the user log folder and never to the screen. The local
engine that the app starts writes `engine.log` in the same folder.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Iterable
from pathlib import Path

APP_LOG_NAME = "plexe-tui.log"
ENGINE_LOG_NAME = "engine.log"
LOG_MAX_BYTES = 2_000_000
"""Size at which the app starts a new log file."""
LOG_BACKUP_COUNT = 3
"""Rotated files kept beside the current one: plexe-tui.log.1 to .3."""
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Shorter configured keys are not masked: masking them would garble the log.

NOTE: so a key of 1 to 3 characters can reach the log. No real API key is
that short.
"""

# The value of an x-api-key or Authorization header wherever a record shows
# one: "x-api-key: k", {'x-api-key': 'k'}, ('authorization', 'Bearer k').
_HEADER_VALUE = re.compile(
    r"(?P<name>x-api-key|authorization)(?P<separator>['\"]?\s*[:=,]\s*(?:b?['\"])?)"
    r"(?:(?P<scheme>bearer|basic|token)\s+)?[^\s'\",;)}\]]+",
    re.IGNORECASE,
)


class SecretFilter(logging.Filter):
    """Masks API keys and key headers in a record's message, exception and stack.

    Put it on a handler, not a logger: a logger's filters do not see records
    that propagate from its child loggers.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str) -> None:
        """Mask this value from now on, e.g. a key of a server the user switched to."""
        if len(secret) >= MIN_SECRET_LENGTH and secret not in self._secrets:
            self._secrets.append(secret)
            # Longer keys first, so that a key containing another is masked whole.
            self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Return `text` with every known key and key header value masked."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return _HEADER_VALUE.sub(_mask_header, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _mask_header(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    prefix = f"{scheme} " if scheme else ""
    return f"{match.group('name')}{match.group('separator')}{prefix}{MASK}"


def setup_app_logging(log_dir: Path, secrets: Iterable[str] = ()) -> SecretFilter:
    """Log INFO and above to a rotating file in `log_dir`; return its key filter."""
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / APP_LOG_NAME,
        maxBytes=LOG_MAX_BYTES,
        backupCount=LOG_BACKUP_COUNT,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    secret_filter = SecretFilter(secrets)
    handler.addFilter(secret_filter)

    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # httpx logs every request at INFO, which would flood the file while polling.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return secret_filter
