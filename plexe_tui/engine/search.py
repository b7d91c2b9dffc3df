"""The modelling approaches and their comparison by cross-validation.

Approaches run cheapest first: a baseline that ignores the features, a linear model,
gradient boosting, two forests, then tuned gradient boosting settings. Each is a
scikit-learn Pipeline of a ColumnTransformer and an estimator, scored by k-fold
cross-validation (stratified for classification) with random_state=0, so the same
data and request give the same scores.
"""

import itertools
import math
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from plexe_tui.engine.features import NUMERIC_TYPES
from plexe_tui.engine.metrics import Metric
from plexe_tui.engine.planning import MAX_FOLDS, RANDOM_STATE
from plexe_tui.engine.records import ApproachResult, Task

# Rarer categories of a column share one one-hot column, to bound the width.
MAX_CATEGORIES = 30
FOREST_TREES = 200

EstimatorFactory = Callable[[Task], Any]


@dataclass(frozen=True)
class Approach:
    """A named way to model the data: an estimator and how to preprocess for it."""

    name: str
    description: str
    make_estimator: EstimatorFactory
    scale_numeric: bool = False


@dataclass
class SearchOutcome:
    """The scored approaches, the index of the best one, and why the search stopped."""

    metric_name: str
    results: list[ApproachResult] = field(default_factory=list)
    best_index: int | None = None
    best_reason: str | None = None
    note: str | None = None


def approaches(count: int) -> list[Approach]:
    """Return the first ``count`` approaches, cheapest first."""
    return list(itertools.islice(_all_approaches(), count))


def _all_approaches() -> Iterator[Approach]:
    yield Approach(
        "baseline",
        "predicts the class shares or the mean, ignoring the features",
        _baseline,
    )
    yield Approach(
        "linear",
        "logistic regression or ridge regression on scaled features",
        _linear,
        scale_numeric=True,
    )
    yield Approach(
        "hist_gradient_boosting",
        "histogram gradient boosting with default settings",
        lambda task: _boosting(task, {}),
    )
    yield Approach(
        "random_forest", f"random forest of {FOREST_TREES} trees", _random_forest
    )
    yield Approach(
        "extra_trees",
        f"extremely randomised trees, {FOREST_TREES} of them",
        _extra_trees,
    )
    small_steps = {
        "learning_rate": 0.05,
        "max_iter": 300,
        "max_leaf_nodes": 15,
        "l2_regularization": 1.0,
    }
    yield _boosting_approach("hgb_small_steps", small_steps)
    deep_trees = {
        "learning_rate": 0.1,
        "max_iter": 200,
        "max_leaf_nodes": 63,
        "min_samples_leaf": 10,
    }
    yield _boosting_approach("hgb_deep_trees", deep_trees)
    grid = itertools.product((0.03, 0.1, 0.3), (7, 15, 31, 63), (5, 20, 50), (0.0, 1.0))
    for rate, leaves, min_leaf, l2 in grid:
        settings = {
            "learning_rate": rate,
            "max_iter": 300,
            "max_leaf_nodes": leaves,
            "min_samples_leaf": min_leaf,
            "l2_regularization": l2,
            "early_stopping": True,
        }
        yield _boosting_approach(
            f"hgb_lr{rate}_leaves{leaves}_min{min_leaf}_l2{l2}", settings
        )


def _boosting_approach(name: str, settings: Mapping[str, Any]) -> Approach:
    described = ", ".join(f"{key}={value}" for key, value in settings.items())
    return Approach(
        name,
        f"histogram gradient boosting with {described}",
        lambda task: _boosting(task, settings),
    )


def _baseline(task: Task) -> Any:
    if task == "regression":
        return DummyRegressor(strategy="mean")
    return DummyClassifier(strategy="prior")


def _linear(task: Task) -> Any:
    if task == "regression":
        return Ridge(alpha=1.0)
    return LogisticRegression(max_iter=2000)


def _boosting(task: Task, settings: Mapping[str, Any]) -> Any:
    if task == "regression":
        return HistGradientBoostingRegressor(random_state=RANDOM_STATE, **settings)
    return HistGradientBoostingClassifier(random_state=RANDOM_STATE, **settings)


def _random_forest(task: Task) -> Any:
    model = RandomForestRegressor if task == "regression" else RandomForestClassifier
    return model(n_estimators=FOREST_TREES, random_state=RANDOM_STATE, n_jobs=-1)


def _extra_trees(task: Task) -> Any:
    model = ExtraTreesRegressor if task == "regression" else ExtraTreesClassifier
    return model(n_estimators=FOREST_TREES, random_state=RANDOM_STATE, n_jobs=-1)


def make_pipeline(
    approach: Approach, task: Task, feature_types: Mapping[str, str]
) -> Pipeline:
    """Return an unfitted pipeline: imputation, encoding, then the estimator."""
    numeric = [name for name, kind in feature_types.items() if kind in NUMERIC_TYPES]
    categorical = [name for name in feature_types if name not in numeric]

    numeric_steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="median"))
    ]
    if approach.scale_numeric:
        numeric_steps.append(("scale", StandardScaler()))
    encoder = OneHotEncoder(
        handle_unknown="ignore", max_categories=MAX_CATEGORIES, sparse_output=False
    )
    categorical_steps = [
        ("impute", SimpleImputer(strategy="most_frequent")),
        ("encode", encoder),
    ]

    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), numeric))
    if categorical:
        transformers.append(("categorical", Pipeline(categorical_steps), categorical))
    preprocess = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0)
    return Pipeline(
        [("preprocess", preprocess), ("model", approach.make_estimator(task))]
    )


def make_folds(task: Task, y: Any) -> KFold | StratifiedKFold:
    """Return the cross-validation splitter.

    Regression gets 5 folds. Classification gets stratified folds, 2 to 5 of them,
    because every class needs a row in every fold.
    """
    if task == "regression":
        return KFold(n_splits=MAX_FOLDS, shuffle=True, random_state=RANDOM_STATE)
    smallest_class = int(np.bincount(y).min())
    folds = max(2, min(MAX_FOLDS, smallest_class))
    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)


def run_search(
    features: pd.DataFrame,
    y: Any,
    task: Task,
    feature_types: Mapping[str, str],
    metric: Metric,
    candidates: list[Approach],
    deadline: float | None,
    on_result: Callable[[ApproachResult, SearchOutcome], None],
) -> SearchOutcome:
    """Cross-validate each approach in turn and pick the best.

    ``deadline`` is a ``time.monotonic()`` value: once it passes, the remaining
    approaches are skipped, but the first one always runs. ``on_result`` is called
    after each approach with its result and the outcome so far.
    """
    outcome = SearchOutcome(metric_name=metric.name)
    folds = make_folds(task, y)
    for position, approach in enumerate(candidates):
        if position > 0 and deadline is not None and time.monotonic() >= deadline:
            outcome.note = (
                f"stopped after {position} of {len(candidates)} approaches because "
                "the build's timeout was reached"
            )
            break
        pipeline = make_pipeline(approach, task, feature_types)
        result = _score(approach, pipeline, features, y, folds, metric, task)
        outcome.results.append(result)
        outcome.best_index, outcome.best_reason = choose_best(outcome.results, metric)
        on_result(result, outcome)
    return outcome


def _score(
    approach: Approach,
    pipeline: Pipeline,
    features: pd.DataFrame,
    y: Any,
    folds: KFold | StratifiedKFold,
    metric: Metric,
    task: Task,
) -> ApproachResult:
    started = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            scores = cross_validate(
                pipeline, features, y, cv=folds, scoring=metric.scorer(task)
            )["test_score"]
    except (ValueError, TypeError, ArithmeticError, MemoryError) as error:
        # One approach failing on this data must not end the search.
        return ApproachResult(
            name=approach.name,
            description=approach.description,
            seconds=round(time.monotonic() - started, 3),
            error=f"{type(error).__name__}: {error}",
        )
    values = np.asarray(scores, dtype=float) * metric.sign
    return ApproachResult(
        name=approach.name,
        description=approach.description,
        metric_value=round(float(values.mean()), 6),
        metric_std=round(float(values.std()), 6),
        seconds=round(time.monotonic() - started, 3),
    )


def choose_best(
    results: list[ApproachResult], metric: Metric
) -> tuple[int | None, str | None]:
    """Return the index of the best scored result and a sentence saying why.

    Ties go to the earlier, cheaper approach.
    """
    scored = [
        (index, result.metric_value)
        for index, result in enumerate(results)
        if result.metric_value is not None and math.isfinite(result.metric_value)
    ]
    if not scored:
        return None, None
    ordered = sorted(scored, key=lambda pair: (-metric.sign * pair[1], pair[0]))
    best_index, best_value = ordered[0]
    word = "highest" if metric.greater_is_better else "lowest"
    reason = (
        f"{word} mean cross-validated {metric.name} ({best_value:.4f}) "
        f"of {len(scored)} scored approaches"
    )
    if len(ordered) > 1:
        runner_index, runner_value = ordered[1]
        reason += f"; next best was {results[runner_index].name} ({runner_value:.4f})"
    return best_index, reason
