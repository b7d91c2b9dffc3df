"""Turning a build request and its data into a BuildPlan, and the plan into X and y.

The server makes the plan when the build is requested, so that a missing target or
an unfitting metric comes back as a 4xx on that request. It reads only the first
50,000 rows of the file, and the whole target column, so that planning a large
file keeps a small part of it in memory. The training process then reuses the
stored plan with ``training_data``.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from plexe_tui.engine.data import load_column, load_sample
from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.features import choose_features, infer_type
from plexe_tui.engine.inputs import prepare_features
from plexe_tui.engine.metrics import metric_for_task
from plexe_tui.engine.records import BuildPlan, BuildRequest, Label, Task
from plexe_tui.engine.target import (
    TargetChoice,
    choose_target,
    decide_task,
    normalise_name,
)

# Rows read to choose the target and the features; the target column itself is
# read whole, so classes and row counts cover every row.
SAMPLE_ROWS = 50_000
# Minimum rows with a target value: two for each of five cross-validation folds.
MIN_ROWS = 10
# A class needs this many rows so that every training fold contains it.
MIN_CLASS_ROWS = 2
# output_schema keys, normalised, that ask for the chosen class's probability or
# for a mapping of every class to its probability.
_PROBABILITY_KEYS = frozenset({"probability", "confidence", "score"})
_PROBABILITIES_KEYS = frozenset({"probabilities"})


def plan_from_file(
    path: Path,
    display_name: str,
    request: BuildRequest,
    sample_rows: int = SAMPLE_ROWS,
) -> BuildPlan:
    """Plan a build from a data file, reading a sample and the target column."""
    sample = load_sample(path, display_name, sample_rows)
    choice = choose_target(
        sample.table, request.goal, request.output_schema, display_name
    )
    if sample.complete:
        target = sample.table[choice.column]
    else:
        target = load_column(path, display_name, choice.column)
    plan = make_plan(sample.table, target, choice, request)
    if not sample.complete:
        plan.sample_rows = len(sample.table)
    return plan


def make_plan(
    table: pd.DataFrame,
    target: pd.Series,
    choice: TargetChoice,
    request: BuildRequest,
) -> BuildPlan:
    """Decide task, features and metric, or raise InvalidRequest saying why.

    ``table`` gives the feature columns (a sample is enough) and ``target`` is the
    whole target column.
    """
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
    probability_key, probabilities_key = _probability_keys(request, task)
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
        rows_dropped=len(target) - rows,
        classes=classes,
        positive_class=classes[1] if classes and len(classes) == 2 else None,
        date_features=features.date_features,
        probability_key=probability_key,
        probabilities_key=probabilities_key,
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
        codes = target[keep].map(_class_codes(target[keep], plan.classes))
        keep.loc[codes.index] = codes.notna()
        y: Any = codes.dropna().to_numpy(dtype=np.int64)
    else:
        y = pd.to_numeric(target[keep]).to_numpy(dtype=np.float64)
    rows = table if bool(keep.all()) else table.loc[keep]
    features = prepare_features(rows, plan)
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


def _distinct_labels(present: pd.Series) -> dict[Any, Label]:
    """Return each distinct raw value of a target column with its class label.

    Labels are computed per distinct value, not per row, so that a column of
    millions of rows costs no more than its few classes. Mixed label types all
    become text.
    """
    raw_values = present.unique()
    labels = [label_value(value) for value in raw_values]
    if len({type(label) for label in labels}) > 1:
        labels = [str(label) for label in labels]
    return dict(zip(raw_values, labels, strict=True))


def _class_codes(present: pd.Series, classes: list[Label]) -> dict[Any, int]:
    """Return each distinct raw value's index in ``classes``; others are left out."""
    index_of = {_label_key(label): i for i, label in enumerate(classes)}
    as_text = all(isinstance(label, str) for label in classes)
    codes = {}
    for raw, label in _distinct_labels(present).items():
        key = _label_key(str(label) if as_text else label)
        if key in index_of:
            codes[raw] = index_of[key]
    return codes


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
    label_of = _distinct_labels(present)
    counts: dict[tuple[str, Label], int] = {}
    for raw, count in present.value_counts().items():
        key = _label_key(label_of[raw])
        counts[key] = counts.get(key, 0) + int(count)
    usable = {key: count for key, count in counts.items() if count >= MIN_CLASS_ROWS}
    if len(usable) < 2:
        raise InvalidRequest(
            "too_few_classes",
            f"The target {present.name!r} has fewer than two classes with at least "
            f"{MIN_CLASS_ROWS} rows each, so there is nothing to classify. Predict "
            "another column.",
            field="goal",
        )
    classes = sorted(label for _, label in usable)
    return classes, sum(usable.values())


def _output_type(target: pd.Series, task: Task, declared: str | None) -> str:
    if declared is not None:
        return declared
    if task == "regression":
        return "float"
    return infer_type(target)


def _probability_keys(
    request: BuildRequest, task: Task
) -> tuple[str | None, str | None]:
    """Return the output keys for the probability of the class and of every class.

    Without an output_schema a classifier returns ``probability``. With one, it
    returns the probabilities that the schema names, and none otherwise.
    """
    if task == "regression":
        return None, None
    schema = request.output_schema
    if not schema:
        return "probability", None
    probability = probabilities = None
    for key in schema:
        name = normalise_name(key)
        if probability is None and name in _PROBABILITY_KEYS:
            probability = key
        if probabilities is None and name in _PROBABILITIES_KEYS:
            probabilities = key
    return probability, probabilities
