"""Loading an uploaded CSV, JSON or Parquet file into a pandas DataFrame.

The format comes from the file name's suffix, else from the first bytes: ``PAR1``
starts a Parquet file, ``[`` or ``{`` a JSON one, and anything else is read as CSV.
Every reader can read a few columns or the first rows only, so that planning a
build never keeps a whole large file in memory. Duplicate column names are
rejected before any data is read. Any failure becomes an InvalidRequest whose
message names the file and the problem.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from plexe_tui.engine.csv_reader import SNIFF_BYTES, CsvReader
from plexe_tui.engine.errors import invalid_data
from plexe_tui.engine.json_reader import JsonReader
from plexe_tui.engine.parquet_reader import ParquetReader

_JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
_CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_PARQUET_MAGIC = b"PAR1"


class TableReader(Protocol):
    """The methods the engine calls on a reader of one file format."""

    def header(self) -> list[str]:
        """Return the column names, stripped, as the file lists them."""
        ...

    def read(self, columns: Sequence[str] | None, max_rows: int | None) -> pd.DataFrame:
        """Read the named columns (all when None), at most ``max_rows`` rows."""
        ...

    def read_column(self, name: str) -> pd.Series:
        """Read one column of every row."""
        ...

    def count_rows(self) -> int:
        """Return the number of data rows."""
        ...


@dataclass(frozen=True)
class Sample:
    """The first rows of a file, and whether they are all of its rows."""

    table: pd.DataFrame
    complete: bool


def load_table(
    path: Path, display_name: str, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read a file into a DataFrame with at least one row and column.

    ``display_name`` is the name the user knows the file by, used in messages.
    ``columns`` limits the read to those columns, in the file's order.
    """
    reader, header = _open(path, display_name)
    _check_columns_exist(columns, header, display_name)
    return _checked(reader.read(columns, None), display_name)


def load_column(path: Path, display_name: str, name: str) -> pd.Series:
    """Read one column of every row of a file, holding little else in memory."""
    reader, header = _open(path, display_name)
    _check_columns_exist([name], header, display_name)
    return reader.read_column(name)


def load_sample(path: Path, display_name: str, max_rows: int) -> Sample:
    """Read the first ``max_rows`` rows of a file, with every column."""
    reader, _ = _open(path, display_name)
    table = _checked(reader.read(None, max_rows + 1), display_name)
    if len(table) <= max_rows:
        return Sample(table, complete=True)
    return Sample(table.iloc[:max_rows].copy(), complete=False)


def table_shape(path: Path, display_name: str) -> tuple[int, list[str]]:
    """Return a file's number of data rows and its column names.

    CSV and JSON lines files are counted in chunks, so memory stays small.
    """
    reader, header = _open(path, display_name)
    rows = reader.count_rows()
    if rows == 0:
        raise invalid_data(display_name, "the file has no data rows")
    return rows, header


def _open(path: Path, display_name: str) -> tuple[TableReader, list[str]]:
    try:
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise invalid_data(
            display_name, "its content is missing; upload it again"
        ) from None
    if not head.strip():
        raise invalid_data(display_name, "the file is empty")

    reader = _reader_for(path, display_name, head)
    header = reader.header()
    if not header:
        raise invalid_data(display_name, "the file has no columns")
    _check_unique(header, display_name)
    return reader, header


def _reader_for(path: Path, display_name: str, head: bytes) -> TableReader:
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES or head.startswith(_PARQUET_MAGIC):
        return ParquetReader(path, display_name)
    if suffix in _JSON_SUFFIXES:
        return JsonReader(path, display_name)
    if suffix in _CSV_SUFFIXES:
        return CsvReader(path, display_name, head)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return JsonReader(path, display_name)
    return CsvReader(path, display_name, head)


def _check_unique(header: list[str], display_name: str) -> None:
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise invalid_data(
            display_name,
            f"the column names {repeated} appear more than once. Rename the repeated "
            "columns so that every column has its own name",
        )


def _check_columns_exist(
    columns: Sequence[str] | None, header: list[str], display_name: str
) -> None:
    missing = [name for name in columns or [] if name not in header]
    if missing:
        raise invalid_data(
            display_name,
            f"the columns {missing} are no longer in the file. Upload the data "
            "again and start a new build",
        )


def _checked(table: pd.DataFrame, display_name: str) -> pd.DataFrame:
    if table.empty or len(table.columns) == 0:
        raise invalid_data(display_name, "the file has no data rows")
    table.columns = [str(column).strip() for column in table.columns]
    return table
