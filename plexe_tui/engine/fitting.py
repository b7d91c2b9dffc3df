"""Fitting one approach's pipeline, in steps that a time budget can stop.

Forests grow FOREST_STEP_TREES trees at a time with ``warm_start``, and
``keep_going`` is asked between steps whether the rest still fits in the time
left. scikit-learn draws the seeds of added trees as a single fit would, so a
forest grown in steps equals one fitted at once. Other estimators fit in one
call, because their time is predictable from the approaches before them.
"""

import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.pipeline import Pipeline

from plexe_tui.engine.approaches import Approach, make_pipeline
from plexe_tui.engine.inputs import ModelColumns
from plexe_tui.engine.records import Task

FOREST_STEP_TREES = 10

# Called with the share (0 to 1) of the fit done; returning False stops the fit.
KeepGoing = Callable[[float], bool]


class StoppedForTime(Exception):
    """The time budget ran out before an approach finished."""


def fit_pipeline(
    approach: Approach,
    task: Task,
    columns: ModelColumns,
    features: pd.DataFrame,
    y: Any,
    rows: int,
    threads: int,
    keep_going: KeepGoing | None = None,
) -> Pipeline:
    """Return the approach's pipeline fitted on ``features`` and ``y``.

    ``rows`` is the row count of the whole data, which sizes forests. Raises
    StoppedForTime when ``keep_going`` returns False.
    """
    pipeline = make_pipeline(approach, task, columns, rows, threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        if approach.forest and keep_going is not None:
            _grow_forest(pipeline, features, y, keep_going)
        else:
            pipeline.fit(features, y)
    return pipeline


def _grow_forest(
    pipeline: Pipeline, features: pd.DataFrame, y: Any, keep_going: KeepGoing
) -> None:
    encoder, forest = pipeline.steps[0][1], pipeline.steps[-1][1]
    encoded = encoder.fit_transform(features)
    total = forest.n_estimators
    forest.set_params(warm_start=True)
    grown = 0
    while grown < total:
        grown = min(total, grown + FOREST_STEP_TREES)
        forest.set_params(n_estimators=grown)
        forest.fit(encoded, y)
        if grown < total and not keep_going(grown / total):
            raise StoppedForTime(f"stopped after {grown} of {total} trees")
    forest.set_params(warm_start=False)
