"""Scoring of held-out predictions and the paired comparison of two systems.

Metrics follow the AutoML Benchmark's defaults: ROC AUC for binary targets, log loss
for multiclass targets and RMSE for regression. Log loss clips probabilities to
[1e-15, 1], so that one confident mistake costs about 34.5 rather than infinity.
"""

import math
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

MIN_PROBABILITY = 1e-15
# The engine rounds each returned probability to this many decimals.
ENGINE_PROBABILITY_DECIMALS = 6
LOWER_IS_BETTER = frozenset({"log_loss", "log_loss_top", "rmse"})


@dataclass
class Predictions:
    """One system's predictions for the rows of a test fold.

    For classification, ``labels`` are the predicted classes as strings and
    ``top_probability`` their probabilities. ``probabilities`` has one column per
    entry of ``classes`` and is None when the system returns only the top class.
    For regression, ``values`` are the predicted numbers.
    """

    labels: list[str] | None = None
    top_probability: np.ndarray | None = None
    classes: list[str] | None = None
    probabilities: np.ndarray | None = None
    values: np.ndarray | None = None

    @classmethod
    def from_matrix(cls, classes: list[str], matrix: np.ndarray) -> "Predictions":
        """Build classification predictions from a full probability matrix."""
        best = matrix.argmax(axis=1)
        return cls(
            labels=[classes[index] for index in best],
            top_probability=matrix[np.arange(len(best)), best],
            classes=classes,
            probabilities=matrix,
        )


def score(task: str, y_true: np.ndarray, predictions: Predictions) -> dict[str, float]:
    """Return every metric that the predictions allow, by name.

    Regression gives ``rmse``. Classification gives ``accuracy`` and
    ``log_loss_top``, plus ``roc_auc`` (binary) or ``log_loss`` (multiclass) when
    the full probabilities are known.
    """
    if task == "regression":
        assert predictions.values is not None
        errors = np.asarray(predictions.values, dtype=float) - y_true.astype(float)
        return {"rmse": float(np.sqrt(np.mean(errors**2)))}

    assert predictions.labels is not None and predictions.classes is not None
    labels = np.asarray(predictions.labels, dtype=object)
    truth = np.asarray(y_true, dtype=object)
    scores = {"accuracy": float(np.mean(labels == truth))}
    scores["log_loss_top"] = log_loss_from_top(predictions, truth)
    matrix = predictions.probabilities
    if matrix is None:
        return scores
    if task == "binary":
        positive = predictions.classes[1]
        scores["roc_auc"] = float(roc_auc_score(truth == positive, matrix[:, 1]))
    else:
        column = {label: index for index, label in enumerate(predictions.classes)}
        true_probability = np.array(
            [
                matrix[row, column[label]] if label in column else 0.0
                for row, label in enumerate(truth)
            ]
        )
        scores["log_loss"] = _mean_log_loss(true_probability)
    return scores


def log_loss_from_top(predictions: Predictions, truth: np.ndarray) -> float:
    """Return the log loss computable from the top class and its probability alone.

    The top probability is rounded as the engine rounds it. When the top class is
    wrong, the remaining probability is spread evenly over the other classes, which
    is an estimate of the probability the model gave the true class.
    """
    assert predictions.labels is not None and predictions.classes is not None
    assert predictions.top_probability is not None
    top = np.round(predictions.top_probability, ENGINE_PROBABILITY_DECIMALS)
    others = max(len(predictions.classes) - 1, 1)
    correct = np.asarray(predictions.labels, dtype=object) == truth
    true_probability = np.where(correct, top, (1.0 - top) / others)
    return _mean_log_loss(true_probability)


def _mean_log_loss(true_probability: np.ndarray) -> float:
    clipped = np.clip(true_probability.astype(float), MIN_PROBABILITY, 1.0)
    return float(-np.mean(np.log(clipped)))


def error_of(metric: str, value: float) -> float:
    """Return the value as an error, lower is better: 1 - AUC or the loss itself."""
    return value if metric in LOWER_IS_BETTER else 1.0 - value


@dataclass(frozen=True)
class Comparison:
    """The paired comparison of system A with system B on the same folds."""

    outcome: str
    folds: int
    mean_gain: float
    standard_error: float
    error_ratio: float


def compare(metric: str, a_scores: list[float], b_scores: list[float]) -> Comparison:
    """Compare A with B over paired fold scores.

    The gain of a fold is how much better A did, in the metric's units. A wins when
    the mean gain is above one standard error of the fold gains, loses when it is
    below minus one standard error, and ties otherwise. Fewer than two paired
    folds give the outcome "n/a". ``error_ratio`` is A's mean error divided by B's
    (see ``error_of``): above 1 means A is worse.
    """
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    gains = sign * (np.asarray(a_scores) - np.asarray(b_scores))
    folds = len(gains)
    a_error = error_of(metric, float(np.mean(a_scores))) if folds else math.nan
    b_error = error_of(metric, float(np.mean(b_scores))) if folds else math.nan
    ratio = a_error / b_error if b_error > 0 else math.nan
    if folds < 2:
        mean_gain = float(gains.mean()) if folds else math.nan
        return Comparison("n/a", folds, mean_gain, math.nan, ratio)
    mean_gain = float(gains.mean())
    standard_error = float(gains.std(ddof=1) / math.sqrt(folds))
    if mean_gain > standard_error:
        outcome = "win"
    elif mean_gain < -standard_error:
        outcome = "loss"
    else:
        outcome = "tie"
    return Comparison(outcome, folds, mean_gain, standard_error, ratio)
