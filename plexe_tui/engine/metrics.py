"""The metrics a build can optimise, their aliases, and the scikit-learn scorers.

Scores are reported in the metric's natural direction: rmse, mse, mae and log_loss
as positive numbers where lower is better, the others as they are where higher is
better. scikit-learn's scorers negate the lower-is-better ones, so ``sign`` undoes
that.
"""

from dataclasses import dataclass

from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.records import Task

CLASSIFICATION: frozenset[Task] = frozenset({"binary", "multiclass"})
REGRESSION: frozenset[Task] = frozenset({"regression"})


@dataclass(frozen=True)
class Metric:
    """A metric: the tasks it fits, its scorer names and its direction."""

    name: str
    tasks: frozenset[Task]
    binary_scorer: str
    multiclass_scorer: str
    greater_is_better: bool

    def scorer(self, task: Task) -> str:
        """Return the scikit-learn scorer name for ``task``."""
        return self.multiclass_scorer if task == "multiclass" else self.binary_scorer

    @property
    def sign(self) -> float:
        """The factor that turns a scikit-learn score into the natural value."""
        return 1.0 if self.greater_is_better else -1.0


def _same_scorer(
    name: str, tasks: frozenset[Task], scorer: str, greater: bool
) -> Metric:
    return Metric(name, tasks, scorer, scorer, greater)


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        _same_scorer("accuracy", CLASSIFICATION, "accuracy", True),
        _same_scorer("balanced_accuracy", CLASSIFICATION, "balanced_accuracy", True),
        # Multiclass f1, precision and recall are macro averages over the classes.
        Metric("f1", CLASSIFICATION, "f1", "f1_macro", True),
        Metric("precision", CLASSIFICATION, "precision", "precision_macro", True),
        Metric("recall", CLASSIFICATION, "recall", "recall_macro", True),
        # Multiclass ROC AUC is one-vs-rest, averaged over the classes.
        Metric("roc_auc", CLASSIFICATION, "roc_auc", "roc_auc_ovr", True),
        _same_scorer("log_loss", CLASSIFICATION, "neg_log_loss", False),
        _same_scorer("rmse", REGRESSION, "neg_root_mean_squared_error", False),
        _same_scorer("mse", REGRESSION, "neg_mean_squared_error", False),
        _same_scorer("mae", REGRESSION, "neg_mean_absolute_error", False),
        _same_scorer("r2", REGRESSION, "r2", True),
    )
}

ALIASES = {
    "f1_score": "f1",
    "r2_score": "r2",
    "auc": "roc_auc",
    "roc_auc_score": "roc_auc",
    "logloss": "log_loss",
    "cross_entropy": "log_loss",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "root_mean_squared_error": "rmse",
    "accuracy_score": "accuracy",
}

DEFAULT_METRICS: dict[Task, str] = {
    "binary": "roc_auc",
    "multiclass": "log_loss",
    "regression": "rmse",
}


def find_metric(name: str) -> Metric:
    """Return the metric for a name or alias, or raise InvalidRequest listing them."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    metric = METRICS.get(ALIASES.get(key, key))
    if metric is None:
        raise InvalidRequest(
            "unknown_metric",
            f"Metric {name!r} is not supported. Use one of: {', '.join(METRICS)}.",
            field="metric",
        )
    return metric


def metric_for_task(name: str | None, task: Task) -> Metric:
    """Return the requested metric, or the task's default, checking that it fits."""
    metric = find_metric(name) if name else METRICS[DEFAULT_METRICS[task]]
    if task not in metric.tasks:
        fitting = [m.name for m in METRICS.values() if task in m.tasks]
        kind = "regression" if task == "regression" else "classification"
        raise InvalidRequest(
            "metric_does_not_fit_task",
            f"Metric {metric.name!r} does not fit this {kind} target. Use one of: "
            f"{', '.join(fitting)}.",
            field="metric",
        )
    return metric
