"""Predictions from completed builds, with the fitted models cached in memory."""

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from plexe_tui.engine.artifacts import ModelArtifact, load_model
from plexe_tui.engine.features import frame_from_rows
from plexe_tui.engine.records import BuildPlan, BuildRecord
from plexe_tui.engine.storage import Storage


class Predictor:
    """A loaded model that turns rows of features into output objects."""

    def __init__(self, plan: BuildPlan, artifact: ModelArtifact) -> None:
        self._plan = plan
        self._pipeline = artifact.pipeline
        self._classes = artifact.classes

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Return one output object per row, in order.

        Classifiers return the class under the output key and its probability under
        ``probability``. Regressors return the number, rounded for an int output.
        Raises InvalidRequest naming missing or invalid features.
        """
        plan = self._plan
        features = frame_from_rows(rows, plan.features, plan.feature_types)
        if self._classes is None:
            values = self._pipeline.predict(features)
            return [{plan.output_key: self._number(value)} for value in values]

        probabilities = self._pipeline.predict_proba(features)
        best = np.argmax(probabilities, axis=1)
        return [
            {
                plan.output_key: self._classes[int(index)],
                "probability": round(float(row[index]), 6),
            }
            for index, row in zip(best, probabilities, strict=True)
        ]

    def _number(self, value: Any) -> float | int:
        if self._plan.output_type == "int":
            return round(float(value))
        return float(value)


class ModelCache:
    """Predictors of completed builds, loaded on first use and kept in memory."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._lock = threading.Lock()
        self._predictors: dict[tuple[str, str, str], Predictor] = {}

    def get(self, record: BuildRecord) -> Predictor:
        """Return the predictor of a build, loading and checking its model once.

        Raises Conflict when the build has not completed.
        """
        key = (record.model_name, record.model_version, record.model_sha256 or "")
        with self._lock:
            predictor = self._predictors.get(key)
            if predictor is None:
                artifact = load_model(self._storage, record)
                predictor = Predictor(record.plan, artifact)
                self._predictors[key] = predictor
            return predictor

    def evict(self, name: str, version: str) -> None:
        """Forget the predictor of a model version, for example after deleting it."""
        with self._lock:
            for key in [k for k in self._predictors if k[:2] == (name, version)]:
                del self._predictors[key]
