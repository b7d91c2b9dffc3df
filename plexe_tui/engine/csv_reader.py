"""Reading CSV files: the encoding and delimiter are detected from the first 64 KiB.

The encoding is UTF-16 or UTF-32 when the file starts with their byte order mark
(spreadsheets export "Unicode text" that way). Otherwise it is UTF-8 (a byte order
mark is skipped) unless the first 64 KiB are not valid UTF-8, in which case it is
Latin-1. A file that turns out not to be UTF-8 further in is read again as
Latin-1, because Latin-1 can decode any byte. A file of neither kind with NUL
bytes in its first 64 KiB is rejected as binary. The delimiter is the one of
comma, semicolon, tab and pipe that ``csv.Sniffer`` finds in those bytes.
"""

import codecs
import csv
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from plexe_tui.engine.errors import first_line, invalid_data

SNIFF_BYTES = 64 * 1024
# Rows per chunk when counting rows or reading one column. pandas' tokenizer
# stores every field of a chunk, so smaller chunks need less memory.
CHUNK_ROWS = 20_000
_DELIMITERS = ",;\t|"
# Missing-value markers read on top of pandas' defaults ("?" is common in public
# datasets).
_EXTRA_NA_VALUES = ["?"]
_UTF8 = "utf-8-sig"
_LATIN1 = "latin-1"
# UTF-32's little-endian mark starts with UTF-16's, so it is checked first.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class CsvReader:
    """A CSV file with its detected encoding and delimiter."""

    def __init__(self, path: Path, display_name: str, head: bytes) -> None:
        self.path = path
        self.display_name = display_name
        self.encoding = detect_encoding(head)
        if self.encoding in (_UTF8, _LATIN1) and b"\x00" in head:
            raise invalid_data(
                display_name,
                "it contains NUL bytes, so it is a binary file or text in an "
                "encoding other than UTF-8, UTF-16 with a byte order mark or "
                "Latin-1. Save it as a UTF-8 CSV file",
            )
        self.delimiter = detect_delimiter(head.decode(self.encoding, errors="replace"))

    def header(self) -> list[str]:
        """Return the column names as written in the first line, stripped.

        A column without a name gets pandas' name for it, ``Unnamed: <index>``.
        """
        first_row = self._read(header=None, nrows=1, dtype=str, keep_default_na=False)
        written = [str(value).strip() for value in first_row.iloc[0].tolist()]
        pandas_names = [str(name).strip() for name in self._read(nrows=0).columns]
        return [
            name or pandas_name
            for name, pandas_name in zip(written, pandas_names, strict=False)
        ]

    def read(self, columns: Sequence[str] | None, max_rows: int | None) -> pd.DataFrame:
        """Read the named columns (all when None), at most ``max_rows`` rows."""
        names = self.header()
        positions = None
        if columns is not None:
            position_of = {name: index for index, name in enumerate(names)}
            positions = sorted(position_of[name] for name in columns)
        table = self._read(usecols=positions, nrows=max_rows)
        table.columns = [names[i] for i in positions] if positions else names
        return table

    def read_column(self, name: str) -> pd.Series:
        """Read one column of every row, in chunks."""
        position = self.header().index(name)

        def join(chunks: Iterator[pd.DataFrame]) -> pd.Series:
            return pd.concat([chunk.iloc[:, 0] for chunk in chunks], ignore_index=True)

        column: pd.Series = self._read(
            usecols=[position], chunksize=CHUNK_ROWS, consume=join
        )
        column.name = name
        return column

    def count_rows(self) -> int:
        """Count the data rows by reading the first column in chunks."""

        def count(chunks: Iterator[pd.DataFrame]) -> int:
            return sum(len(chunk) for chunk in chunks)

        rows: int = self._read(
            usecols=[0], dtype=str, chunksize=CHUNK_ROWS, consume=count
        )
        return rows

    def _read(self, consume: Callable[[Any], Any] | None = None, **options: Any) -> Any:
        """Return ``consume`` applied to ``pd.read_csv``'s result, or that result.

        With ``chunksize``, pandas reads lazily and raises while ``consume``
        iterates, so the errors are converted around it too.
        """
        try:
            return self._read_with(self.encoding, options, consume)
        except UnicodeDecodeError as error:
            if self.encoding != _UTF8:
                raise invalid_data(
                    self.display_name,
                    f"it is not valid {self.encoding} text ({first_line(error)})",
                ) from error
            self.encoding = _LATIN1
            return self._read_with(self.encoding, options, consume)

    def _read_with(
        self,
        encoding: str,
        options: dict[str, Any],
        consume: Callable[[Any], Any] | None,
    ) -> Any:
        try:
            result = pd.read_csv(
                self.path,
                sep=self.delimiter,
                encoding=encoding,
                na_values=_EXTRA_NA_VALUES,
                skipinitialspace=True,
                **options,
            )
            return consume(result) if consume is not None else result
        except UnicodeDecodeError:
            raise
        except (ValueError, pd.errors.ParserError) as error:
            try:
                ragged = self._ragged_row(encoding)
            except csv.Error:
                ragged = None
            reason = ragged or first_line(error)
            raise invalid_data(
                self.display_name, f"it is not valid CSV ({reason})"
            ) from error

    def _ragged_row(self, encoding: str) -> str | None:
        """Describe the first row with more fields than the header, if any.

        pandas reports such a row with a message about its internals when it
        reads some columns only, so the file is scanned again to name the line.
        """
        with self.path.open(encoding=encoding, errors="replace", newline="") as file:
            rows = csv.reader(file, delimiter=self.delimiter)
            header = next(rows, [])
            for row in rows:
                if len(row) > len(header):
                    return (
                        f"line {rows.line_num} has {len(row)} fields, but the "
                        f"header has {len(header)}"
                    )
        return None


def detect_encoding(head: bytes) -> str:
    """Return the encoding of a byte order mark, else UTF-8 or Latin-1.

    ``utf-8-sig`` is returned when ``head`` is valid UTF-8, else ``latin-1``.
    """
    for mark, encoding in _BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return encoding
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of a full sample is still UTF-8.
        cut_at_end = len(head) == SNIFF_BYTES and error.start >= len(head) - 3
        if not cut_at_end:
            return _LATIN1
    return _UTF8


def detect_delimiter(sample: str) -> str:
    """Return the delimiter that ``csv.Sniffer`` finds in ``sample``, else a comma."""
    lines = sample.splitlines()
    if len(sample) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS)
    except csv.Error:
        return ","
    return dialect.delimiter
