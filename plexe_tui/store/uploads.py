"""Files already uploaded to a server, so the same file is not sent twice."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from plexe_tui.store.toml_file import read_versioned, write_versioned

FORMAT_VERSION = 1
FILE_NAME = "uploads.toml"
# Entries kept; the oldest go first. Each is a few hundred bytes.
MAX_ENTRIES = 200


@dataclass(frozen=True)
class UploadRecord:
    """One file as it was when uploaded to one server."""

    server: str
    path: str
    """Absolute path of the local file."""
    size: int
    """Bytes."""
    mtime_ns: int
    upload_id: str


def file_signature(path: Path) -> tuple[str, int, int]:
    """Return (absolute path, size, modification time in ns) of a file.

    NOTE: a file rewritten with the same size within the file system's time
    resolution looks unchanged; hashing would catch it but costs seconds per GB.
    """
    resolved = path.expanduser().resolve()
    stat = resolved.stat()
    return str(resolved), stat.st_size, stat.st_mtime_ns


class UploadCache:
    """Upload ids by server and file, in uploads.toml beside the jobs file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def find(self, server: str, path: Path) -> str | None:
        """Return the upload id of this exact file on this server, if recorded."""
        try:
            name, size, mtime_ns = file_signature(path)
        except OSError:
            return None
        for record in self._records():
            if (record.server, record.path, record.size, record.mtime_ns) == (
                server,
                name,
                size,
                mtime_ns,
            ):
                return record.upload_id
        return None

    def remember(self, server: str, path: Path, upload_id: str) -> None:
        """Record that this file now lives on this server under `upload_id`."""
        name, size, mtime_ns = file_signature(path)
        records = [
            record
            for record in self._records()
            if (record.server, record.path) != (server, name)
        ]
        records.append(UploadRecord(server, name, size, mtime_ns, upload_id))
        self._write(records[-MAX_ENTRIES:])

    def forget(self, server: str, upload_id: str) -> None:
        """Drop an upload the server no longer has."""
        records = self._records()
        kept = [r for r in records if (r.server, r.upload_id) != (server, upload_id)]
        if len(kept) != len(records):
            self._write(kept)

    def _records(self) -> list[UploadRecord]:
        tables = read_versioned(self.path, FORMAT_VERSION).get("uploads", [])
        records = []
        for table in tables if isinstance(tables, list) else []:
            try:
                records.append(_record(table))
            except (KeyError, TypeError, ValueError):
                continue  # A damaged entry only costs one upload.
        return records

    def _write(self, records: list[UploadRecord]) -> None:
        tables = [asdict(record) for record in records]
        write_versioned(self.path, FORMAT_VERSION, {"uploads": tables})


def _record(table: Any) -> UploadRecord:
    return UploadRecord(
        server=str(table["server"]),
        path=str(table["path"]),
        size=int(table["size"]),
        mtime_ns=int(table["mtime_ns"]),
        upload_id=str(table["upload_id"]),
    )
