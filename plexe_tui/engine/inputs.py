"""Turning raw values into model input, from a data file or from request rows.

The model input has the numeric columns first (numeric features, then the parts of
date features) and the categorical columns after them. Both paths give a value the
same form: a float (NaN when missing) for numeric columns, and the text of the
value (NaN when missing) for categorical ones. Request rows are checked first, so
that a missing, unknown or mistyped field gets an InvalidRequest naming it.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from plexe_tui.engine.dates import date_part_values, expand_dates, part_name
from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.features import NUMERIC_TYPES
from plexe_tui.engine.records import BuildPlan

_MAX_LISTED_FIELDS = 20
_TRUE_TEXT = frozenset({"true", "yes", "y", "t", "1"})
_FALSE_TEXT = frozenset({"false", "no", "n", "f", "0"})


@dataclass(frozen=True)
class ModelColumns:
    """The names of the model input's numeric and categorical columns, in order."""

    numeric: list[str]
    categorical: list[str]


def model_columns(plan: BuildPlan) -> ModelColumns:
    """Return the model input columns of a plan."""
    numeric: list[str] = []
    categorical: list[str] = []
    for name in plan.features:
        date = plan.date_features.get(name)
        if date is not None:
            numeric.extend(part_name(name, part) for part in date.parts)
        elif plan.feature_types[name] in NUMERIC_TYPES:
            numeric.append(name)
        else:
            categorical.append(name)
    return ModelColumns(numeric, categorical)


def prepare_features(table: pd.DataFrame, plan: BuildPlan) -> pd.DataFrame:
    """Return the model input for the rows of a table read from a data file.

    Numeric text that does not parse becomes NaN, because a training file may mix
    numbers with markers like "n/a".
    """
    columns = model_columns(plan)
    # Numeric columns are written one at a time into one float64 block, which the
    # frame then uses without copying. Building the frame from separate columns
    # would copy them all into such a block at once.
    block = np.empty((len(table), len(columns.numeric)))
    position = {name: index for index, name in enumerate(columns.numeric)}
    categorical: dict[str, pd.Series] = {}
    for name in plan.features:
        for column_name, values in _feature_columns(table[name], plan):
            if column_name in position:
                block[:, position[column_name]] = values
            else:
                categorical[column_name] = values

    frame = pd.DataFrame(block, index=table.index, columns=columns.numeric, copy=False)
    for name in columns.categorical:
        frame[name] = categorical[name]
    return frame


def _feature_columns(series: pd.Series, plan: BuildPlan) -> list[tuple[str, pd.Series]]:
    """Return the model input columns that one feature becomes."""
    name = str(series.name)
    date = plan.date_features.get(name)
    type_name = plan.feature_types[name]
    if date is not None:
        return list(expand_dates(series, date).items())
    if type_name == "bool":
        return [(name, _bool_numbers(series))]
    if type_name in NUMERIC_TYPES:
        return [(name, _float_column(series))]
    return [(name, _category_column(series))]


def frame_from_rows(rows: Sequence[Mapping[str, Any]], plan: BuildPlan) -> pd.DataFrame:
    """Check request rows and return them as model input.

    Raises InvalidRequest as ``check_row`` does, naming the row when there are
    several.
    """
    columns = model_columns(plan)
    numbers = []
    categories = []
    for index, row in enumerate(rows):
        position = index if len(rows) > 1 else None
        check_row(row, plan, position)
        row_numbers, row_categories = row_values(row, plan, position)
        numbers.append(row_numbers)
        categories.append(row_categories)
    shape = (len(rows), len(columns.numeric))
    frame = pd.DataFrame(
        np.asarray(numbers, dtype=np.float64).reshape(shape), columns=columns.numeric
    )
    for position, name in enumerate(columns.categorical):
        frame[name] = pd.Series([row[position] for row in categories], dtype=object)
    return frame


def check_row(
    row: Mapping[str, Any], plan: BuildPlan, index: int | None = None
) -> None:
    """Raise InvalidRequest unless ``row`` has exactly the features, each valid.

    ``null`` is allowed for any feature and counts as a missing value.
    """
    where = _where(index)
    missing = [name for name in plan.features if name not in row]
    if missing:
        raise InvalidRequest(
            "missing_features",
            f"Missing features{where}: {_listed(missing)}. Send every feature of the "
            "model's input_schema (null for an unknown value).",
            field=missing[0],
        )
    if len(row) > len(plan.features):
        _reject_unknown(row, plan, where)


def row_values(
    row: Mapping[str, Any], plan: BuildPlan, index: int | None = None
) -> tuple[list[float], list[Any]]:
    """Return a checked row's numeric and categorical model input values, in order.

    Raises InvalidRequest naming the first feature whose value has the wrong type,
    and ``index`` as the row number when it is given.
    """
    where = _where(index)
    numbers: list[float] = []
    categories: list[Any] = []
    for name in plan.features:
        value = row[name]
        date = plan.date_features.get(name)
        type_name = plan.feature_types[name]
        if date is not None:
            parts = date_part_values(value, date)
            if parts is None:
                problem = "must be a date, such as 2024-01-31"
                raise _bad_value(name, where, value, problem)
            numbers.extend(parts)
        elif type_name in NUMERIC_TYPES:
            numbers.append(_number(name, where, value, type_name))
        else:
            categories.append(_category(name, where, value))
    return numbers, categories


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


def _float_column(series: pd.Series) -> pd.Series:
    """Return a column as float64, converting text with NaN for what does not parse.

    A column that is already numeric converts without going through Python
    objects, which would take several times its memory.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(values, index=series.index, name=series.name)
    numbers = pd.to_numeric(series.astype(object), errors="coerce")
    return numbers.astype("float64")


def _category_column(series: pd.Series) -> pd.Series:
    """Return a column's category texts as a pandas categorical column.

    ``category_text`` runs once per distinct value, and the categorical keeps one
    small code per row instead of a Python string, which matters for millions of
    rows. Values with the same text, such as 2007 and 2007.0, share a category.
    """
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    position_of: dict[str, int] = {}
    positions = [
        position_of.setdefault(category_text(value), len(position_of))
        for value in distinct
    ]
    lookup = np.asarray([*positions, -1], dtype=np.int64)
    categorical = pd.Categorical.from_codes(lookup[codes], categories=list(position_of))
    return pd.Series(categorical, index=series.index, name=series.name)


def _bool_numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    numbers = series.map(_bool_number_or_nan)
    return numbers.astype("float64")


def _bool_number_or_nan(value: Any) -> float:
    number = _bool_number(value)
    return math.nan if number is None else number


def _bool_number(value: Any) -> float | None:
    """Return 1.0 or 0.0 for a boolean value or its text, the number for a number."""
    if value is None:
        return math.nan
    if isinstance(value, bool | int | float | np.bool_ | np.number):
        return float(value)
    text = str(value).strip().lower()
    if text in _TRUE_TEXT:
        return 1.0
    if text in _FALSE_TEXT:
        return 0.0
    return None


def _number(name: str, where: str, value: Any, type_name: str) -> float:
    if value is None:
        return math.nan
    if type_name == "bool":
        flag = _bool_number(value) if not isinstance(value, dict | list) else None
        if flag is None or not math.isfinite(flag):
            raise _bad_value(name, where, value, "must be true, false, 1 or 0")
        return flag
    number = None
    if isinstance(value, bool | int | float):
        number = float(value)
    elif isinstance(value, str):
        number = _parse_float(value)
    if number is None or not math.isfinite(number):
        raise _bad_value(name, where, value, "must be a finite number")
    return number


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _category(name: str, where: str, value: Any) -> Any:
    if isinstance(value, dict | list):
        problem = "must be a single value, not an object or array"
        raise _bad_value(name, where, value, problem)
    return category_text(value)


def _reject_unknown(row: Mapping[str, Any], plan: BuildPlan, where: str) -> None:
    features = set(plan.features)
    unknown = [str(name) for name in row if name not in features]
    notes = []
    if plan.target in unknown:
        notes.append(f"{plan.target!r} is the column the model predicts")
    dropped = {column.column for column in plan.dropped_columns} - {plan.target}
    left_out = [name for name in unknown if name in dropped]
    if left_out:
        notes.append(f"the build left out {_listed(left_out)}")
    note = f" ({'; '.join(notes)})" if notes else ""
    raise InvalidRequest(
        "unknown_features",
        f"Unknown fields{where}: {_listed(unknown)}{note}. Send only the features "
        f"of the model's input_schema: {_listed(plan.features)}.",
        field=unknown[0],
    )


def _bad_value(name: str, where: str, value: Any, problem: str) -> InvalidRequest:
    shown_value = repr(value)
    if len(shown_value) > 60:
        shown_value = shown_value[:57] + "..."
    return InvalidRequest(
        "invalid_feature_value",
        f"Feature {name!r}{where} {problem}, not {shown_value}.",
        field=name,
    )


def _where(index: int | None) -> str:
    return "" if index is None else f" in row {index}"


def _listed(names: Sequence[str]) -> str:
    listed = ", ".join(names[:_MAX_LISTED_FIELDS])
    if len(names) > _MAX_LISTED_FIELDS:
        listed += f" and {len(names) - _MAX_LISTED_FIELDS} more"
    return listed
