"""Turning a build request and its data into a BuildPlan, and the plan into X and y.

The server makes the plan when the build is requested, so that a missing target or
an unfitting metric comes back as a 422 on that request. The training process then
reuses the stored plan with ``training_data``.
"""

from typing import Any

import numpy as np
import pandas as pd

from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.features import choose_features, infer_type, prepare_features
from plexe_tui.engine.metrics import metric_for_task
from plexe_tui.engine.records import BuildPlan, BuildRequest, Label, Task
from plexe_tui.engine.target import choose_target, decide_task

# Cross-validation uses at most this many folds, shuffled with this seed.
MAX_FOLDS = 5
RANDOM_STATE = 0
# Minimum rows with a target value: two for each of five cross-validation folds.
MIN_ROWS = 10
# A class needs this many rows so that every training fold contains it.
MIN_CLASS_ROWS = 2


def make_plan(
    table: pd.DataFrame, request: BuildRequest, display_name: str
) -> BuildPlan:
    """Decide target, task, features and metric, or raise InvalidRequest saying why."""
    choice = choose_target(table, request.goal, request.output_schema, display_name)
    target = table[choice.column]
    present = target.dropna()
    _require_rows(len(present), choice.column)

    task, task_reason = decide_task(present, choice.output_type)
    classes: list[Label] | None = None
    rows = len(present)
    if task != "regression":
        classes, rows = _usable_classes(present)
        task = "binary" if len(classes) == 2 else "multiclass"

    features = choose_features(table, choice.column, request.input_schema)
    metric = metric_for_task(request.metric, task)
    return BuildPlan(
        target=choice.column,
        target_reason=choice.reason,
        task=task,
        task_reason=task_reason,
        output_key=choice.output_key,
        output_type=_output_type(target, task, choice.output_type),
        features=features.features,
        feature_types=features.feature_types,
        dropped_columns=features.dropped,
        metric=metric.name,
        rows=rows,
        rows_dropped=len(table) - rows,
        classes=classes,
        positive_class=classes[1] if classes and len(classes) == 2 else None,
    )


def training_data(table: pd.DataFrame, plan: BuildPlan) -> tuple[pd.DataFrame, Any]:
    """Return the model input X and the target y for the rows the plan uses.

    For classification y contains class indexes into ``plan.classes``, so that binary
    metrics treat ``plan.classes[1]`` as the positive class.
    """
    missing = [c for c in [*plan.features, plan.target] if c not in table.columns]
    if missing:
        raise InvalidRequest(
            "missing_columns",
            f"The data no longer has the columns {missing}. Upload it again.",
            field="upload_id",
        )
    target = table[plan.target]
    keep = target.notna()
    if plan.classes is not None:
        labels = target[keep].map(label_value)
        if all(isinstance(label, str) for label in plan.classes):
            labels = labels.map(str)
        index_of = {_label_key(label): i for i, label in enumerate(plan.classes)}
        codes = labels.map(lambda label: index_of.get(_label_key(label), -1))
        keep.loc[codes.index] = codes >= 0
        y: Any = codes[codes >= 0].to_numpy(dtype=np.int64)
    else:
        y = pd.to_numeric(target[keep]).to_numpy(dtype=np.float64)
    features = prepare_features(table.loc[keep], plan.features, plan.feature_types)
    return features, y


def label_value(value: Any) -> Label:
    """Return a class label as a plain JSON value.

    Integral floats become ints and numpy scalars become Python values.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _label_key(label: Label) -> tuple[str, Label]:
    # True == 1 in Python, so the type keeps bool and int labels apart.
    return type(label).__name__, label


def _require_rows(count: int, target: str) -> None:
    if count < MIN_ROWS:
        raise InvalidRequest(
            "too_few_rows",
            f"Only {count} rows have a value for {target!r}; at least {MIN_ROWS} "
            "are needed to train and cross-validate a model. Upload more rows.",
            field="upload_id",
        )


def _usable_classes(present: pd.Series) -> tuple[list[Label], int]:
    """Return the sorted classes with enough rows, and the number of rows they have."""
    labels = present.map(label_value)
    if len({type(label) for label in labels}) > 1:
        labels = labels.map(str)
    counts = labels.value_counts()
    usable = counts[counts >= MIN_CLASS_ROWS]
    if len(usable) < 2:
        raise InvalidRequest(
            "too_few_classes",
            f"The target {present.name!r} has fewer than two classes with at least "
            f"{MIN_CLASS_ROWS} rows each, so there is nothing to classify. Predict "
            "another column.",
            field="goal",
        )
    classes = sorted(label_value(label) for label in usable.index)
    return classes, int(usable.sum())


def _output_type(target: pd.Series, task: Task, declared: str | None) -> str:
    if declared is not None:
        return declared
    if task == "regression":
        return "float"
    return infer_type(target)
