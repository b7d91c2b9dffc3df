"""Choosing feature columns and converting raw values into model input.

Training and inference both go through ``prepare_features``, so a value reaches the
fitted pipeline in the same form whether it came from the CSV or from a JSON request.
Feature types are the canonical schema names: int, float and bool features are
numeric, str features are categorical.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.records import DroppedColumn
from plexe_tui.engine.target import normalise_name

NUMERIC_TYPES = frozenset({"int", "float", "bool"})
_MAX_LISTED_FEATURES = 20


@dataclass
class FeatureChoice:
    """The feature columns in order, their types, and the columns left out."""

    features: list[str] = field(default_factory=list)
    feature_types: dict[str, str] = field(default_factory=dict)
    dropped: list[DroppedColumn] = field(default_factory=list)


def choose_features(
    table: pd.DataFrame, target: str, input_schema: Mapping[str, str | None] | None
) -> FeatureChoice:
    """Pick the features: the input_schema keys, else every usable non-target column.

    Without an input_schema, columns that are empty, constant, or identifiers (an
    integer or text value unique to every row) are dropped, each with its reason.
    Raises InvalidRequest naming an input_schema key that is not a column, or when
    no feature remains.
    """
    if input_schema:
        choice = _features_from_schema(table, target, input_schema)
    else:
        choice = _features_from_data(table, target)
    if not choice.features:
        dropped = "; ".join(f"{d.column} {d.reason}" for d in choice.dropped)
        raise InvalidRequest(
            "no_features",
            f"No column is left to predict {target!r} from"
            + (f" (dropped: {dropped})" if dropped else "")
            + ". Upload data with another usable column, or list the features to "
            "use in input_schema.",
            field="input_schema",
        )
    return choice


def _features_from_schema(
    table: pd.DataFrame, target: str, input_schema: Mapping[str, str | None]
) -> FeatureChoice:
    by_name = {normalise_name(str(column)): str(column) for column in table.columns}
    choice = FeatureChoice()
    for key, type_name in input_schema.items():
        column = key if key in table.columns else by_name.get(normalise_name(key))
        if column is None:
            raise InvalidRequest(
                "unknown_feature",
                f"input_schema names {key!r}, which is not a column of the data. "
                f"Columns: {', '.join(map(str, table.columns))}.",
                field="input_schema",
            )
        if column == target:
            choice.dropped.append(DroppedColumn(column=column, reason="is the target"))
            continue
        choice.features.append(column)
        choice.feature_types[column] = type_name or infer_type(table[column])
    listed = set(choice.features) | {target}
    for column in map(str, table.columns):
        if column not in listed:
            choice.dropped.append(
                DroppedColumn(column=column, reason="not listed in input_schema")
            )
    return choice


def _features_from_data(table: pd.DataFrame, target: str) -> FeatureChoice:
    choice = FeatureChoice()
    for column in map(str, table.columns):
        if column == target:
            continue
        series = table[column]
        reason = _drop_reason(series)
        if reason is not None:
            choice.dropped.append(DroppedColumn(column=column, reason=reason))
            continue
        choice.features.append(column)
        choice.feature_types[column] = infer_type(series)
    return choice


def _drop_reason(series: pd.Series) -> str | None:
    present = series.dropna()
    if present.empty:
        return "has no values"
    distinct = int(present.nunique())
    if distinct == 1:
        return "has the same value in every row"
    type_name = infer_type(series)
    unique_per_row = distinct == len(series)
    if unique_per_row and type_name in ("int", "str") and len(series) > 1:
        return f"looks like an identifier ({type_name} value unique to every row)"
    return None


def infer_type(series: pd.Series) -> str:
    """Return the canonical type of a column: bool, int, float or str."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        present = series.dropna()
        integral = not present.empty and bool((present == present.round()).all())
        return "int" if integral and bool(series.isna().any()) else "float"
    return "str"


def prepare_features(
    table: pd.DataFrame, features: Sequence[str], feature_types: Mapping[str, str]
) -> pd.DataFrame:
    """Return the feature columns as float (numeric) or object (categorical) columns.

    Missing values become NaN in both kinds. Numeric text that does not parse also
    becomes NaN, because a training file may mix numbers with markers like "n/a".
    """
    columns = {}
    for name in features:
        series = table[name]
        if feature_types[name] in NUMERIC_TYPES:
            numbers = pd.to_numeric(series.astype(object), errors="coerce")
            columns[name] = numbers.astype("float64")
        else:
            columns[name] = series.map(category_text).astype(object)
    return pd.DataFrame(columns, index=table.index)


def category_text(value: Any) -> Any:
    """Return the text form of a category value, or NaN for a missing value.

    Integral floats lose their ``.0`` so that 2007 and 2007.0 are the same category.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return np.nan
    if value is pd.NA or value is pd.NaT:
        return np.nan
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def frame_from_rows(
    rows: Sequence[Mapping[str, Any]],
    features: Sequence[str],
    feature_types: Mapping[str, str],
) -> pd.DataFrame:
    """Check request rows against the features and return them as model input.

    Raises InvalidRequest naming the missing features, or the feature whose value
    has the wrong type. Keys that are not features are ignored. ``null`` is allowed
    and counts as a missing value.
    """
    for index, row in enumerate(rows):
        _check_row(row, features, feature_types, index if len(rows) > 1 else None)
    table = pd.DataFrame.from_records(
        [{name: row[name] for name in features} for row in rows], columns=list(features)
    )
    return prepare_features(table, features, feature_types)


def _check_row(
    row: Mapping[str, Any],
    features: Sequence[str],
    feature_types: Mapping[str, str],
    index: int | None,
) -> None:
    where = "" if index is None else f" in row {index}"
    missing = [name for name in features if name not in row]
    if missing:
        listed = ", ".join(missing[:_MAX_LISTED_FEATURES])
        if len(missing) > _MAX_LISTED_FEATURES:
            listed += f" and {len(missing) - _MAX_LISTED_FEATURES} more"
        raise InvalidRequest(
            "missing_features",
            f"Missing features{where}: {listed}. Send every feature of the model's "
            "input_schema (null for an unknown value).",
            field=missing[0],
        )
    for name in features:
        _check_value(name, row[name], feature_types[name], where)


def _check_value(name: str, value: Any, type_name: str, where: str) -> None:
    if value is None:
        return
    if isinstance(value, dict | list):
        raise _bad_value(name, where, "must be a single value, not an object or array")
    if type_name not in NUMERIC_TYPES or isinstance(value, bool | int | float):
        return
    try:
        float(value)
    except (TypeError, ValueError):
        raise _bad_value(name, where, f"must be a number, not {value!r}") from None


def _bad_value(name: str, where: str, problem: str) -> InvalidRequest:
    return InvalidRequest(
        "invalid_feature_value", f"Feature {name!r}{where} {problem}.", field=name
    )
