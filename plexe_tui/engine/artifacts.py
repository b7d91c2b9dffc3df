"""Saving fitted models and loading them back, checked by SHA-256.

The engine unpickles only model files that it wrote itself: the path is fixed
inside the model version's folder, and the file's bytes must have the digest that
the build record stored when the file was written. Anything else is rejected
before joblib unpickles it.
"""

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import joblib

from plexe_tui.engine.errors import Conflict, EngineError
from plexe_tui.engine.records import BuildRecord, Label
from plexe_tui.engine.storage import MODEL_FILE_NAME, Storage

ARTIFACT_FORMAT = 1


@dataclass(frozen=True)
class ModelArtifact:
    """A fitted scikit-learn pipeline and the class labels of a classifier, in order."""

    pipeline: Any
    classes: list[Label] | None


class ModelFileError(EngineError):
    """A model file is missing or does not match the digest in its build record."""

    status_code = 500


def save_model(
    storage: Storage, name: str, version: str, artifact: ModelArtifact
) -> str:
    """Write the model file atomically and return its hex SHA-256 digest."""
    buffer = io.BytesIO()
    payload = {
        "format": ARTIFACT_FORMAT,
        "pipeline": artifact.pipeline,
        "classes": artifact.classes,
    }
    joblib.dump(payload, buffer, compress=3)
    data = buffer.getvalue()

    folder = storage.build_dir(name, version)
    descriptor, temporary_name = tempfile.mkstemp(
        prefix=f".{MODEL_FILE_NAME}.", suffix=".tmp", dir=folder
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary_name, folder / MODEL_FILE_NAME)
    except BaseException:
        os.unlink(temporary_name)
        raise
    return hashlib.sha256(data).hexdigest()


def load_model(storage: Storage, record: BuildRecord) -> ModelArtifact:
    """Load a completed build's model after checking the file's digest."""
    name, version = record.model_name, record.model_version
    if record.state.status != "completed" or not record.model_sha256:
        raise Conflict(
            "model_not_ready",
            f"Model {name!r} version {version} has status {record.state.status!r}; "
            "only completed builds can predict.",
            field="model_version",
        )
    path = storage.build_dir(name, version) / MODEL_FILE_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(
            "model_file_missing",
            f"The model file of {name!r} version {version} is missing. Build the "
            "model again.",
        ) from None
    if hashlib.sha256(data).hexdigest() != record.model_sha256:
        raise ModelFileError(
            "model_file_changed",
            f"The model file of {name!r} version {version} does not match the "
            "digest recorded when it was built, so it was not loaded. Build the "
            "model again.",
        )
    payload = joblib.load(io.BytesIO(data))
    return ModelArtifact(pipeline=payload["pipeline"], classes=payload["classes"])
