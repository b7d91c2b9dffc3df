"""Validation of approaches: the splits, and out-of-fold predictions and scores.

Data with more than 100,000 rows gets one holdout split of 20% of the rows, because
k-fold cross-validation of large data takes too long. Smaller data gets k-fold
cross-validation with up to 5 folds. Classification splits are stratified, and
every split is shuffled with random_state=0, so the same data always gets the same
splits.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from plexe_tui.engine.approaches import RANDOM_STATE, Approach
from plexe_tui.engine.fitting import StoppedForTime, fit_pipeline
from plexe_tui.engine.inputs import ModelColumns
from plexe_tui.engine.metrics import Metric
from plexe_tui.engine.records import Task
from plexe_tui.engine.scoring import score

MAX_FOLDS = 5
HOLDOUT_ABOVE_ROWS = 100_000
HOLDOUT_SHARE = 0.2

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Validation:
    """The train and test row indexes of each split, and a sentence about them."""

    splits: list[Split]
    description: str

    @property
    def train_rows(self) -> int:
        """The training rows summed over the splits, for estimating refit times."""
        return sum(len(train) for train, _ in self.splits)


@dataclass(frozen=True)
class SearchData:
    """The model input, the target and how approaches are validated and scored."""

    features: pd.DataFrame
    y: np.ndarray
    task: Task
    columns: ModelColumns
    metric: Metric
    class_count: int
    validation: Validation
    threads: int = 1


@dataclass
class Evaluation:
    """Out-of-fold predictions of one approach and its score on each split.

    ``predictions`` has a row for every data row; rows no split scored are NaN.
    """

    predictions: np.ndarray
    split_scores: list[float]
    seconds: float


# Called during an approach with the seconds it has taken and the share (0 to 1)
# of its work done; returning False stops it.
Gate = Callable[[float, float], bool]
# Called after each split with the number of splits done and their total.
SplitProgress = Callable[[int, int], None]


def make_validation(task: Task, y: np.ndarray) -> Validation:
    """Return the splits for the data's size and task."""
    rows = len(y)
    stratify = task != "regression"
    indexes = np.arange(rows)
    if rows > HOLDOUT_ABOVE_ROWS:
        train, test = train_test_split(
            indexes,
            test_size=HOLDOUT_SHARE,
            random_state=RANDOM_STATE,
            stratify=y if stratify else None,
        )
        kind = "a stratified holdout" if stratify else "a holdout"
        return Validation(
            [(np.sort(train), np.sort(test))],
            f"{kind} of {HOLDOUT_SHARE:.0%} of the {rows} rows, because data with "
            f"more than {HOLDOUT_ABOVE_ROWS} rows makes k-fold cross-validation slow",
        )
    if not stratify:
        folds: Any = KFold(n_splits=MAX_FOLDS, shuffle=True, random_state=RANDOM_STATE)
        return Validation(
            list(folds.split(indexes)),
            f"{MAX_FOLDS}-fold cross-validation, shuffled with random_state=0",
        )
    return _stratified_folds(y)


def _stratified_folds(y: np.ndarray) -> Validation:
    """Return 2 to 5 stratified folds: every class needs a row in every fold."""
    smallest_class = int(np.bincount(y).min())
    count = max(2, min(MAX_FOLDS, smallest_class))
    folds = StratifiedKFold(n_splits=count, shuffle=True, random_state=RANDOM_STATE)
    description = f"stratified {count}-fold cross-validation, shuffled with "
    description += "random_state=0"
    if count < MAX_FOLDS:
        description += (
            f" ({count} folds, not {MAX_FOLDS}, because the smallest class has "
            f"{smallest_class} rows)"
        )
    return Validation(list(folds.split(np.zeros(len(y)), y)), description)


def evaluate(
    approach: Approach,
    data: SearchData,
    gate: Gate,
    progress: SplitProgress,
) -> Evaluation:
    """Fit the approach on each split's training rows and predict its test rows.

    ``gate`` is asked before each split after the first, and between the steps
    of a forest. Raises StoppedForTime when it returns False, and the
    estimator's errors.
    """
    started = time.monotonic()
    y = data.y
    predictions = _empty_predictions(len(y), data.task, data.class_count)
    scores = []
    total = len(data.validation.splits)
    for done, (train, test) in enumerate(data.validation.splits):
        if done > 0 and not gate(time.monotonic() - started, done / total):
            raise StoppedForTime(f"stopped after {done} of {total} splits")

        def keep_going(share: float, done: int = done) -> bool:
            return gate(time.monotonic() - started, (done + share) / total)

        pipeline = fit_pipeline(
            approach,
            data.task,
            data.columns,
            data.features.iloc[train],
            y[train],
            len(y),
            data.threads,
            keep_going,
        )
        predicted = predict(
            pipeline, data.features.iloc[test], data.task, data.class_count
        )
        predictions[test] = predicted
        scores.append(score(data.metric, y[test], predicted, data.task))
        progress(done + 1, total)
    return Evaluation(predictions, scores, time.monotonic() - started)


def predict(model: Any, features: Any, task: Task, class_count: int) -> np.ndarray:
    """Return a model's predictions: class probabilities, or numbers.

    Probability columns follow the plan's class indexes, even when a training
    split lacked a class; a class the model never saw gets probability 0.
    """
    if task == "regression":
        values: np.ndarray = np.asarray(model.predict(features), dtype=np.float64)
        return values
    probabilities = np.asarray(model.predict_proba(features), dtype=np.float64)
    classes = np.asarray(model.classes_, dtype=np.int64)
    if len(classes) == class_count:
        return probabilities
    full = np.zeros((len(probabilities), class_count))
    full[:, classes] = probabilities
    return full


def _empty_predictions(rows: int, task: Task, class_count: int) -> np.ndarray:
    if task == "regression":
        return np.full(rows, np.nan)
    return np.full((rows, class_count), np.nan)
