"""Reading Parquet files with pyarrow, which the optional ``parquet`` extra installs.

Columns are read selectively and a sample comes from the first row batches, so
planning never reads a whole large file.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from plexe_tui.engine.errors import InvalidRequest, first_line, invalid_data

# PyArrow 0.14.0 to 14.0.0 can run code embedded in a Parquet file
# (CVE-2023-47248); 14.0.1 fixed it.
MIN_PYARROW_VERSION = (14, 0, 1)
INSTALL_HINT = "pip install 'plexe-tui[parquet]'"


class ParquetReader:
    """A Parquet file opened with pyarrow."""

    def __init__(self, path: Path, display_name: str) -> None:
        self.path = path
        self.display_name = display_name
        parquet = _import_parquet()
        try:
            self._file = parquet.ParquetFile(path)
        except (OSError, ValueError) as error:
            raise invalid_data(
                display_name, f"it is not valid Parquet ({first_line(error)})"
            ) from error

    def header(self) -> list[str]:
        """Return the column names of the file's schema, stripped."""
        return [str(name).strip() for name in self._file.schema_arrow.names]

    def read(self, columns: Sequence[str] | None, max_rows: int | None) -> pd.DataFrame:
        """Read the named columns (all when None), at most ``max_rows`` rows."""
        names = self._file.schema_arrow.names
        selected = None
        if columns is not None:
            raw_name = {str(name).strip(): name for name in names}
            selected = [raw_name[name] for name in columns]
        try:
            if max_rows is None:
                table = self._file.read(columns=selected)
            else:
                table = self._first_rows(selected, max_rows)
        except (OSError, ValueError) as error:
            raise invalid_data(
                self.display_name, f"it is not valid Parquet ({first_line(error)})"
            ) from error
        frame: pd.DataFrame = table.to_pandas()
        frame.columns = [str(name).strip() for name in frame.columns]
        return frame

    def read_column(self, name: str) -> pd.Series:
        """Read one column of every row."""
        column: pd.Series = self.read([name], None)[name]
        return column

    def count_rows(self) -> int:
        """Return the row count stored in the file's metadata."""
        return int(self._file.metadata.num_rows)

    def _first_rows(self, columns: list[str] | None, max_rows: int) -> Any:
        import pyarrow  # type: ignore[import-untyped, import-not-found, unused-ignore]

        batches = self._file.iter_batches(batch_size=max_rows, columns=columns)
        first = next(batches, None)
        if first is None:
            return self._file.schema_arrow.empty_table()
        return pyarrow.Table.from_batches([first])


def _import_parquet() -> Any:
    try:
        import pyarrow  # type: ignore[import-untyped, import-not-found, unused-ignore]
        import pyarrow.parquet  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        raise InvalidRequest(
            "parquet_not_available",
            "Reading Parquet files needs pyarrow, which is not installed. Install "
            f"it with {INSTALL_HINT}, or upload the data as CSV.",
            field="upload_id",
        ) from None
    if _version_tuple(pyarrow.__version__) < MIN_PYARROW_VERSION:
        raise InvalidRequest(
            "parquet_not_available",
            f"pyarrow {pyarrow.__version__} is installed, but reading Parquet safely "
            "needs pyarrow 14.0.1 or newer. Upgrade it with "
            f"pip install -U pyarrow, or upload the data as CSV.",
            field="upload_id",
        )
    return pyarrow.parquet


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split(".")[:3]:
        digits = "".join(character for character in part if character.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)
