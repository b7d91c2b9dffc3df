"""The search: validate each approach in turn, within the time budget, and pick one.

Approaches run in the order ``approaches`` gives, cheapest first. Each is scored on
the same validation splits (see ``validation``). An approach that would not finish
in the time left is skipped, and its result gives the reason. The out-of-fold
predictions of the best few approaches are kept for the ensemble.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from plexe_tui.engine.approaches import Approach
from plexe_tui.engine.budget import TimeBudget, TimeEstimator
from plexe_tui.engine.ensemble import MAX_CANDIDATES, Selection, select_ensemble
from plexe_tui.engine.fitting import StoppedForTime
from plexe_tui.engine.metrics import Metric
from plexe_tui.engine.records import ApproachResult
from plexe_tui.engine.validation import SearchData, evaluate


@dataclass
class SearchOutcome:
    """The results in approach order, the best one, and why it was chosen.

    ``ensemble`` contains the members (result indexes) and weights when the best
    result is the ensemble.
    """

    metric_name: str
    results: list[ApproachResult] = field(default_factory=list)
    best_index: int | None = None
    best_reason: str | None = None
    note: str | None = None
    ensemble: Selection | None = None


# Called with the outcome so far and the share (0 to 1) of the current approach's
# splits that are done.
SearchProgress = Callable[[SearchOutcome, float], None]


def run_search(
    data: SearchData,
    candidates: list[Approach],
    budget: TimeBudget,
    progress: SearchProgress,
) -> SearchOutcome:
    """Validate the candidates in turn and pick the best scored one.

    The first candidate always runs, so that a build has a model even when its
    timeout is too short for anything else.
    """
    outcome = SearchOutcome(metric_name=data.metric.name)
    estimator = TimeEstimator(refit_factor=len(data.y) / data.validation.train_rows)
    kept_predictions: dict[int, np.ndarray] = {}
    for position, approach in enumerate(candidates):
        if approach.is_ensemble:
            result = _run_ensemble(
                data, approach, candidates, outcome, kept_predictions, estimator, budget
            )
        else:
            result = _run_approach(
                data,
                approach,
                position,
                outcome,
                estimator,
                budget,
                kept_predictions,
                progress,
            )
        outcome.results.append(result)
        outcome.best_index, outcome.best_reason = choose_best(
            outcome.results, data.metric, len(data.validation.splits)
        )
        if approach.is_ensemble and outcome.best_index != position:
            # The ensemble did not beat the best single approach.
            outcome.ensemble = None
        progress(outcome, 0.0)
    outcome.note = _skipped_note(outcome.results)
    return outcome


def _run_approach(
    data: SearchData,
    approach: Approach,
    position: int,
    outcome: SearchOutcome,
    estimator: TimeEstimator,
    budget: TimeBudget,
    kept_predictions: dict[int, np.ndarray],
    progress: SearchProgress,
) -> ApproachResult:
    best = _best_approach_seconds(outcome, estimator)
    if position > 0:
        needed = estimator.validation_seconds(approach) + max(
            estimator.refit_seconds(approach), best
        )
        left = budget.remaining() - budget.save_reserve()
        if needed > left:
            return _skipped(
                approach,
                f"skipped: it would take about {needed:.1f} s with its refit, and "
                f"{max(left, 0.0):.1f} s of the timeout were left",
            )

    def gate(spent: float, share_done: float) -> bool:
        projected = spent / share_done
        needed = projected - spent + max(projected * estimator.refit_factor, best)
        return needed <= budget.remaining() - budget.save_reserve()

    def split_done(done: int, total: int) -> None:
        progress(outcome, done / total)

    started = time.monotonic()
    try:
        evaluation = evaluate(
            approach,
            data,
            gate if position > 0 else _always,
            split_done,
        )
    except StoppedForTime as stopped:
        return _skipped(
            approach,
            f"{stopped}, because the rest would not finish within the timeout",
            time.monotonic() - started,
        )
    except (ValueError, TypeError, ArithmeticError, MemoryError) as error:
        # One approach failing on this data must not end the search.
        return ApproachResult(
            name=approach.name,
            description=approach.description,
            seconds=round(time.monotonic() - started, 3),
            error=f"{type(error).__name__}: {error}",
        )

    estimator.record(approach, evaluation.seconds)
    result = _scored(approach, evaluation.split_scores, evaluation.seconds)
    if result.metric_value is not None:
        kept_predictions[position] = evaluation.predictions
        _keep_best(kept_predictions, [*outcome.results, result], data.metric)
    return result


def _run_ensemble(
    data: SearchData,
    approach: Approach,
    candidates: list[Approach],
    outcome: SearchOutcome,
    kept_predictions: dict[int, np.ndarray],
    estimator: TimeEstimator,
    budget: TimeBudget,
) -> ApproachResult:
    if len(kept_predictions) < 2:
        return _skipped(
            approach, "skipped: fewer than two approaches were scored to combine"
        )
    members = sorted(kept_predictions)
    refit = sum(estimator.refit_seconds(candidates[index]) for index in members)
    left = budget.remaining() - budget.save_reserve()
    if refit > left:
        return _skipped(
            approach,
            f"skipped: refitting its candidates would take about {refit:.1f} s, and "
            f"{max(left, 0.0):.1f} s of the timeout were left",
        )

    started = time.monotonic()
    selection = select_ensemble(
        [kept_predictions[index] for index in members],
        data.y,
        data.validation,
        data.metric,
        data.task,
    )
    seconds = time.monotonic() - started
    if selection is None:
        return _skipped(
            approach,
            "not used: no weighted mix scored better than the best single approach",
            seconds,
        )
    weights = [(members[position], weight) for position, weight in selection.weights]
    outcome.ensemble = Selection(weights, selection.split_scores)
    result = _scored(approach, selection.split_scores, seconds)
    result.description = _ensemble_description(outcome.results, weights)
    return result


def choose_best(
    results: list[ApproachResult], metric: Metric, splits: int
) -> tuple[int | None, str | None]:
    """Return the index of the best scored result and a sentence saying why.

    `splits` is the number of validation splits behind each score; with one,
    the scores come from a holdout, not from cross-validation. Ties go to the
    earlier, cheaper approach.
    """
    sign = 1.0 if metric.greater_is_better else -1.0
    scored = [
        (index, result.metric_value)
        for index, result in enumerate(results)
        if result.metric_value is not None and math.isfinite(result.metric_value)
    ]
    if not scored:
        return None, None
    ordered = sorted(scored, key=lambda pair: (-sign * pair[1], pair[0]))
    best_index, best_value = ordered[0]
    word = "highest" if metric.greater_is_better else "lowest"
    scoring = "mean cross-validated" if splits > 1 else "holdout"
    reason = (
        f"{word} {scoring} {metric.name} ({best_value:.4f}) "
        f"of {len(scored)} scored approaches"
    )
    if len(ordered) > 1:
        runner_index, runner_value = ordered[1]
        reason += f"; next best was {results[runner_index].name} ({runner_value:.4f})"
    return best_index, reason


def _best_approach_seconds(outcome: SearchOutcome, estimator: TimeEstimator) -> float:
    """Return the estimated refit time of the best result so far."""
    if outcome.best_index is None:
        return 0.0
    best = outcome.results[outcome.best_index]
    return best.seconds * estimator.refit_factor


def _keep_best(
    kept_predictions: dict[int, np.ndarray],
    results: list[ApproachResult],
    metric: Metric,
) -> None:
    """Drop stored predictions beyond the best few, to bound memory."""
    sign = 1.0 if metric.greater_is_better else -1.0

    def rank(index: int) -> tuple[float, int]:
        value = results[index].metric_value
        assert value is not None
        return -sign * value, index

    for index in sorted(kept_predictions, key=rank)[MAX_CANDIDATES:]:
        del kept_predictions[index]


def _scored(approach: Approach, scores: list[float], seconds: float) -> ApproachResult:
    values = np.asarray(scores, dtype=float)
    mean = float(values.mean())
    # One split (a holdout) has no spread to report; its std of 0 would read as
    # a perfectly stable score.
    spread = len(scores) > 1 and math.isfinite(mean)
    return ApproachResult(
        name=approach.name,
        description=approach.description,
        metric_value=round(mean, 6) if math.isfinite(mean) else None,
        metric_std=round(float(values.std()), 6) if spread else None,
        seconds=round(seconds, 3),
        error=None if math.isfinite(mean) else "the metric is undefined on this data",
    )


def _skipped(approach: Approach, reason: str, seconds: float = 0.0) -> ApproachResult:
    return ApproachResult(
        name=approach.name,
        description=approach.description,
        seconds=round(seconds, 3),
        skipped_reason=reason,
    )


def _ensemble_description(
    results: list[ApproachResult], weights: list[tuple[int, float]]
) -> str:
    members = ", ".join(
        f"{results[index].name} (weight {weight:.2f})" for index, weight in weights
    )
    return (
        "greedy ensemble selection over out-of-fold predictions, averaging "
        f"{members}; its score is slightly optimistic because the weights were "
        "chosen on the same predictions"
    )


def _skipped_note(results: list[ApproachResult]) -> str | None:
    skipped = [
        result.name
        for result in results
        if result.skipped_reason and "timeout" in result.skipped_reason
    ]
    if not skipped:
        return None
    return (
        f"{len(skipped)} of {len(results)} approaches did not run in full because "
        f"of the build's timeout: {', '.join(skipped)}"
    )


def _always(spent: float, share_done: float) -> bool:
    return True
