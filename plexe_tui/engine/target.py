"""Choosing the column to predict and whether the task is classification or regression.

The target comes from the first ``output_schema`` key that names a column, else from
the goal's words, else from a goal word that is a category value of exactly one
column. Names are compared after normalisation: case and every character that is not
a letter or digit are ignored, so "body mass" matches ``Body_Mass``.
"""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.records import Task

# Maximum length, in words, of a goal phrase compared with column names.
MAX_PHRASE_WORDS = 4
# Minimum length, in characters, of a phrase that may match the start of a name.
MIN_PREFIX_CHARS = 4
# An integer target is a class label only when it has at most this many distinct
# values, and those are at most MAX_CLASS_SHARE of the rows or just two.
MAX_INTEGER_CLASSES = 20
MAX_CLASS_SHARE = 0.05
# A category value named in the goal points at its column only in columns with
# at most this many distinct values.
MAX_VALUE_MATCH_CATEGORIES = 20
_MAX_LISTED_COLUMNS = 40

# Words that introduce the thing to predict: the nearest match after one wins.
_CUE_WORDS = frozenset(
    [
        "predict",
        "predicts",
        "predicting",
        "prediction",
        "forecast",
        "forecasting",
        "estimate",
        "estimating",
        "classify",
        "classifying",
        "determine",
        "target",
        "label",
        "guess",
        "whether",
        "which",
        "what",
    ]
)
# Words too common to match the start of a column name on their own.
_COMMON_WORDS = _CUE_WORDS | frozenset(
    [
        "from",
        "using",
        "with",
        "based",
        "given",
        "data",
        "dataset",
        "value",
        "values",
        "column",
        "columns",
        "model",
        "build",
        "train",
        "this",
        "that",
        "each",
        "their",
        "into",
        "will",
        "when",
        "where",
        "should",
    ]
)
_OUTPUT_EXTRA_KEYS = frozenset({"probability", "probabilities", "confidence", "score"})


@dataclass(frozen=True)
class TargetChoice:
    """The target column, why it was chosen, and how the prediction is returned."""

    column: str
    reason: str
    output_key: str
    output_type: str | None


@dataclass(frozen=True)
class _Match:
    column: str
    start: int
    end: int
    length: int
    exact: bool


def normalise_name(name: str) -> str:
    """Lower-case ``name`` and drop every character that is not a letter or digit."""
    return "".join(character for character in name.lower() if character.isalnum())


def choose_target(
    table: pd.DataFrame,
    goal: str,
    output_schema: Mapping[str, str | None] | None,
    display_name: str,
) -> TargetChoice:
    """Return the target column, or raise InvalidRequest listing the columns."""
    columns = [str(column) for column in table.columns]
    output_key, output_type = _output_key(output_schema)

    named = _column_named_by_schema(columns, output_schema)
    if named is not None:
        schema_type = output_schema.get(named[0]) if output_schema else None
        reason = f"output_schema key {named[0]!r} names the column {named[1]!r}"
        return TargetChoice(named[1], reason, named[0], schema_type)

    match = _column_named_by_goal(columns, goal)
    if match is not None:
        reason = _goal_reason(goal, match)
        return TargetChoice(
            match.column, reason, output_key or match.column, output_type
        )

    value_match = _column_with_value_in_goal(table, goal)
    if value_match is not None:
        column, value = value_match
        reason = f"the goal mentions {value!r}, a value of the column {column!r}"
        return TargetChoice(column, reason, output_key or column, output_type)

    raise InvalidRequest(
        "target_not_found",
        f"Could not tell which column of {display_name!r} to predict: the goal names "
        "none of its columns. Name the column in the goal (for example "
        f"'predict {columns[-1]}') or as a key of output_schema. Columns: "
        f"{_list_columns(columns)}.",
        field="goal",
    )


def decide_task(target: pd.Series, output_type: str | None) -> tuple[Task, str]:
    """Return the task for a target column without missing values, and the reason.

    An output type of str or bool means classification and float means regression.
    Otherwise a non-numeric or boolean target is classification, and a numeric one
    is classification only when its values are integers with at most 20 distinct
    values that are also at most 5% of the rows (two values always qualify).
    """
    distinct = int(target.nunique())
    numeric = pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(
        target
    )

    if output_type == "float":
        if not numeric:
            raise InvalidRequest(
                "invalid_output_type",
                f"output_schema declares the float type for {target.name!r}, but "
                "the column is not numeric. Declare it as str, or predict a numeric "
                "column.",
                field="output_schema",
            )
        return "regression", "output_schema declares a float prediction"
    if output_type in ("str", "bool"):
        return _classes_task(
            distinct
        ), f"output_schema declares a {output_type} prediction"
    if not numeric:
        return _classes_task(distinct), "the target column is not numeric"

    integral = bool((target == target.round()).all())
    few_values = distinct <= MAX_INTEGER_CLASSES and (
        distinct <= 2 or distinct <= MAX_CLASS_SHARE * len(target)
    )
    if integral and few_values:
        return (
            _classes_task(distinct),
            f"the target has {distinct} distinct integer values in {len(target)} rows",
        )
    return "regression", "the target is numeric with many distinct values"


def _classes_task(distinct: int) -> Task:
    return "binary" if distinct <= 2 else "multiclass"


def _output_key(
    output_schema: Mapping[str, str | None] | None,
) -> tuple[str | None, str | None]:
    """Return the output_schema key that carries the prediction, and its type."""
    if not output_schema:
        return None, None
    for key, type_name in output_schema.items():
        if key.lower() not in _OUTPUT_EXTRA_KEYS:
            return key, type_name
    return None, None


def _column_named_by_schema(
    columns: Sequence[str], output_schema: Mapping[str, str | None] | None
) -> tuple[str, str] | None:
    """Return the first (output_schema key, column) pair whose names match."""
    if not output_schema:
        return None
    by_name = {normalise_name(column): column for column in columns}
    for key in output_schema:
        column = by_name.get(normalise_name(key))
        if column is not None:
            return key, column
    return None


def _column_named_by_goal(columns: Sequence[str], goal: str) -> _Match | None:
    words = _goal_words(goal)
    matches = _phrase_matches(columns, words)
    if not matches:
        return None
    kept = _drop_overlapped(matches)
    return min(kept, key=lambda match: _rank(match, words))


def _goal_words(goal: str) -> list[str]:
    return re.findall(r"[^\W_]+", goal.lower())


def _phrase_matches(columns: Sequence[str], words: Sequence[str]) -> list[_Match]:
    """Find every goal phrase of 1 to 4 whole words that names or starts a column."""
    normalised = [(column, normalise_name(column)) for column in columns]
    matches = []
    for size in range(1, MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - size + 1):
            phrase_words = words[start : start + size]
            phrase = "".join(phrase_words)
            may_prefix = len(phrase) >= MIN_PREFIX_CHARS and not all(
                word in _COMMON_WORDS for word in phrase_words
            )
            for column, name in normalised:
                exact = name == phrase
                if exact or (may_prefix and name.startswith(phrase)):
                    matches.append(
                        _Match(column, start, start + size, len(phrase), exact)
                    )
    return matches


def _drop_overlapped(matches: list[_Match]) -> list[_Match]:
    """Keep the longest match for each stretch of the goal (exact before prefix)."""
    longest: list[_Match] = []
    for match in sorted(matches, key=lambda m: (-m.length, not m.exact, m.start)):
        if all(
            match.end <= other.start or match.start >= other.end for other in longest
        ):
            longest.append(match)
    return longest


def _rank(match: _Match, words: Sequence[str]) -> tuple[float, int, bool, int]:
    """Order matches: nearest after a cue word, then longest, exact, earliest."""
    cue_positions = [i for i in range(match.start) if words[i] in _CUE_WORDS]
    distance = match.start - cue_positions[-1] if cue_positions else math.inf
    return distance, -match.length, not match.exact, match.start


def _goal_reason(goal: str, match: _Match) -> str:
    words = _goal_words(goal)
    phrase = " ".join(words[match.start : match.end])
    relation = "name" if match.exact else "start the name of"
    return f"the goal's words {phrase!r} {relation} the column {match.column!r}"


def _column_with_value_in_goal(
    table: pd.DataFrame, goal: str
) -> tuple[str, str] | None:
    """Return the only low-cardinality text column with a value named in the goal."""
    words = _goal_words(goal)
    phrases = {
        "".join(words[start : start + size])
        for size in range(1, MAX_PHRASE_WORDS + 1)
        for start in range(len(words) - size + 1)
    }
    found: list[tuple[str, str]] = []
    for column in table.columns:
        series = table[column]
        if pd.api.types.is_numeric_dtype(series):
            continue
        values = series.dropna().unique()
        if len(values) > MAX_VALUE_MATCH_CATEGORIES:
            continue
        for value in values:
            if normalise_name(str(value)) in phrases:
                found.append((str(column), str(value)))
                break
    return found[0] if len(found) == 1 else None


def _list_columns(columns: Sequence[str]) -> str:
    listed = ", ".join(columns[:_MAX_LISTED_COLUMNS])
    hidden = len(columns) - _MAX_LISTED_COLUMNS
    return f"{listed} and {hidden} more" if hidden > 0 else listed
