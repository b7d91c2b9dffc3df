"""A fast path that predicts one request row with a fitted model.

A single-row prediction through a scikit-learn Pipeline spends most of its time
building a DataFrame and validating input at every step, not computing. The row
models here call the engine's ``TableEncoder.encode_row`` and then the fitted
estimator on a 1-row array: tree forests tree by tree without input checks, other
estimators with scikit-learn's finiteness checks and parameter validation off.
Request values are checked to be finite and the encoder fills in missing ones, so
its output has no NaN or infinity for the skipped checks to catch.

This module imports scikit-learn only when a model is loaded, because the server
imports it at startup.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from plexe_tui.engine.records import Task

# (encoded row) -> class probabilities of shape (1, classes), or values of shape (1,).
EncodedPredict = Callable[[np.ndarray], np.ndarray]

_limited = False


class RowModel(Protocol):
    """Predicts one row given as model input values in column order."""

    def predict(
        self, numbers: Sequence[float], categories: Sequence[Any]
    ) -> np.ndarray:
        """Return the class probabilities (1, classes) or the value (1,)."""
        ...


@dataclass(frozen=True)
class _PipelineRowModel:
    encoder: Any
    predict_encoded: EncodedPredict

    def predict(
        self, numbers: Sequence[float], categories: Sequence[Any]
    ) -> np.ndarray:
        return self.predict_encoded(self.encoder.encode_row(numbers, categories))


@dataclass(frozen=True)
class _EnsembleRowModel:
    ensemble: Any
    members: list[_PipelineRowModel]

    def predict(
        self, numbers: Sequence[float], categories: Sequence[Any]
    ) -> np.ndarray:
        predictions = [member.predict(numbers, categories) for member in self.members]
        combined: np.ndarray = self.ensemble.combine(predictions)
        return combined


def row_model(model: Any, task: Task) -> RowModel | None:
    """Return the fast path for a fitted model, or None when it has none.

    Models saved before the engine had its own encoder have no fast path.
    """
    from plexe_tui.engine.ensemble import WeightedEnsemble

    if isinstance(model, WeightedEnsemble):
        members = [_pipeline_row_model(member, task) for member in model.members]
        if any(member is None for member in members):
            return None
        return _EnsembleRowModel(model, [m for m in members if m is not None])
    return _pipeline_row_model(model, task)


def limit_server_threads() -> None:
    """Make OpenMP code in this process use one thread, once per process.

    Gradient boosting predicts one row about three times faster without starting
    OpenMP threads (measured with scikit-learn 1.9 on two cores). Only the server
    calls this: training runs in processes of its own, which keep every thread.
    """
    global _limited
    if _limited:
        return
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    threadpool_limits(limits=1, user_api="openmp")
    _limited = True


def _pipeline_row_model(pipeline: Any, task: Task) -> _PipelineRowModel | None:
    from sklearn.pipeline import Pipeline

    from plexe_tui.engine.encoding import TableEncoder

    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        return None
    encoder, estimator = pipeline.steps[0][1], pipeline.steps[1][1]
    if not isinstance(encoder, TableEncoder):
        return None
    return _PipelineRowModel(encoder, _encoded_predict(estimator, task))


def _encoded_predict(estimator: Any, task: Task) -> EncodedPredict:
    from sklearn import config_context
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    forests = (
        RandomForestClassifier,
        RandomForestRegressor,
        ExtraTreesClassifier,
        ExtraTreesRegressor,
    )
    if isinstance(estimator, forests):
        return _forest_predict(estimator, task)

    method = estimator.predict if task == "regression" else estimator.predict_proba

    def predict(encoded: np.ndarray) -> np.ndarray:
        with config_context(assume_finite=True, skip_parameter_validation=True):
            result: np.ndarray = method(encoded)
        return result

    return predict


def _forest_predict(forest: Any, task: Task) -> EncodedPredict:
    """Average the trees' predictions as the forest does, without its checks.

    The forest itself runs each tree's ``predict_proba`` or ``predict`` with
    ``check_input=False`` on float32 input and averages them. For one row, its
    thread pool costs more than the trees.
    """
    trees = list(forest.estimators_)
    regression = task == "regression"

    def predict(encoded: np.ndarray) -> np.ndarray:
        row = np.ascontiguousarray(encoded, dtype=np.float32)
        if regression:
            values = [tree.predict(row, check_input=False) for tree in trees]
        else:
            values = [tree.predict_proba(row, check_input=False) for tree in trees]
        average: np.ndarray = np.mean(values, axis=0)
        return average

    return predict
