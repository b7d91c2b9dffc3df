"""Scoring predictions with the build's metric.

Metrics score predictions, not fitted models, so that out-of-fold predictions can
be scored and also combined into an ensemble. A classifier's predictions are class
probabilities with one column per class of the plan, and the true values are class
indexes. A regressor's predictions and true values are numbers.
"""

from collections.abc import Callable

import numpy as np
from sklearn import metrics as sk

from plexe_tui.engine.metrics import Metric
from plexe_tui.engine.records import Task

# (true values, predictions, task) -> score in the metric's natural direction.
ScoreFunction = Callable[[np.ndarray, np.ndarray, Task], float]


def score(metric: Metric, y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    """Return the metric of ``predictions`` against the true ``y``."""
    return float(_SCORE_FUNCTIONS[metric.name](y, predictions, task))


def _labels(predictions: np.ndarray) -> np.ndarray:
    labels: np.ndarray = np.argmax(predictions, axis=1)
    return labels


def _class_range(predictions: np.ndarray) -> list[int]:
    return list(range(predictions.shape[1]))


def _accuracy(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    return float(sk.accuracy_score(y, _labels(predictions)))


def _balanced_accuracy(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    return float(sk.balanced_accuracy_score(y, _labels(predictions)))


def _class_score(scorer: Callable[..., float], *, macro: bool = False) -> ScoreFunction:
    """Return a score of predicted labels, a macro average when multiclass.

    Binary tasks score the positive class unless `macro` requests the mean over
    every class. Listing every class of the plan keeps a class that no fold
    predicted in the average, as a zero.
    """

    def class_score(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
        binary = task == "binary" and not macro
        return float(
            scorer(
                y,
                _labels(predictions),
                average="binary" if binary else "macro",
                labels=None if binary else _class_range(predictions),
                zero_division=0,
            )
        )

    return class_score


_f1 = _class_score(sk.f1_score)
_f1_macro = _class_score(sk.f1_score, macro=True)
_precision = _class_score(sk.precision_score)
_recall = _class_score(sk.recall_score)


def _roc_auc(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    """Binary ROC AUC, or the one-vs-rest mean over the classes present in ``y``.

    A class missing from a validation fold has no ROC curve, so it is left out of
    that fold's mean instead of failing the whole approach.
    """
    if task == "binary":
        return float(sk.roc_auc_score(y, predictions[:, 1]))
    scores = [
        sk.roc_auc_score(y == index, predictions[:, index])
        for index in range(predictions.shape[1])
        if 0 < int(np.sum(y == index)) < len(y)
    ]
    return float(np.mean(scores)) if scores else float("nan")


def _log_loss(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    return float(sk.log_loss(y, predictions, labels=_class_range(predictions)))


def _rmse(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    return float(sk.root_mean_squared_error(y, predictions))


def _mse(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    return float(sk.mean_squared_error(y, predictions))


def _mae(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    return float(sk.mean_absolute_error(y, predictions))


def _mape(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    # scikit-learn returns a fraction (0.1 for 10%) and divides by a tiny epsilon,
    # not zero, where the true value is 0.
    return float(sk.mean_absolute_percentage_error(y, predictions))


def _r2(y: np.ndarray, predictions: np.ndarray, task: Task) -> float:
    return float(sk.r2_score(y, predictions))


_SCORE_FUNCTIONS: dict[str, ScoreFunction] = {
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "f1": _f1,
    "f1_macro": _f1_macro,
    "precision": _precision,
    "recall": _recall,
    "roc_auc": _roc_auc,
    "log_loss": _log_loss,
    "rmse": _rmse,
    "mse": _mse,
    "mae": _mae,
    "mape": _mape,
    "r2": _r2,
}
