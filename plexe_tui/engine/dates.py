"""Date and datetime columns: detecting them and expanding them into numeric parts.

A text column is a date column when at least 95% of a sample of its values parse
with one format: the format pandas guesses from the first value, else ISO 8601.
A column that pandas already read as datetimes (from Parquet) is one too. Each
date becomes its year, month, day, weekday (Monday is 0) and, when any value has
a time of day, its hour. Times with a UTC offset are converted to UTC first.
"""

from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from plexe_tui.engine.records import DateFeature

DATE_PARTS = ("year", "month", "day", "weekday", "hour")
ISO_FORMAT = "ISO8601"
# Share of sampled values that must parse for a text column to count as dates.
MIN_PARSED_SHARE = 0.95
_SAMPLE_VALUES = 500


def detect_date(series: pd.Series) -> DateFeature | None:
    """Return how to parse and expand a column of dates, or None if it contains none."""
    present = series.dropna()
    if present.empty:
        return None
    if pd.api.types.is_datetime64_any_dtype(series):
        return DateFeature(format=ISO_FORMAT, parts=_varying_parts(present))
    if not _is_text(series):
        return None

    sample = present.iloc[:_SAMPLE_VALUES].astype(str)
    for date_format in _candidate_formats(sample.iloc[0]):
        parsed = _parse(sample, date_format)
        if parsed.notna().mean() >= MIN_PARSED_SHARE:
            parts = _varying_parts(_parse(present.astype(str), date_format))
            return DateFeature(format=date_format, parts=parts) if parts else None
    return None


def part_name(column: str, part: str) -> str:
    """Return the model input name of one part of a date column."""
    return f"{column} ({part})"


def expand_dates(series: pd.Series, feature: DateFeature) -> dict[str, pd.Series]:
    """Return the parts of a date column as float columns, NaN where not a date."""
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = _as_utc(series)
    else:
        text = series.map(lambda value: None if _is_missing(value) else str(value))
        parsed = _parse(text, feature.format)
    return {
        part_name(str(series.name), part): _part(parsed.dt, part).astype("float64")
        for part in feature.parts
    }


def date_part_values(value: Any, feature: DateFeature) -> list[float] | None:
    """Return the parts of one request value, NaN for null, or None if not a date.

    A request may send the column's own format or any ISO 8601 date or time.
    """
    if _is_missing(value):
        return [np.nan] * len(feature.parts)
    if isinstance(value, bool | int | float | dict | list):
        return None
    stamp = _parse_one(str(value), feature.format)
    if stamp is None and feature.format != ISO_FORMAT:
        stamp = _parse_one(str(value), ISO_FORMAT)
    if stamp is None:
        return None
    return [float(_stamp_part(stamp, part)) for part in feature.parts]


def _parse_one(text: str, date_format: str) -> pd.Timestamp | None:
    try:
        stamp = pd.to_datetime(text, format=date_format, utc=True)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if pd.isna(stamp) else stamp


def _candidate_formats(first_value: str) -> list[str]:
    guessed = guess_datetime_format(first_value)
    return [guessed, ISO_FORMAT] if guessed else [ISO_FORMAT]


def _parse(text: pd.Series, date_format: str) -> pd.Series:
    parsed: pd.Series = pd.to_datetime(
        text, format=date_format, errors="coerce", utc=True
    )
    return parsed


def _as_utc(series: pd.Series) -> pd.Series:
    if getattr(series.dt, "tz", None) is None:
        return series.dt.tz_localize("UTC")
    return series.dt.tz_convert("UTC")


def _varying_parts(parsed: pd.Series) -> list[str]:
    """Return the parts that take more than one value, keeping the date's order."""
    values = _as_utc(parsed.dropna())
    return [part for part in DATE_PARTS if _part(values.dt, part).nunique() > 1]


def _part(accessor: Any, part: str) -> pd.Series:
    if part == "weekday":
        result: pd.Series = accessor.day_of_week
        return result
    result = getattr(accessor, part)
    return result


def _stamp_part(stamp: pd.Timestamp, part: str) -> int:
    if part == "weekday":
        return int(stamp.day_of_week)
    return int(getattr(stamp, part))


def _is_text(series: pd.Series) -> bool:
    return bool(
        pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series)
    )


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and np.isnan(value)
