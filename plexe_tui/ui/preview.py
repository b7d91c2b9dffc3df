"""A local look at a dataset before it is sent: the first rows and column types.

Reads only the start of the file with the standard library, so the preview is
instant even for a file of several gigabytes and needs neither the server nor
pandas.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PREVIEW_ROWS = 8
# Rows read to guess column types; more rows make a better guess but a slower
# preview, and the server decides the real types anyway.
SAMPLE_ROWS = 200
# Bytes read from the start of the file: enough for SAMPLE_ROWS of wide rows.
SAMPLE_BYTES = 1024 * 1024
ENCODINGS = ("utf-8-sig", "latin-1")
DELIMITERS = ",;\t|"
# The format of a file comes from its suffix, as in the local engine. A file
# with another suffix is JSON when its text starts with '[' or '{'.
CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".tab"})
JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
JSON_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
PARQUET_MAGIC = b"PAR1"

# Type names of the API's schemas.
INT, FLOAT, BOOL, STR = "int", "float", "bool", "str"
TRUE_WORDS = frozenset({"true", "false", "yes", "no"})
MISSING_WORDS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
# A text column with at most this many distinct values (and repeats) is a
# category: a good classification target.
MAX_CLASSES = 20


@dataclass
class Column:
    """One column of the preview with its guessed type."""

    name: str
    type: str
    distinct: int
    """Distinct non-missing values in the sample."""
    missing: int
    """Missing values in the sample."""

    @property
    def looks_categorical(self) -> bool:
        """Whether the column looks like classes rather than a quantity."""
        if self.type in (STR, BOOL):
            return True
        return self.type == INT and self.distinct <= MAX_CLASSES


@dataclass
class Preview:
    """The start of a dataset, or the reason it cannot be read."""

    columns: list[Column] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    """The first PREVIEW_ROWS rows, as text."""
    sampled_rows: int = 0
    whole_file: bool = False
    """Whether the sampled rows are every row of the file."""
    file_format: str = ""
    error: str | None = None
    warning: str | None = None
    """A problem the server accepts but the user should know about."""

    def column(self, name: str) -> Column | None:
        """Return the column with this name, if any."""
        return next((column for column in self.columns if column.name == name), None)


def preview_file(path: Path) -> Preview:
    """Read the start of a CSV, TSV, JSON or JSON-lines file.

    A Parquet file gets a preview with its format only.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(SAMPLE_BYTES)
            truncated = bool(handle.read(1))
    except OSError as exc:
        return Preview(error=f"Cannot read {path}: {exc.strerror}.")

    if path.suffix.lower() in PARQUET_SUFFIXES or head.startswith(PARQUET_MAGIC):
        # NOTE: reading Parquet needs pyarrow, which the app does not depend
        # on, so the server is the first to read the columns.
        return Preview(file_format="Parquet")
    if b"\x00" in head[:4096]:
        return Preview(error=f"{path.name} is a binary file, not CSV or JSON text.")
    text = decode_text(head)
    if not text.strip():
        return Preview(error=f"{path.name} is empty.")

    if path.suffix.lower() in CSV_SUFFIXES:
        return _preview_csv(text, truncated, path)
    is_json = path.suffix.lower() in JSON_SUFFIXES or text.lstrip()[:1] in ("[", "{")
    if not is_json:
        return _preview_csv(text, truncated, path)
    if path.suffix.lower() in JSON_LINES_SUFFIXES or _looks_like_json_lines(text):
        records, whole_file = _json_lines(text, truncated)
        return _preview_records(records, "JSON lines", path, whole_file)
    return _preview_json(text, truncated, path)


def preview_summary(preview: Preview) -> str:
    """Return the line shown above the preview's rows."""
    if not preview.columns:
        return (
            f"{preview.file_format}: the form shows no preview of this format; "
            "the server reads the columns when the build starts."
        )
    columns = _count(len(preview.columns), "column")
    if preview.whole_file and len(preview.rows) == preview.sampled_rows:
        rows = (
            "The file's only row, with the types guessed from it:"
            if preview.sampled_rows == 1
            else f"All {preview.sampled_rows} rows of the file, with the types "
            "guessed from them:"
        )
        return f"{preview.file_format}, {columns}. {rows}"
    sample = (
        f"all {_count(preview.sampled_rows, 'row')} of the file"
        if preview.whole_file
        else f"the first {_count(preview.sampled_rows, 'row')} of the file"
    )
    return (
        f"{preview.file_format}, {columns}. The first "
        f"{_count(len(preview.rows), 'row')}, with the types guessed from {sample}:"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def decode_text(data: bytes) -> str:
    """Decode file bytes as UTF-8 (with or without a BOM), else as Latin-1."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1", errors="replace")


def _preview_csv(text: str, truncated: bool, path: Path) -> Preview:
    lines = text.splitlines()
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # The last line may be cut in the middle.
    sample = "\n".join(lines[: SAMPLE_ROWS + 1])
    delimiter = detect_delimiter(sample.split("\n", 1)[0])
    numbered = _numbered_rows(sample, delimiter)
    if not numbered:
        return Preview(error=f"{path.name} has no header row.")
    header = numbered[0][1]
    numbered_body = [(line, row) for line, row in numbered[1:] if row]
    body = [row for _, row in numbered_body]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        return Preview(
            error=f"{path.name} repeats column names: {', '.join(duplicates)}. "
            "Rename them so each column has its own name."
        )
    if not body:
        return Preview(error=f"{path.name} has a header but no rows.")
    # NOTE: only the sampled rows are checked, so a ragged row further down the
    # file is first reported by the server.
    longer = _first_row(numbered_body, lambda row: len(row) > len(header))
    if longer is not None:
        line, row = longer
        return Preview(
            error=f"{path.name} is not valid CSV: line {line} has "
            f"{_count(len(row), 'field')}, but the header has {len(header)}. "
            "Quote the fields that contain the delimiter, or remove the extra "
            "fields."
        )

    name = {",": "CSV", ";": "CSV (semicolons)", "\t": "TSV", "|": "CSV (pipes)"}
    records = [dict(zip(header, row, strict=False)) for row in body]
    whole_file = not truncated and len(lines) <= SAMPLE_ROWS + 1
    preview = _build(header, records, name.get(delimiter, "CSV"), whole_file)
    shorter = _first_row(numbered_body, lambda row: len(row) < len(header))
    if shorter is not None:
        line, row = shorter
        preview.warning = (
            f"Line {line} of {path.name} has {_count(len(row), 'field')}, but the "
            f"header has {len(header)}: the server reads the missing fields as "
            "missing values."
        )
    return preview


def _numbered_rows(sample: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Return the rows of CSV text, each with the line number it ends on."""
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    return [(reader.line_num, row) for row in reader]


def _first_row(
    numbered: list[tuple[int, list[str]]], test: Callable[[list[str]], bool]
) -> tuple[int, list[str]] | None:
    return next(((line, row) for line, row in numbered if test(row)), None)


def detect_delimiter(header_line: str) -> str:
    """Return the delimiter of a CSV file from its header line; comma by default."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _looks_like_json_lines(text: str) -> bool:
    """Return whether the text is JSON lines: an object on its first line, then more.

    This is the local engine's rule, so a `.json` file of JSON lines is read
    as the engine reads it.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        return isinstance(json.loads(lines[0]), dict)
    except json.JSONDecodeError:
        return False


def _json_lines(text: str, truncated: bool) -> tuple[list[object], bool]:
    """Return the sampled records, and whether they are every line of the file."""
    lines = [line for line in text.splitlines() if line.strip()]
    if truncated and lines:
        lines = lines[:-1]
    records: list[object] = []
    for line in lines[:SAMPLE_ROWS]:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append(None)
    return records, not truncated and len(lines) <= SAMPLE_ROWS


def _preview_json(text: str, truncated: bool, path: Path) -> Preview:
    if truncated:
        return Preview(
            error=f"{path.name} is a JSON array larger than "
            f"{SAMPLE_BYTES // 1024} KiB; the preview reads JSON lines files "
            "in part, but not arrays. The server reads it whole."
        )
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        return Preview(
            error=f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}."
        )
    if isinstance(records, dict) and records:
        records = _records_of(records)
    if not isinstance(records, list):
        return Preview(
            error=f"{path.name} must contain an array of records, not a single value."
        )
    whole_file = len(records) <= SAMPLE_ROWS
    return _preview_records(records[:SAMPLE_ROWS], "JSON", path, whole_file)


def _records_of(document: dict[str, object]) -> list[object]:
    """Return the records of a JSON object: one record, or one per row of columns.

    An object whose values are all arrays is a table by column, as pandas
    writes it with `orient="list"`. Any other object is a single record.
    """
    columns = list(document.values())
    if not all(isinstance(column, list) for column in columns):
        return [document]
    rows = max(len(column) for column in columns if isinstance(column, list))
    return [
        {
            name: column[index]
            for name, column in document.items()
            if isinstance(column, list) and index < len(column)
        }
        for index in range(rows)
    ]


def _preview_records(
    records: list[object], file_format: str, path: Path, whole_file: bool
) -> Preview:
    if not records:
        return Preview(error=f"{path.name} has no records.")
    if not all(isinstance(record, dict) for record in records):
        return Preview(error=f"{path.name} must contain JSON objects, one per record.")

    header: list[str] = []
    for record in records:
        assert isinstance(record, dict)
        header.extend(str(key) for key in record if str(key) not in header)
    rows = [
        {str(key): _cell(value) for key, value in record.items()}
        for record in records
        if isinstance(record, dict)
    ]
    return _build(header, rows, file_format, whole_file)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _build(
    header: list[str],
    records: list[dict[str, str]],
    file_format: str,
    whole_file: bool,
) -> Preview:
    columns = [
        _column(name, [record.get(name, "") for record in records]) for name in header
    ]
    rows = [
        [record.get(name, "") for name in header] for record in records[:PREVIEW_ROWS]
    ]
    return Preview(
        columns=columns,
        rows=rows,
        sampled_rows=len(records),
        whole_file=whole_file,
        file_format=file_format,
    )


def _column(name: str, values: list[str]) -> Column:
    present = [
        value.strip() for value in values if value.strip().lower() not in MISSING_WORDS
    ]
    return Column(
        name=name,
        type=guess_type(present),
        distinct=len(set(present)),
        missing=len(values) - len(present),
    )


def guess_type(values: list[str]) -> str:
    """Guess the API type name of a column from its non-missing text values."""
    if not values:
        return STR
    lowered = {value.lower() for value in values}
    if lowered <= TRUE_WORDS:
        return BOOL
    if all(_is_int(value) for value in values):
        return INT
    if all(_is_float(value) for value in values):
        return FLOAT
    return STR


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
