"""Choosing the feature columns of a build and their types.

Feature types are the canonical schema names: int, float and bool features are
numeric, str features are categorical. A str feature whose values are dates is
expanded into numeric parts (see ``dates``), but requests still send it as text.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from plexe_tui.engine.dates import detect_date
from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.records import DateFeature, DroppedColumn
from plexe_tui.engine.target import normalise_name

NUMERIC_TYPES = frozenset({"int", "float", "bool"})
# A text column is free text when its median value has at least this many
# characters and most of its values differ.
FREE_TEXT_MIN_CHARS = 40
FREE_TEXT_MIN_DISTINCT_SHARE = 0.5
# A text column whose values differ in at least this share of rows is an
# identifier, such as a name or an e-mail address.
TEXT_IDENTIFIER_SHARE = 0.95
TEXT_IDENTIFIER_MIN_ROWS = 20


@dataclass
class FeatureChoice:
    """The feature columns in order, their types, and the columns left out."""

    features: list[str] = field(default_factory=list)
    feature_types: dict[str, str] = field(default_factory=dict)
    dropped: list[DroppedColumn] = field(default_factory=list)
    date_features: dict[str, DateFeature] = field(default_factory=dict)


def choose_features(
    table: pd.DataFrame, target: str, input_schema: Mapping[str, str | None] | None
) -> FeatureChoice:
    """Pick the features: the input_schema keys, else every usable non-target column.

    Without an input_schema, columns that are empty, constant, identifiers (an
    integer or text value unique to every row) or long free text are dropped, each
    with its reason. Raises InvalidRequest naming an input_schema key that is not a
    column, or when no feature remains.
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


def _features_from_schema(
    table: pd.DataFrame, target: str, input_schema: Mapping[str, str | None]
) -> FeatureChoice:
    by_name = {normalise_name(str(column)): str(column) for column in table.columns}
    choice = FeatureChoice()
    unknown = [
        key
        for key in input_schema
        if key not in table.columns and normalise_name(key) not in by_name
    ]
    if unknown:
        raise InvalidRequest(
            "unknown_feature",
            f"input_schema names {', '.join(map(repr, unknown))}, which "
            f"{'is not a column' if len(unknown) == 1 else 'are not columns'} of "
            f"the data. Columns: {', '.join(map(str, table.columns))}.",
            field="input_schema",
        )
    for key, type_name in input_schema.items():
        column = key if key in table.columns else by_name[normalise_name(key)]
        if column == target:
            choice.dropped.append(DroppedColumn(column=column, reason="is the target"))
            continue
        _add_feature(choice, table[column], type_name or infer_type(table[column]))
    listed = set(choice.features) | {target}
    for column in map(str, table.columns):
        if column not in listed:
            choice.dropped.append(
                DroppedColumn(column=column, reason="is not listed in input_schema")
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
        _add_feature(choice, series, infer_type(series))
    return choice


def _add_feature(choice: FeatureChoice, series: pd.Series, type_name: str) -> None:
    name = str(series.name)
    choice.features.append(name)
    choice.feature_types[name] = type_name
    if type_name == "str":
        date = detect_date(series)
        if date is not None:
            choice.date_features[name] = date


def _drop_reason(series: pd.Series) -> str | None:
    present = series.dropna()
    if present.empty:
        return "has no values"
    distinct = int(present.nunique())
    if distinct == 1:
        return "has the same value in every row"
    type_name = infer_type(series)
    if type_name == "int" and distinct == len(series) and len(series) > 1:
        return "looks like an identifier (an integer unique to every row)"
    if type_name != "str" or detect_date(series) is not None:
        return None
    return _text_drop_reason(present.astype(str), distinct, len(series))


def _text_drop_reason(present: pd.Series, distinct: int, rows: int) -> str | None:
    distinct_share = distinct / len(present)
    median_chars = int(present.str.len().median())
    if (
        median_chars >= FREE_TEXT_MIN_CHARS
        and distinct_share >= FREE_TEXT_MIN_DISTINCT_SHARE
    ):
        return (
            f"looks like free text (values have {median_chars} characters at the "
            f"median and {distinct_share:.0%} of them differ); the engine does not "
            "model text"
        )
    if distinct == rows and rows > 1:
        return "looks like an identifier (a text value unique to every row)"
    if rows >= TEXT_IDENTIFIER_MIN_ROWS and distinct_share >= TEXT_IDENTIFIER_SHARE:
        return (
            f"looks like an identifier ({distinct_share:.0%} of its text values "
            "differ, so a value seen in training rarely comes again)"
        )
    return None
