"""A JSON copy of the jobs file's tables, read in place of the TOML while current.

Python's tomllib took 100 to 190 ms to parse 1,000 jobs on a loaded 2-core
Xeon, and the same tables as JSON lines read about eight times faster
(tests/benchmarks/jobs_file.py). The TOML file stays the one the user reads
and edits. The index is only a cache of it: each save writes both, and the
index records the inode, size and modification time of the TOML file it
copies. When any of them differs (a hand edit, another program, a restored
backup), the index is ignored and the TOML file is parsed.

Layout: a header line `{"format": 2, "inode": ..., "size": ..., "mtime_ns":
..., "count": N, "forgotten": {...}}`, then N lines, one JSON object per job
table, in file order. `forgotten` copies the file's table of forgotten jobs.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plexe_tui.store.atomic import write_atomic

INDEX_FORMAT = 2
INDEX_FILE_NAME = "jobs.index.json"

log = logging.getLogger(__name__)

# Tables are encoded one at a time, so a save in a worker thread lets the
# event loop run between them instead of holding the GIL for one long call.
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class FileStamp:
    """Identity of one version of a file: inode, size and modification time.

    NOTE: an edit that keeps the inode and size within the file system's
    timestamp resolution (a few milliseconds on Linux) keeps the stamp too.
    """

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileStamp:
        """Return the stamp of a file's status."""
        return cls(status.st_ino, status.st_size, status.st_mtime_ns)


@dataclass(frozen=True)
class IndexCopy:
    """The parts of a jobs file that its index copies."""

    tables: list[Any]
    """The job tables, in file order."""
    forgotten: Any
    """The file's `forgotten` table as it was read, not checked, or {} if absent."""


class JobIndex:
    """The index file of one jobs file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, stamp: FileStamp) -> IndexCopy | None:
        """Return the copy if the index copies the file with `stamp`, else None."""
        try:
            with self.path.open("r", encoding="utf-8") as handle:
                header = json.loads(handle.readline())
                if not _header_matches(header, stamp):
                    return None
                tables = [json.loads(line) for line in handle]
        except (OSError, ValueError):
            # A missing, partly written or foreign file is no index: read the TOML.
            return None
        if len(tables) != header["count"]:
            return None
        return IndexCopy(tables, header.get("forgotten", {}))

    def read_head(self, stamp: FileStamp, count: int) -> tuple[list[Any], int] | None:
        """Return the first `count` tables and the total number of tables.

        Return None unless the index copies the file with `stamp`. Only the
        lines returned are parsed.
        """
        try:
            with self.path.open("r", encoding="utf-8") as handle:
                header = json.loads(handle.readline())
                if not _header_matches(header, stamp):
                    return None
                tables = [json.loads(line) for line in itertools.islice(handle, count)]
        except (OSError, ValueError):
            return None
        if len(tables) < min(count, header["count"]):
            return None
        return tables, header["count"]

    def write(self, stamp: FileStamp, tables: list[Any], forgotten: Any = None) -> None:
        """Store `tables` as the copy of the file with `stamp`.

        Tables that JSON cannot hold (a TOML date from a hand edit, say) leave
        no index, and so does a failed write: the TOML file is read instead.
        """
        try:
            lines = [encode_table(table) for table in tables]
        except (TypeError, ValueError) as exc:
            log.info("No index of the jobs file: %s", exc)
            self.remove()
            return
        self.write_lines(stamp, lines, forgotten)

    def write_lines(
        self, stamp: FileStamp, lines: list[str], forgotten: Any = None
    ) -> None:
        """Store tables already encoded by `encode_table`, as `write` does."""
        header = {
            "format": INDEX_FORMAT,
            "inode": stamp.inode,
            "size": stamp.size,
            "mtime_ns": stamp.mtime_ns,
            "count": len(lines),
            "forgotten": forgotten or {},
        }
        try:
            text = "\n".join([_encoder.encode(header), *lines]) + "\n"
            write_atomic(self.path, text.encode("utf-8"), durable=False)
        except (TypeError, ValueError) as exc:
            log.info("No index of the jobs file: %s", exc)
            self.remove()
        except OSError as exc:
            log.warning("Cannot write %s: %s", self.path, exc)
            self.remove()

    def remove(self) -> None:
        """Delete the index, if any, so that a stale copy is never read."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Cannot remove %s: %s", self.path, exc)


def encode_table(table: Any) -> str:
    """Return one table as an index line; raise TypeError if JSON cannot hold it."""
    return _encoder.encode(table)


def _header_matches(header: Any, stamp: FileStamp) -> bool:
    return (
        isinstance(header, dict)
        and header.get("format") == INDEX_FORMAT
        and header.get("inode") == stamp.inode
        and header.get("size") == stamp.size
        and header.get("mtime_ns") == stamp.mtime_ns
        and isinstance(header.get("count"), int)
    )
