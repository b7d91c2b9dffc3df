"""The metrics a build can optimise, their aliases and their directions.

Scores are in the metric's natural direction: rmse, mse, mae, mape and log_loss are
positive numbers where lower is better, the others are higher-is-better. The
``scoring`` module computes them; this one stays free of scikit-learn so that the
server can name metrics without importing it.
"""

from dataclasses import dataclass

from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.records import Task

CLASSIFICATION: frozenset[Task] = frozenset({"binary", "multiclass"})
REGRESSION: frozenset[Task] = frozenset({"regression"})


@dataclass(frozen=True)
class Metric:
    """A metric: its name, a readable label, the tasks it fits and its direction."""

    name: str
    label: str
    tasks: frozenset[Task]
    greater_is_better: bool

    def better(self, first: float, second: float) -> bool:
        """Return whether ``first`` is a strictly better score than ``second``."""
        return first > second if self.greater_is_better else first < second


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("accuracy", "accuracy", CLASSIFICATION, True),
        Metric("balanced_accuracy", "balanced accuracy", CLASSIFICATION, True),
        Metric("f1", "F1 score", CLASSIFICATION, True),
        Metric("f1_macro", "macro-averaged F1 score", CLASSIFICATION, True),
        Metric("precision", "precision", CLASSIFICATION, True),
        Metric("recall", "recall", CLASSIFICATION, True),
        Metric("roc_auc", "ROC AUC", CLASSIFICATION, True),
        Metric("log_loss", "log loss", CLASSIFICATION, False),
        Metric("rmse", "root mean squared error", REGRESSION, False),
        Metric("mse", "mean squared error", REGRESSION, False),
        Metric("mae", "mean absolute error", REGRESSION, False),
        Metric(
            "mape", "mean absolute percentage error (as a fraction)", REGRESSION, False
        ),
        Metric("r2", "R²", REGRESSION, True),
    )
}

ALIASES = {
    "accuracy_score": "accuracy",
    "acc": "accuracy",
    "balanced_accuracy_score": "balanced_accuracy",
    "f1_score": "f1",
    "f1_binary": "f1",
    "f_1": "f1",
    "macro_f1": "f1_macro",
    "f1_score_macro": "f1_macro",
    "precision_score": "precision",
    "recall_score": "recall",
    "sensitivity": "recall",
    "auc": "roc_auc",
    "roc_auc_score": "roc_auc",
    "auc_roc": "roc_auc",
    "rocauc": "roc_auc",
    "roc_auc_ovr": "roc_auc",
    "logloss": "log_loss",
    "cross_entropy": "log_loss",
    "neg_log_loss": "log_loss",
    "root_mean_squared_error": "rmse",
    "neg_root_mean_squared_error": "rmse",
    "mean_squared_error": "mse",
    "neg_mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "neg_mean_absolute_error": "mae",
    "mean_absolute_percentage_error": "mape",
    "neg_mean_absolute_percentage_error": "mape",
    "r2_score": "r2",
    "r_squared": "r2",
    "rsquared": "r2",
    "r²": "r2",
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
