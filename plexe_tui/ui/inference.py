"""The rules behind inference: features from a schema, typed values, an example row.

Kept apart from the widgets so the single-row form and the batch prediction of
a file read values the same way, and so the rules can be tested without a
screen.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plexe_tui.ui.preview import BOOL, FLOAT, INT, MISSING_WORDS, STR, preview_file

# Type names servers send, mapped to the API's canonical four: the canonical
# names and JSON-Schema's. Any other name is read as text.
TYPE_ALIASES = {
    INT: INT,
    "integer": INT,
    FLOAT: FLOAT,
    "number": FLOAT,
    STR: STR,
    "string": STR,
    BOOL: BOOL,
    "boolean": BOOL,
}
TRUE_TEXT = frozenset({"true", "yes", "1"})
INFINITY_WORDS = frozenset({"inf", "infinity"})
FALSE_TEXT = frozenset({"false", "no", "0"})


@dataclass(frozen=True)
class Feature:
    """One input of a model: its name and canonical type (int, float, str, bool)."""

    name: str
    type: str


def features_from_schema(schema: Any) -> list[Feature]:
    """Return the features of an input schema, in the schema's order.

    Reads `{"age": "int"}`, `{"age": {"type": "integer"}}` and the JSON-Schema
    form `{"properties": {"age": {"type": "integer"}}}`. A type this client
    does not know is read as text, which the server parses itself.
    """
    if not isinstance(schema, dict):
        return []
    properties = schema.get("properties")
    if isinstance(properties, dict):
        schema = properties
    features = []
    for name, kind in schema.items():
        if isinstance(kind, dict):
            kind = kind.get("type")
        features.append(Feature(str(name), TYPE_ALIASES.get(str(kind).lower(), STR)))
    return features


def parse_value(text: str, kind: str) -> Any:
    """Return the JSON value of a typed field; raise ValueError with the fix.

    Empty text is None (sent as null, a missing value). For numbers and
    booleans the usual missing-value words (`NA`, `nan`, `?`) are None too.
    """
    stripped = text.strip()
    if not stripped:
        return None
    if kind != STR and stripped.lower() in MISSING_WORDS:
        return None
    if kind == INT:
        return _parse_int(stripped)
    if kind == FLOAT:
        return _parse_float(stripped)
    if kind == BOOL:
        return _parse_bool(stripped)
    return text


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    number = _finite_float(text, "must be a whole number, such as 42")
    if not number.is_integer():
        raise ValueError("must be a whole number, such as 42")
    return int(number)


def _parse_float(text: str) -> float:
    return _finite_float(text, "must be a number, such as 3.5")


def _finite_float(text: str, not_number: str) -> float:
    """Return the number, or raise ValueError with `not_number` or a range message.

    JSON has no infinity, so `inf` and numbers beyond the float range, such as
    1e999, which Python reads as infinity, are rejected.
    """
    try:
        number = float(text)
    except ValueError:
        raise ValueError(not_number) from None
    if math.isfinite(number):
        return number
    if text.lstrip("+-").lower() in INFINITY_WORDS:
        raise ValueError(f"{not_number}; infinity cannot be sent")
    raise ValueError(
        f"is out of range: numbers go up to about {sys.float_info.max:.1e}"
    )


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in TRUE_TEXT:
        return True
    if lowered in FALSE_TEXT:
        return False
    raise ValueError("must be true or false (or yes, no, 1, 0)")


def example_row(dataset: str | None, features: list[Feature]) -> dict[str, str]:
    """Return the first data row of a local dataset file, for the features only.

    Returns an empty mapping when the dataset is not a local file that exists
    and can be read, or has none of the features. Missing values become empty.
    """
    if not dataset:
        return {}
    path = Path(dataset).expanduser()
    try:
        if not path.is_file():
            return {}
    except OSError:
        return {}

    preview = preview_file(path)
    if preview.error or not preview.rows:
        return {}
    first = dict(zip((c.name for c in preview.columns), preview.rows[0], strict=False))
    row = {}
    for feature in features:
        if feature.name in first:
            value = first[feature.name]
            missing = value.strip().lower() in MISSING_WORDS
            row[feature.name] = "" if missing and feature.type != STR else value
    return row


def request_body(values: dict[str, str], features: list[Feature]) -> dict[str, Any]:
    """Return the request body: each feature's typed value, and nothing else.

    The local engine rejects a field outside the input schema with a 422, so
    keys of `values` that are not features are left out. Raises ValueError
    naming the first invalid feature.
    """
    body: dict[str, Any] = {}
    for feature in features:
        try:
            body[feature.name] = parse_value(values.get(feature.name, ""), feature.type)
        except ValueError as exc:
            raise ValueError(f"{feature.name} {exc}") from exc
    return body
