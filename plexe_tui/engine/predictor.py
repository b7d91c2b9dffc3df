"""Predictions from completed builds, with the fitted models cached in memory.

Single rows take a fast path (see ``row_models``) that skips pandas and
scikit-learn's input validation; batches go through the fitted pipeline as a
DataFrame. Both give the same outputs.
"""

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from plexe_tui.engine.artifacts import ModelArtifact, load_model
from plexe_tui.engine.errors import EngineError
from plexe_tui.engine.inputs import check_row, frame_from_rows, row_values
from plexe_tui.engine.records import BuildPlan, BuildRecord
from plexe_tui.engine.row_models import RowModel, limit_server_threads, row_model
from plexe_tui.engine.storage import BUILD_FILE_NAME, Storage

# Identity of one version of a build record file: inode, size and mtime in ns.
RecordStamp = tuple[int, int, int]


class Predictor:
    """A loaded model that turns rows of features into output objects.

    Classifiers return the class under the output key and, as the plan sets, its
    probability and the probability of every class. Regressors return the number,
    rounded for an int output. Invalid rows raise InvalidRequest naming the field.
    """

    def __init__(self, plan: BuildPlan, artifact: ModelArtifact) -> None:
        self._plan = plan
        self._model = artifact.pipeline
        self._classes = artifact.classes
        self._row_model: RowModel | None = row_model(self._model, plan.task)

    @property
    def plan(self) -> BuildPlan:
        """The plan of the build this model came from: features, task, outputs."""
        return self._plan

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Return one output object per row, in order."""
        features = frame_from_rows(rows, self._plan)
        if self._classes is None:
            values = self._model.predict(features)
            return [self._number_output(value) for value in values]
        probabilities = np.asarray(self._model.predict_proba(features))
        return [self._class_output(row) for row in probabilities]

    def predict_one(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Return the output object of one row."""
        if self._row_model is None:
            return self.predict([row])[0]
        check_row(row, self._plan)
        numbers, categories = row_values(row, self._plan)
        prediction = self._row_model.predict(numbers, categories)
        if self._classes is None:
            return self._number_output(prediction[0])
        return self._class_output(prediction[0])

    def _class_output(self, probabilities: np.ndarray) -> dict[str, Any]:
        assert self._classes is not None
        plan = self._plan
        best = int(np.argmax(probabilities))
        output: dict[str, Any] = {plan.output_key: self._classes[best]}
        if plan.probability_key is not None:
            output[plan.probability_key] = round(float(probabilities[best]), 6)
        if plan.probabilities_key is not None:
            output[plan.probabilities_key] = {
                str(label): round(float(value), 6)
                for label, value in zip(self._classes, probabilities, strict=True)
            }
        return output

    def _number_output(self, value: Any) -> dict[str, Any]:
        number: float | int = float(value)
        if self._plan.output_type == "int":
            number = round(number)
        return {self._plan.output_key: number}


class ModelCache:
    """Predictors of completed builds, loaded on first use and kept in memory.

    `ready` returns a predictor without reading its build record, after a stat
    shows that the record file is unchanged since the predictor was loaded. A
    completed build's record changes only when it is deleted or edited by
    hand, and reading and validating it cost more than a prediction.
    """

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._lock = threading.Lock()
        self._predictors: dict[tuple[str, str, str], Predictor] = {}
        self._ready: dict[tuple[str, str], tuple[RecordStamp, Predictor]] = {}

    def get(self, record: BuildRecord, stamp: RecordStamp | None = None) -> Predictor:
        """Return the predictor of a build, loading and checking its model once.

        `stamp`, from `record_stamp` before the record was read, lets `ready`
        return this predictor until the record file changes. Raises Conflict
        when the build has not completed.
        """
        key = (record.model_name, record.model_version, record.model_sha256 or "")
        with self._lock:
            predictor = self._predictors.get(key)
            if predictor is None:
                artifact = load_model(self._storage, record)
                predictor = Predictor(record.plan, artifact)
                self._predictors[key] = predictor
                limit_server_threads()
            if stamp is not None:
                self._ready[key[:2]] = (stamp, predictor)
            return predictor

    def ready(self, name: str, version: str) -> Predictor | None:
        """Return the loaded predictor if its record is unchanged, else None.

        None means the caller must read the record: on first use, after a
        change or removal of the record, and for ids that name no build.
        """
        entry = self._ready.get((name, version))
        if entry is None:
            return None
        stamp, predictor = entry
        return predictor if self.record_stamp(name, version) == stamp else None

    def record_stamp(self, name: str, version: str) -> RecordStamp | None:
        """Return the stamp of a build's record file, or None if there is none."""
        try:
            path = self._storage.build_dir(name, version) / BUILD_FILE_NAME
            status = os.stat(path)
        except (OSError, EngineError):
            return None
        return (status.st_ino, status.st_size, status.st_mtime_ns)

    def evict(self, name: str, version: str) -> None:
        """Forget the predictor of a model version, for example after deleting it."""
        with self._lock:
            for key in [k for k in self._predictors if k[:2] == (name, version)]:
                del self._predictors[key]
            self._ready.pop((name, version), None)
