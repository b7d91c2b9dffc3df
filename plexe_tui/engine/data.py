"""Loading an uploaded CSV or JSON file into a pandas DataFrame.

CSV files may use a comma, semicolon, tab or pipe as delimiter; the first 64 KiB
decide which. JSON files may hold an array of records, an object of columns, or one
record per line (JSON lines). Any failure becomes an InvalidRequest whose message
names the file and the problem.
"""

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd

from plexe_tui.engine.errors import InvalidRequest

_SNIFF_BYTES = 64 * 1024
_CSV_DELIMITERS = ",;\t|"
_JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
_CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
# Missing-value markers read on top of pandas' defaults ("?" is common in public
# datasets).
_EXTRA_NA_VALUES = ["?"]


def load_table(path: Path, display_name: str) -> pd.DataFrame:
    """Read a CSV or JSON file into a DataFrame with at least one row and column.

    ``display_name`` is the name the user knows the file by, used in messages.
    """
    try:
        head = _read_head(path)
    except FileNotFoundError:
        raise _data_error(
            display_name, "its content is missing; upload it again"
        ) from None
    if not head.strip():
        raise _data_error(display_name, "the file is empty")

    if _is_json(path, head):
        table = _read_json(path, display_name)
    else:
        table = _read_csv(path, display_name, head)

    if table.empty or len(table.columns) == 0:
        raise _data_error(display_name, "the file has no data rows")
    table.columns = [str(column).strip() for column in table.columns]
    duplicates = sorted({c for c in table.columns if list(table.columns).count(c) > 1})
    if duplicates:
        raise _data_error(
            display_name, f"the column names {duplicates} appear more than once"
        )
    return table


def _read_head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(_SNIFF_BYTES)


def _is_json(path: Path, head: bytes) -> bool:
    suffix = path.suffix.lower()
    if suffix in _JSON_SUFFIXES:
        return True
    if suffix in _CSV_SUFFIXES:
        return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def _read_csv(path: Path, display_name: str, head: bytes) -> pd.DataFrame:
    encoding = _detect_encoding(head)
    delimiter = _detect_delimiter(head.decode(encoding, errors="replace"))
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
            encoding=encoding,
            na_values=_EXTRA_NA_VALUES,
            skipinitialspace=True,
        )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        reason = _first_line(error)
        raise _data_error(display_name, f"it is not valid CSV ({reason})") from error


def _detect_encoding(head: bytes) -> str:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of a full sample is still UTF-8.
        cut_at_end = len(head) == _SNIFF_BYTES and error.start >= len(head) - 3
        if not cut_at_end:
            return "latin-1"
    return "utf-8-sig"


def _detect_delimiter(sample: str) -> str:
    lines = sample.splitlines()
    if len(sample) >= _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=_CSV_DELIMITERS)
    except csv.Error:
        return ","
    return dialect.delimiter


def _read_json(path: Path, display_name: str) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            raise _data_error(
                display_name, f"it is not valid JSON ({error})"
            ) from error
        return _records_to_frame(_read_json_lines(text, display_name), display_name)

    if isinstance(document, dict) and all(
        isinstance(value, list) for value in document.values()
    ):
        try:
            return pd.DataFrame(document)
        except ValueError as error:
            reason = _first_line(error)
            raise _data_error(display_name, f"its columns differ ({reason})") from error
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise _data_error(
            display_name, "JSON data must be an array of objects, one per row"
        )
    return _records_to_frame(document, display_name)


def _read_json_lines(text: str, display_name: str) -> list[Any]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise _data_error(
                display_name, f"line {number} is not valid JSON ({error.msg})"
            ) from error
    return records


def _records_to_frame(records: list[Any], display_name: str) -> pd.DataFrame:
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise _data_error(
                display_name,
                f"row {index + 1} is a {type(record).__name__}, not a JSON object",
            )
    return pd.DataFrame.from_records(records)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _data_error(display_name: str, problem: str) -> InvalidRequest:
    return InvalidRequest(
        "invalid_data",
        f"Could not read {display_name!r}: {problem}.",
        field="upload_id",
    )
