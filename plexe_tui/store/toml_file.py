"""Small versioned TOML files: read leniently, written atomically."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from plexe_tui.store.atomic import remove_stale_temp_files, write_atomic

log = logging.getLogger(__name__)

# Seconds. A write takes milliseconds, so a temporary file this old was left by
# a process killed mid-write. These files are written without a lock.
STALE_TEMP_SECONDS = 600.0


def read_versioned(path: Path, version: int) -> dict[str, Any]:
    """Return the document, or an empty one if the file is missing or unreadable.

    These files hold conveniences (a draft, an upload cache), so an unreadable
    one is logged and ignored rather than shown to the user.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("Ignored unreadable %s: %s", path, exc)
        return {}
    if document.get("version") != version:
        log.warning("Ignored %s: format version %r", path, document.get("version"))
        return {}
    return document


def write_versioned(path: Path, version: int, document: dict[str, Any]) -> None:
    """Write the document with its format version, atomically."""
    data = tomli_w.dumps({"version": version, **document})
    write_atomic(path, data.encode("utf-8"))
    remove_stale_temp_files(path, older_than=STALE_TEMP_SECONDS)
