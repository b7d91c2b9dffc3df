"""Normalisation of input and output schemas to canonical type names.

Clients send schemas in three forms, and all of them are read here. The first is
``{"age": "int"}`` with the canonical names int, float, str and bool. The second
uses the JSON-Schema names integer, number, string and boolean instead. The third
is a JSON-Schema object such as ``{"properties": {"age": {"type": "integer"}}}``.
A field without a type (``{}`` or ``null``) gets its type from the data.
"""

from collections.abc import Mapping
from typing import Any

from plexe_tui.engine.errors import InvalidRequest

CANONICAL_TYPES = ("int", "float", "str", "bool")

_TYPE_ALIASES = {
    "int": "int",
    "integer": "int",
    "int32": "int",
    "int64": "int",
    "float": "float",
    "number": "float",
    "double": "float",
    "float32": "float",
    "float64": "float",
    "str": "str",
    "string": "str",
    "text": "str",
    "category": "str",
    "categorical": "str",
    "object": "str",
    "bool": "bool",
    "boolean": "bool",
}


def normalise_schema(value: object, field: str) -> dict[str, str | None] | None:
    """Return a schema as field name -> canonical type (None: from the data).

    Returns None when the schema is absent or empty.

    Raises InvalidRequest naming ``field`` (``input_schema`` or ``output_schema``)
    and the offending key when the schema has an unknown shape or type name.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequest(
            "invalid_schema",
            f"{field} must be a JSON object mapping field names to types, "
            f'such as {{"age": "int"}}.',
            field=field,
        )
    properties = value.get("properties")
    if isinstance(properties, Mapping):
        value = properties
    if not value:
        return None
    return {
        str(key): _normalise_type(entry, field, str(key))
        for key, entry in value.items()
    }


def _normalise_type(entry: Any, field: str, key: str) -> str | None:
    type_name = entry.get("type") if isinstance(entry, Mapping) else entry
    if type_name is None:
        return None
    if isinstance(type_name, list):
        # JSON Schema allows ["number", "null"] for a nullable field.
        non_null = [name for name in type_name if name != "null"]
        if not non_null:
            return None
        type_name = non_null[0]
    canonical = _TYPE_ALIASES.get(str(type_name).strip().lower())
    if canonical is None:
        raise InvalidRequest(
            "invalid_schema_type",
            f"{field} gives {key!r} the type {type_name!r}, which is not known. "
            f"Use one of: {', '.join(CANONICAL_TYPES)} (or integer, number, "
            "string, boolean).",
            field=field,
        )
    return canonical
