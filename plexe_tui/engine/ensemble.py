"""Greedy ensemble selection over out-of-fold predictions, and the fitted ensemble.

This is the ensemble selection of Caruana et al. ("Ensemble Selection from
Libraries of Models", ICML 2004): start from nothing and, for a fixed number of
rounds, add with replacement the candidate whose addition gives the best score of
the averaged predictions. The best ensemble seen in any round wins, and a member
added k times gets weight k / size. Candidates are the best approaches of the
search, compared on the same validation splits as every approach.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from plexe_tui.engine.metrics import Metric
from plexe_tui.engine.records import Task
from plexe_tui.engine.scoring import score
from plexe_tui.engine.validation import Validation

MAX_CANDIDATES = 5
ROUNDS = 20


@dataclass(frozen=True)
class Selection:
    """The chosen members as (candidate position, weight), and the split scores."""

    weights: list[tuple[int, float]]
    split_scores: list[float]


def select_ensemble(
    candidates: list[np.ndarray],
    y: np.ndarray,
    validation: Validation,
    metric: Metric,
    task: Task,
) -> Selection | None:
    """Return the best weighted average of the candidates' predictions.

    Returns None when the best average uses a single candidate, because then the
    ensemble is that candidate. Ties go to the candidate listed first.
    """
    counts: Counter[int] = Counter()
    total = np.zeros_like(candidates[0])
    best: tuple[float, Counter[int], list[float]] | None = None
    for size in range(1, ROUNDS + 1):
        round_best: tuple[float, int, list[float]] | None = None
        for position, predictions in enumerate(candidates):
            average = (total + predictions) / size
            scores = split_scores(average, y, validation, metric, task)
            mean = float(np.mean(scores))
            if round_best is None or metric.better(mean, round_best[0]):
                round_best = (mean, position, scores)
        assert round_best is not None
        mean, position, scores = round_best
        counts[position] += 1
        total = total + candidates[position]
        if best is None or metric.better(mean, best[0]):
            best = (mean, Counter(counts), scores)

    assert best is not None
    _, chosen, scores = best
    if len(chosen) < 2:
        return None
    size = sum(chosen.values())
    weights = [(position, count / size) for position, count in sorted(chosen.items())]
    return Selection(weights, scores)


def split_scores(
    predictions: np.ndarray,
    y: np.ndarray,
    validation: Validation,
    metric: Metric,
    task: Task,
) -> list[float]:
    """Return the metric of the predictions on each split's test rows."""
    return [
        score(metric, y[test], predictions[test], task) for _, test in validation.splits
    ]


class WeightedEnsemble:
    """Fitted models whose predictions are averaged with fixed weights.

    Classifier members must share the classes, in the same order.
    """

    def __init__(self, members: list[Any], weights: list[float], task: Task) -> None:
        self.members = members
        self.weights = weights
        self.task = task

    @property
    def classes_(self) -> Any:
        """The class labels of the members, for classifiers."""
        return self.members[0].classes_

    def predict_proba(self, features: Any) -> np.ndarray:
        """Return the weighted mean of the members' class probabilities."""
        return self.combine([member.predict_proba(features) for member in self.members])

    def predict(self, features: Any) -> np.ndarray:
        """Return the weighted mean for regression, else the likeliest class."""
        if self.task == "regression":
            return self.combine([member.predict(features) for member in self.members])
        classes = np.asarray(self.classes_)
        picked: np.ndarray = classes[np.argmax(self.predict_proba(features), axis=1)]
        return picked

    def combine(self, predictions: list[np.ndarray]) -> np.ndarray:
        """Return the weighted sum of the members' predictions, in member order."""
        total = np.zeros_like(np.asarray(predictions[0], dtype=np.float64))
        for weight, values in zip(self.weights, predictions, strict=True):
            total += weight * np.asarray(values, dtype=np.float64)
        return total
