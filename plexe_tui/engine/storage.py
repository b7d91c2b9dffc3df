"""The engine's on-disk layout and atomic JSON writes.

Layout under the data folder::

    uploads/<upload_id>/upload.json          UploadRecord
    uploads/<upload_id>/data/<file name>     the uploaded bytes
    models/<name>/<version>/build.json       BuildRecord
    models/<name>/<version>/model.joblib     the fitted pipeline
    models/<name>/<version>/describe.json    what was built and why

Every id that reaches a path is checked against a strict pattern first, so no value
from a request can name a path outside the data folder.
"""

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from plexe_tui.engine.errors import InvalidRequest, NotFound
from plexe_tui.engine.records import (
    BuildPlan,
    BuildRecord,
    BuildRequest,
    BuildState,
    UploadRecord,
    now_iso,
)

logger = logging.getLogger(__name__)

MODEL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
VERSION_PATTERN = re.compile(r"^[1-9][0-9]{0,8}$")
UPLOAD_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MODEL_FILE_NAME = "model.joblib"
BUILD_FILE_NAME = "build.json"
DESCRIBE_FILE_NAME = "describe.json"
UPLOAD_FILE_NAME = "upload.json"

RecordT = TypeVar("RecordT", UploadRecord, BuildRecord)

_MAX_FILENAME_LENGTH = 128
_reported_invalid: set[Path] = set()
_MAX_VERSION_ATTEMPTS = 100


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so that readers see the old file or the new one, whole.

    The text goes to a temporary file in the same folder, is flushed and fsynced, and
    then replaces ``path`` with ``os.replace``.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    descriptor, temporary_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary_name, path)
    except BaseException:
        Path(temporary_name).unlink(missing_ok=True)
        raise


def sha256_of_file(path: Path) -> str:
    """Return the hex SHA-256 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sanitise_filename(filename: str) -> str:
    """Reduce a client's file name to a safe base name of ``[A-Za-z0-9._-]``.

    Folders in the name are dropped, other characters become ``_``, leading dots are
    removed, and an empty result becomes ``data``.
    """
    base = re.split(r"[\\/]", filename)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    if len(cleaned) > _MAX_FILENAME_LENGTH:
        stem, dot, suffix = cleaned.rpartition(".")
        keep = _MAX_FILENAME_LENGTH - len(suffix) - 1
        if dot and keep > 0:
            cleaned = stem[:keep] + dot + suffix
        else:
            cleaned = cleaned[:_MAX_FILENAME_LENGTH]
    return cleaned or "data"


def validate_model_name(name: str) -> None:
    """Raise InvalidRequest unless ``name`` is 1-64 letters, digits, ``-`` or ``_``."""
    if not MODEL_NAME_PATTERN.match(name):
        raise InvalidRequest(
            "invalid_model_name",
            f"Model name {name!r} is invalid: use 1 to 64 letters, digits, '-' or '_'.",
            field="model_name",
        )


class Storage:
    """Reads and writes upload and build records under one data folder.

    One instance serves one process. Its lock makes each read-modify-write of a record
    atomic with respect to other threads of that process. The training process
    writes its build's record only while the server leaves that record alone.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.uploads_dir = self.data_dir / "uploads"
        self.models_dir = self.data_dir / "models"
        self.lock = threading.RLock()
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        self.models_dir.mkdir(parents=True, exist_ok=True)

    def remove_stale_temporaries(self) -> int:
        """Delete the temporary files of writes that a killed process left; count them.

        Uploads stream into ``.<name>.part`` and records and models are written
        to ``.<name>.<random>.tmp`` before a rename, so these files are never
        served. Only call this while holding the data folder's lock and before
        any build runs, because then no write is in progress.
        """
        patterns = (
            "uploads/*/data/.*.part",
            f"uploads/*/.{UPLOAD_FILE_NAME}.*.tmp",
            "models/*/*/.*.tmp",
        )
        removed = 0
        for pattern in patterns:
            for path in self.data_dir.glob(pattern):
                try:
                    path.unlink()
                except OSError as error:
                    logger.warning("could not remove %s: %s", path, error)
                    continue
                logger.info("removed %s, left by a write that did not finish", path)
                removed += 1
        return removed

    # Uploads

    def upload_dir(self, upload_id: str) -> Path:
        """Return the folder of an upload, or raise NotFound for an invalid id."""
        if not UPLOAD_ID_PATTERN.match(upload_id):
            raise _upload_not_found(upload_id)
        return self.uploads_dir / upload_id

    def upload_file(self, record: UploadRecord) -> Path:
        """Return the path of an upload's data file."""
        return self.upload_dir(record.upload_id) / "data" / record.filename

    def create_upload(self, filename: str, content_type: str) -> UploadRecord:
        """Create the folder and record of a new upload that waits for its bytes."""
        upload_id = "upl_" + secrets.token_hex(12)
        safe_name = sanitise_filename(filename)
        now = now_iso()
        record = UploadRecord(
            upload_id=upload_id,
            filename=safe_name,
            original_filename=filename,
            content_type=content_type,
            key=f"uploads/{upload_id}/{safe_name}",
            token=secrets.token_urlsafe(24),
            created_at=now,
            updated_at=now,
        )
        (self.upload_dir(upload_id) / "data").mkdir(parents=True)
        self.write_upload(record)
        return record

    def read_upload(self, upload_id: str) -> UploadRecord:
        """Return an upload's record, or raise NotFound naming the id."""
        path = self.upload_dir(upload_id) / UPLOAD_FILE_NAME
        record = _read_model(path, UploadRecord)
        if record is None:
            raise _upload_not_found(upload_id)
        return record

    def write_upload(self, record: UploadRecord) -> None:
        """Store an upload's record, stamping ``updated_at``."""
        record.updated_at = now_iso()
        path = self.upload_dir(record.upload_id) / UPLOAD_FILE_NAME
        write_json_atomic(path, record.model_dump(mode="json"))

    def list_uploads(self) -> list[UploadRecord]:
        """Return every readable upload record, newest first."""
        records = []
        for path in self.uploads_dir.glob(f"*/{UPLOAD_FILE_NAME}"):
            record = _read_model(path, UploadRecord)
            if record is not None:
                records.append(record)
        records.sort(key=lambda record: record.created_at, reverse=True)
        return records

    def delete_upload(self, upload_id: str) -> None:
        """Remove an upload's folder, or raise NotFound naming the id."""
        self.read_upload(upload_id)
        shutil.rmtree(self.upload_dir(upload_id))

    # Builds

    def build_dir(self, name: str, version: str) -> Path:
        """Return the folder of a model version, or raise NotFound for invalid ids."""
        validate_model_name(name)
        if not VERSION_PATTERN.match(version):
            raise _build_not_found(name, version)
        return self.models_dir / name / version

    def create_build(
        self, name: str, request: BuildRequest, plan: BuildPlan
    ) -> BuildRecord:
        """Allocate the next version of ``name`` and store a pending build record.

        Versions are "1", "2", ... per name. ``os.mkdir`` claims a version, so two
        requests at once never get the same one.
        """
        validate_model_name(name)
        model_dir = self.models_dir / name
        model_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(_MAX_VERSION_ATTEMPTS):
            version = str(_highest_version(model_dir) + 1)
            try:
                (model_dir / version).mkdir()
            except FileExistsError:
                continue
            now = now_iso()
            record = BuildRecord(
                model_name=name,
                model_version=version,
                request=request,
                plan=plan,
                created_at=now,
                updated_at=now,
            )
            self.write_build(record)
            return record
        raise RuntimeError(f"could not allocate a version for model {name!r}")

    def read_build(self, name: str, version: str) -> BuildRecord:
        """Return a build record, or raise NotFound naming the model and version."""
        path = self.build_dir(name, version) / BUILD_FILE_NAME
        record = _read_model(path, BuildRecord)
        if record is None:
            raise _build_not_found(name, version)
        return record

    def write_build(self, record: BuildRecord) -> None:
        """Store a build record, stamping ``updated_at``."""
        record.updated_at = now_iso()
        path = self.build_dir(record.model_name, record.model_version)
        write_json_atomic(path / BUILD_FILE_NAME, record.model_dump(mode="json"))

    def update_state(
        self, name: str, version: str, change: Callable[[BuildState], None]
    ) -> BuildRecord:
        """Apply ``change`` to a build's state and store it, under the lock."""
        with self.lock:
            record = self.read_build(name, version)
            change(record.state)
            self.write_build(record)
            return record

    def list_builds(self) -> list[BuildRecord]:
        """Return every readable build record, newest first."""
        records = []
        for path in self.models_dir.glob(f"*/*/{BUILD_FILE_NAME}"):
            record = _read_model(path, BuildRecord)
            if record is not None:
                records.append(record)
        records.sort(
            key=lambda record: (record.created_at, int(record.model_version)),
            reverse=True,
        )
        return records

    def delete_build(self, name: str, version: str) -> None:
        """Remove a model version's folder, or raise NotFound naming it."""
        self.read_build(name, version)
        shutil.rmtree(self.build_dir(name, version))

    def write_describe(self, name: str, version: str, data: dict[str, Any]) -> None:
        """Store what a finished build did, for the describe endpoint."""
        write_json_atomic(self.build_dir(name, version) / DESCRIBE_FILE_NAME, data)

    def read_describe(self, name: str, version: str) -> dict[str, Any] | None:
        """Return the stored description of a build, or None if there is none."""
        path = self.build_dir(name, version) / DESCRIBE_FILE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return data if isinstance(data, dict) else None


def _read_model(path: Path, model: type[RecordT]) -> RecordT | None:
    """Read a record, or return None when the file is missing or invalid.

    An invalid file comes from a hand edit, a crash outside the atomic writes, or an
    incompatible engine version. It is logged once per process, because list
    endpoints read every record on each call.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return model.model_validate_json(text)
    except ValidationError as error:
        if path not in _reported_invalid:
            _reported_invalid.add(path)
            logger.warning("ignoring invalid record %s: %s", path, error)
        return None


def _highest_version(model_dir: Path) -> int:
    versions = [
        int(child.name)
        for child in model_dir.iterdir()
        if VERSION_PATTERN.match(child.name)
    ]
    return max(versions, default=0)


def _upload_not_found(upload_id: str) -> NotFound:
    return NotFound(
        "upload_not_found",
        f"Upload {upload_id!r} was not found. Upload the file again, or pick one "
        "from GET /uploads.",
        field="upload_id",
    )


def _build_not_found(name: str, version: str) -> NotFound:
    return NotFound(
        "model_not_found",
        f"Model {name!r} version {version!r} was not found. GET /models lists the "
        "models and versions that exist.",
        field="model_version",
    )
