"""The modelling approaches a build tries, cheapest first, and their pipelines.

The order is a baseline that ignores the features, a linear model, gradient
boosting with default settings, two forests, then tuned gradient boosting
settings. When a build tries four approaches or more, the last one is a greedy
ensemble of the best approaches before it (see ``ensemble``). Every estimator
has random_state=0, so the same data and request give the same model.
"""

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from plexe_tui.engine.encoding import TableEncoder
from plexe_tui.engine.inputs import ModelColumns
from plexe_tui.engine.records import Task

RANDOM_STATE = 0
FOREST_TREES = 200
# A forest leaf contains at least rows // FOREST_LEAF_DIVISOR rows, so that a forest
# on a million rows takes hundreds of megabytes, not tens of gigabytes. Each
# random forest tree also trains on a bootstrap sample of at most FOREST_MAX_SAMPLES
# rows, which bounds its training time.
FOREST_LEAF_DIVISOR = 5_000
FOREST_MAX_SAMPLES = 100_000
ENSEMBLE_NAME = "ensemble"
# The ensemble needs at least two approaches besides the baseline to combine.
MIN_APPROACHES_FOR_ENSEMBLE = 4

# (task, rows of the data) -> an unfitted estimator.
EstimatorFactory = Callable[[Task, int], Any]


@dataclass(frozen=True)
class Approach:
    """A named way to model the data: an estimator and how to preprocess for it.

    ``cost`` is the approach's training time relative to gradient boosting with
    default settings, a rough value from timing the approaches on the test
    datasets and on synthetic data of 50,000 rows. Forests vary the most: up to
    a hundred times boosting's time on large regression data. The time budget
    scales the cost by the measured times of earlier approaches to decide
    whether an approach fits, and stops forests between steps of trees.
    ``forest`` marks tree forests, which can grow tree by tree and whose
    ``n_jobs`` sets how many threads they use.
    """

    name: str
    description: str
    make_estimator: EstimatorFactory | None
    cost: float
    scale_numeric: bool = False
    forest: bool = False

    @property
    def is_ensemble(self) -> bool:
        """Whether this is the ensemble of earlier approaches, not a new model."""
        return self.make_estimator is None


ENSEMBLE = Approach(
    ENSEMBLE_NAME,
    "greedy ensemble selection over the out-of-fold predictions of the best approaches",
    None,
    cost=0.0,
)


def approaches(count: int) -> list[Approach]:
    """Return ``count`` approaches, cheapest first, ending with the ensemble."""
    if count < MIN_APPROACHES_FOR_ENSEMBLE:
        return list(itertools.islice(_model_approaches(), count))
    return [*itertools.islice(_model_approaches(), count - 1), ENSEMBLE]


def make_pipeline(
    approach: Approach, task: Task, columns: ModelColumns, rows: int, threads: int = 1
) -> Pipeline:
    """Return an unfitted pipeline: the encoder, then the estimator.

    ``rows`` is the number of rows of the whole data, which sizes forests. A
    forest gets ``threads`` as its ``n_jobs``.
    """
    assert approach.make_estimator is not None, "the ensemble has no pipeline"
    encoder = TableEncoder(
        numeric=list(columns.numeric),
        categorical=list(columns.categorical),
        scale=approach.scale_numeric,
    )
    estimator = approach.make_estimator(task, rows)
    if approach.forest:
        estimator.set_params(n_jobs=threads)
    return Pipeline([("encode", encoder), ("model", estimator)])


def _model_approaches() -> Iterator[Approach]:
    yield Approach(
        "baseline",
        "predicts the class shares or the mean, ignoring the features",
        _baseline,
        cost=0.04,
    )
    yield Approach(
        "linear",
        "logistic regression or ridge regression on scaled features",
        _linear,
        cost=0.1,
        scale_numeric=True,
    )
    yield Approach(
        "hist_gradient_boosting",
        "histogram gradient boosting with default settings",
        lambda task, rows: _boosting(task, {}),
        cost=1.0,
    )
    yield Approach(
        "random_forest",
        f"random forest of {FOREST_TREES} trees",
        _random_forest,
        cost=3.0,
        forest=True,
    )
    yield Approach(
        "extra_trees",
        f"extremely randomised trees, {FOREST_TREES} of them",
        _extra_trees,
        cost=2.0,
        forest=True,
    )
    small_steps = {
        "learning_rate": 0.05,
        "max_iter": 300,
        "max_leaf_nodes": 15,
        "l2_regularization": 1.0,
    }
    yield _boosting_approach("hgb_small_steps", small_steps, cost=2.0)
    deep_trees = {
        "learning_rate": 0.1,
        "max_iter": 200,
        "max_leaf_nodes": 63,
        "min_samples_leaf": 10,
    }
    yield _boosting_approach("hgb_deep_trees", deep_trees, cost=3.0)
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
        name = f"hgb_lr{rate}_leaves{leaves}_min{min_leaf}_l2{l2}"
        yield _boosting_approach(name, settings, cost=1.0 + leaves / 31)


def _boosting_approach(name: str, settings: Mapping[str, Any], cost: float) -> Approach:
    described = ", ".join(f"{key}={value}" for key, value in settings.items())
    return Approach(
        name,
        f"histogram gradient boosting with {described}",
        lambda task, rows: _boosting(task, settings),
        cost=cost,
    )


def _baseline(task: Task, rows: int) -> Any:
    if task == "regression":
        return DummyRegressor(strategy="mean")
    return DummyClassifier(strategy="prior")


def _linear(task: Task, rows: int) -> Any:
    if task == "regression":
        return Ridge(alpha=1.0)
    return LogisticRegression(max_iter=2000)


def _boosting(task: Task, settings: Mapping[str, Any]) -> Any:
    if task == "regression":
        return HistGradientBoostingRegressor(random_state=RANDOM_STATE, **settings)
    return HistGradientBoostingClassifier(random_state=RANDOM_STATE, **settings)


def _random_forest(task: Task, rows: int) -> Any:
    model = RandomForestRegressor if task == "regression" else RandomForestClassifier
    settings = _forest_settings(rows)
    sample_share = min(1.0, FOREST_MAX_SAMPLES / max(rows, 1))
    if sample_share < 1.0:
        settings["max_samples"] = sample_share
    return model(**settings)


def _extra_trees(task: Task, rows: int) -> Any:
    model = ExtraTreesRegressor if task == "regression" else ExtraTreesClassifier
    return model(**_forest_settings(rows))


def _forest_settings(rows: int) -> dict[str, Any]:
    return {
        "n_estimators": FOREST_TREES,
        "min_samples_leaf": max(1, rows // FOREST_LEAF_DIVISOR),
        "random_state": RANDOM_STATE,
    }
