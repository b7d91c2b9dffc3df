"""Reading JSON files: an array of records, an object of columns, or JSON lines.

A file is JSON lines when its first line is a whole JSON object and another
non-empty line follows. JSON lines are read line by line in chunks, so reading a
few columns of a large file keeps only those columns in memory. Other JSON documents are
parsed whole.
"""

import itertools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from plexe_tui.engine.errors import first_line, invalid_data

CHUNK_ROWS = 50_000


class JsonReader:
    """A JSON or JSON lines file."""

    def __init__(self, path: Path, display_name: str) -> None:
        self.path = path
        self.display_name = display_name
        self.is_lines = _looks_like_json_lines(path)
        self._document: list[dict[str, Any]] | None = None

    def header(self) -> list[str]:
        """Return the keys of the records, in order of first appearance.

        Raises InvalidRequest naming keys that appear twice in one record.
        """
        if self.is_lines:
            records = list(itertools.islice(self._line_records(check_keys=True), 1000))
        else:
            records = self._records()
        names: dict[str, None] = {}
        for record in records:
            names.update(dict.fromkeys(record))
        return list(names)

    def read(self, columns: Sequence[str] | None, max_rows: int | None) -> pd.DataFrame:
        """Read the named keys (all when None) of at most ``max_rows`` records."""
        if self.is_lines:
            records: Iterator[dict[str, Any]] = self._line_records(check_keys=False)
        else:
            records = iter(self._records())
        if max_rows is not None:
            records = itertools.islice(records, max_rows)
        chunks = []
        while chunk := list(itertools.islice(records, CHUNK_ROWS)):
            chunks.append(_frame(chunk, columns))
        if not chunks:
            return pd.DataFrame(columns=list(columns or []))
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)

    def read_column(self, name: str) -> pd.Series:
        """Read one column of every row."""
        column: pd.Series = self.read([name], None)[name]
        return column

    def count_rows(self) -> int:
        """Count the records, without parsing JSON lines."""
        if not self.is_lines:
            return len(self._records())
        with self.path.open("rb") as file:
            return sum(1 for line in file if line.strip())

    def _records(self) -> list[dict[str, Any]]:
        if self._document is None:
            self._document = self._parse_document()
        return self._document

    def _parse_document(self) -> list[dict[str, Any]]:
        # NOTE: a JSON document is parsed whole into Python objects, which take
        # several times the file's size in memory. Large data belongs in CSV,
        # JSON lines or Parquet.
        text = self.path.read_text(encoding="utf-8-sig", errors="replace")
        try:
            document = json.loads(text, object_pairs_hook=self._checked_object)
        except json.JSONDecodeError as error:
            raise invalid_data(
                self.display_name, f"it is not valid JSON ({error})"
            ) from error
        if isinstance(document, dict) and all(
            isinstance(value, list) for value in document.values()
        ):
            return _columns_to_records(document, self.display_name)
        if isinstance(document, dict):
            document = [document]
        if not isinstance(document, list):
            raise invalid_data(
                self.display_name, "JSON data must be an array of objects, one per row"
            )
        for index, record in enumerate(document):
            self._check_record(record, index + 1, "row")
        return document

    def _line_records(self, check_keys: bool) -> Iterator[dict[str, Any]]:
        hook = self._checked_object if check_keys else None
        with self.path.open(encoding="utf-8-sig", errors="replace") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line, object_pairs_hook=hook)
                except json.JSONDecodeError as error:
                    raise invalid_data(
                        self.display_name,
                        f"line {number} is not valid JSON ({error.msg})",
                    ) from error
                self._check_record(record, number, "line")
                yield record

    def _check_record(self, record: Any, number: int, unit: str) -> None:
        if not isinstance(record, dict):
            raise invalid_data(
                self.display_name,
                f"{unit} {number} is a {type(record).__name__}, not a JSON object",
            )

    def _checked_object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name.strip() for name, _ in pairs]
        if len(set(names)) < len(names):
            repeated = sorted({name for name in names if names.count(name) > 1})
            raise invalid_data(
                self.display_name,
                f"the column names {repeated} appear more than once. Rename the "
                "repeated keys so that every column has its own name",
            )
        return dict(pairs)


def _looks_like_json_lines(path: Path) -> bool:
    with path.open(encoding="utf-8-sig", errors="replace") as file:
        first = file.readline()
        second = next((line for line in file if line.strip()), "")
    if not second:
        return False
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


def _frame(records: list[dict[str, Any]], columns: Sequence[str] | None) -> Any:
    if columns is None:
        return pd.DataFrame.from_records(records)
    return pd.DataFrame.from_records(
        [{name: record.get(name) for name in columns} for record in records],
        columns=list(columns),
    )


def _columns_to_records(
    document: dict[str, list[Any]], display_name: str
) -> list[dict[str, Any]]:
    try:
        table = pd.DataFrame(document)
    except ValueError as error:
        reason = first_line(error)
        raise invalid_data(display_name, f"its columns differ ({reason})") from error
    records: list[dict[str, Any]] = table.to_dict(orient="records")
    return records
