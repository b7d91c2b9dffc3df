"""Predicting every row of a CSV file into a new CSV file beside it.

Rows go to the batch endpoint in chunks. A server without that endpoint (404
or 405) gets one `/infer` call per row instead, a few at a time. A row whose
values do not fit the input schema, or that the server rejects with a 400 or
422, gets its message in the output's error column instead of a prediction,
and the other rows go on. Any other failure ends the run; the rows written
so far stay in the output file.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from plexe_tui.api import ApiError, PlexeClient
from plexe_tui.api.errors import InvalidRequestError
from plexe_tui.ui.batch_output import choose_output_folder, default_fallbacks
from plexe_tui.ui.inference import Feature, request_body
from plexe_tui.ui.preview import detect_delimiter
from plexe_tui.ui.server_features import MISSING_ROUTE_CODES, ServerFeatures

log = logging.getLogger(__name__)

# Rows per batch request. The local engine takes at most 10,000 per call;
# smaller requests keep the progress bar moving. The first request is smaller
# still, so the first progress and the endpoint check come quickly.
CHUNK_ROWS = 500
FIRST_CHUNK_ROWS = 50
# Rows per step when each row is its own /infer call, and how many of those
# calls are in flight at once.
FALLBACK_CHUNK_ROWS = 20
FALLBACK_CONCURRENCY = 4
# A request that fails with a server or network error is tried this many
# times in all, waiting RETRY_SECONDS, doubled per retry, or the server's
# Retry-After up to MAX_RETRY_WAIT seconds.
MAX_ATTEMPTS = 3
RETRY_SECONDS = 1.0
MAX_RETRY_WAIT = 30.0
# Output names tried before giving up: name.predictions.csv, then -2, -3, ...
MAX_OUTPUT_NAMES = 1000
ENCODINGS = ("utf-8-sig", "latin-1")
ERROR_COLUMN = "error"
PREFIX = "predicted_"
"""Put before an output column whose name the input file already uses."""

T = TypeVar("T")


class BatchError(Exception):
    """A batch prediction cannot start or go on; the message is for the user."""


@dataclass
class BatchProgress:
    """How far a batch prediction has got."""

    total: int = 0
    """Data rows in the input file."""
    done: int = 0
    """Rows written to the output, with a prediction or an error."""
    failed: int = 0
    """Rows written with an error instead of a prediction."""
    output: Path | None = None
    """The output file, once created."""
    output_reason: str | None = None
    """A sentence on why the output is not beside the input, when it is not."""
    one_per_row: bool = False
    """Whether rows go to `/infer` one by one because the server has no batch route."""


@dataclass
class CsvSource:
    """An input file checked for a batch prediction."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    rows: int
    columns: dict[str, int] = field(default_factory=dict)
    """Feature name → index of its column in the file."""


def inspect_csv(path: Path, features: list[Feature]) -> CsvSource:
    """Read the file once to find its encoding, delimiter, columns and row count.

    Raises BatchError when the file cannot be read, has no rows, or lacks a
    column for a feature.
    """
    if path.suffix.lower() in (".json", ".jsonl", ".ndjson", ".parquet"):
        raise BatchError(
            f"{path.name} is not a CSV file. Batch prediction reads CSV or TSV "
            "files with a header row; save the data as CSV first."
        )
    for encoding in ENCODINGS:
        try:
            header, delimiter, rows = _count_rows(path, encoding)
        except UnicodeDecodeError:
            continue
        except OSError as exc:
            raise BatchError(f"Cannot read {path}: {exc.strerror}.") from exc
        except csv.Error as exc:
            raise BatchError(f"{path.name} is not valid CSV: {exc}.") from exc
        break
    else:  # pragma: no cover - Latin-1 decodes every byte
        raise BatchError(f"Cannot decode {path.name} as UTF-8 or Latin-1.")

    if not header:
        raise BatchError(f"{path.name} is empty: it has no header row.")
    if rows == 0:
        raise BatchError(f"{path.name} has a header but no data rows.")
    columns = {}
    for feature in features:
        if feature.name in header:
            columns[feature.name] = header.index(feature.name)
    missing = [feature.name for feature in features if feature.name not in columns]
    if missing:
        raise BatchError(
            f"{path.name} has no column for {_listed(missing)}. The model needs "
            f"every feature of its input schema: {_listed([f.name for f in features])}."
        )
    return CsvSource(path, encoding, delimiter, header, rows, columns)


def _count_rows(path: Path, encoding: str) -> tuple[list[str], str, int]:
    with path.open(encoding=encoding, newline="") as handle:
        first_line = handle.readline()
        delimiter = detect_delimiter(first_line)
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, [])
        rows = sum(1 for row in reader if row)
    return header, delimiter, rows


class ChunkReader:
    """The data rows of a CsvSource, handed out in chunks; blank lines are skipped."""

    def __init__(self, source: CsvSource) -> None:
        self._handle = source.path.open(encoding=source.encoding, newline="")
        self._reader = csv.reader(self._handle, delimiter=source.delimiter)
        next(self._reader, None)

    def next_chunk(self, size: int) -> list[list[str]]:
        """Return up to `size` rows; an empty list at the end of the file."""
        chunk: list[list[str]] = []
        for row in self._reader:
            if row:
                chunk.append(row)
            if len(chunk) >= size:
                break
        return chunk

    def close(self) -> None:
        """Close the input file."""
        self._handle.close()


def open_output(source: Path, folder: Path | None = None) -> tuple[Path, IO[str]]:
    """Create a new file for the predictions of `source`; never overwrite one.

    The file goes into `folder`, by default the folder of `source`. Tries
    `name.predictions.csv`, then `name.predictions-2.csv` and so on.
    """
    folder = source.parent if folder is None else folder
    for number in range(1, MAX_OUTPUT_NAMES + 1):
        suffix = ".predictions" if number == 1 else f".predictions-{number}"
        candidate = folder / f"{source.stem}{suffix}.csv"
        try:
            return candidate, candidate.open("x", encoding="utf-8", newline="")
        except FileExistsError:
            continue
        except OSError as exc:
            raise BatchError(
                f"Cannot create {candidate}: {exc.strerror}. Move the input file "
                "to a folder you can write to."
            ) from exc
    raise BatchError(
        f"{folder} already has {MAX_OUTPUT_NAMES} prediction files for "
        f"{source.name}; move some of them away."
    )


@dataclass
class Prediction:
    """The outcome of one row: the server's output, or why there is none."""

    output: Any = None
    error: str | None = None


class BatchPredictor:
    """Predicts the rows of one CSV file with one model and writes them out."""

    def __init__(
        self,
        client: PlexeClient,
        model_name: str,
        model_version: str,
        features: list[Feature],
        server_features: ServerFeatures,
        *,
        output_keys: list[str] | None = None,
        on_progress: Callable[[BatchProgress], None] | None = None,
        fallback_folders: Sequence[Path] | None = None,
    ) -> None:
        """`output_keys` name the output columns when no row gets a prediction.

        `fallback_folders` take the output when the input's folder cannot
        (see `batch_output`); None means the current directory, then the
        app's data folder.
        """
        self.client = client
        self.model_name = model_name
        self.model_version = model_version
        self.features = features
        self.server_features = server_features
        self.output_keys = output_keys or []
        self.on_progress = on_progress
        self.fallback_folders = fallback_folders
        self.progress = BatchProgress()
        self._writer: Any = None
        self._columns: list[str] = []

    async def run(self, path: Path) -> BatchProgress:
        """Predict every row of `path`; return the final progress.

        Raises BatchError or ApiError when the run cannot go on, and
        CancelledError when cancelled. The output file keeps the rows written
        before either.
        """
        source = await asyncio.to_thread(inspect_csv, path, self.features)
        self.progress.total = source.rows
        self.progress.one_per_row = self.server_features.batch_predictions is False
        self._report()

        # Chunks are read and written on the event loop. A chunk takes
        # milliseconds, and this way no thread can touch a file after a
        # cancel closed it.
        reader = ChunkReader(source)
        output: IO[str] | None = None
        try:
            size = FIRST_CHUNK_ROWS
            while chunk := reader.next_chunk(size):
                predictions = await self._predict_chunk(source, chunk)
                if output is None:
                    output = self._open_output(source, predictions)
                self._write_rows(output, chunk, predictions)
                self._report()
                size = FALLBACK_CHUNK_ROWS if self.progress.one_per_row else CHUNK_ROWS
        finally:
            reader.close()
            if output is not None:
                output.close()
        return self.progress

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress)

    async def _predict_chunk(
        self, source: CsvSource, chunk: list[list[str]]
    ) -> list[Prediction]:
        """Check each row's values, predict the valid rows, and keep the order."""
        results: list[Prediction] = []
        bodies: list[dict[str, Any]] = []
        for cells in chunk:
            values = {
                name: cells[index] if index < len(cells) else ""
                for name, index in source.columns.items()
            }
            try:
                bodies.append(request_body(values, self.features))
                results.append(Prediction())
            except ValueError as exc:
                results.append(Prediction(error=str(exc)))

        predicted = iter(await self._predict(bodies))
        return [result if result.error else next(predicted) for result in results]

    async def _predict(self, bodies: list[dict[str, Any]]) -> list[Prediction]:
        if not bodies:
            return []
        if self.server_features.batch_predictions is not False:
            try:
                outputs = await _with_retries(
                    lambda: self.client.predict_batch(
                        self.model_name, self.model_version, bodies
                    )
                )
            except InvalidRequestError as exc:
                # One invalid row rejects the whole request, so the rows go
                # one by one and only the rejected ones get the error.
                log.info("Batch request rejected (%s); predicting row by row", exc)
            except ApiError as exc:
                if exc.status_code not in MISSING_ROUTE_CODES:
                    raise
                return await self._predict_without_batch_route(bodies, exc)
            else:
                self.server_features.batch_predictions = True
                return [Prediction(output=output) for output in outputs]
        return await self._predict_rows(bodies)

    async def _predict_without_batch_route(
        self, bodies: list[dict[str, Any]], exc: ApiError
    ) -> list[Prediction]:
        """Predict row by row after the batch route returned 404 or 405.

        A 404 may also mean that the model is gone. Then `/infer` fails too, and
        that error ends the run without recording that the route is missing.
        """
        log.info("No batch endpoint (%s); predicting row by row", exc.message)
        predictions = await self._predict_rows(bodies)
        self.server_features.batch_predictions = False
        self.progress.one_per_row = True
        return predictions

    async def _predict_rows(self, bodies: list[dict[str, Any]]) -> list[Prediction]:
        """Send each row to `/infer`, FALLBACK_CONCURRENCY calls at a time."""
        limit = asyncio.Semaphore(FALLBACK_CONCURRENCY)
        results = [Prediction() for _ in bodies]

        async def predict(index: int, body: dict[str, Any]) -> None:
            async with limit:
                try:
                    output = await _with_retries(
                        lambda: self.client.infer(
                            self.model_name, self.model_version, body
                        )
                    )
                except InvalidRequestError as exc:
                    results[index] = Prediction(error=exc.message)
                else:
                    results[index] = Prediction(output=output)

        try:
            async with asyncio.TaskGroup() as group:
                for index, body in enumerate(bodies):
                    group.create_task(predict(index, body))
        except ExceptionGroup as failures:
            # The first failure cancelled the other calls, so it alone explains
            # why the run ends. (A raise inside `except*` would be wrapped in a
            # group again, so the group is unpacked here.)
            first = failures.exceptions[0]
            if isinstance(first, ApiError):
                raise first from None
            raise
        return results

    def _open_output(self, source: CsvSource, predictions: list[Prediction]) -> IO[str]:
        """Create the output file and write its header, named after the outputs."""
        keys: list[str] = []
        for prediction in predictions:
            if prediction.error is None:
                for key in _as_record(prediction.output):
                    if key not in keys:
                        keys.append(key)
        keys = keys or self.output_keys or ["prediction"]
        self._columns = keys

        fallbacks = self.fallback_folders
        if fallbacks is None:
            fallbacks = default_fallbacks()
        folder = choose_output_folder(source.path, fallbacks)
        path, handle = open_output(source.path, folder.path)
        self.progress.output = path
        self.progress.output_reason = folder.reason
        self._writer = csv.writer(handle, delimiter=source.delimiter)
        used_names = set(source.header)
        header = [*source.header]
        for name in [*keys, ERROR_COLUMN]:
            while name in used_names:
                name = PREFIX + name
            used_names.add(name)
            header.append(name)
        self._writer.writerow(header)
        log.info("Writing predictions of %s to %s", source.path, path)
        return handle

    def _write_rows(
        self, output: IO[str], chunk: list[list[str]], predictions: list[Prediction]
    ) -> None:
        for cells, prediction in zip(chunk, predictions, strict=True):
            record = _as_record(prediction.output)
            # NOTE: output keys that the first chunk lacked are not written,
            # because a model sends the same keys for every row.
            values = [_cell(record.get(key)) for key in self._columns]
            self._writer.writerow([*cells, *values, prediction.error or ""])
            self.progress.done += 1
            if prediction.error:
                self.progress.failed += 1
        output.flush()


def _as_record(output: Any) -> dict[str, Any]:
    if output is None:
        return {}
    return output if isinstance(output, dict) else {"prediction": output}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


async def _with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Await `call()`, trying again after a server or network error."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call()
        except ApiError as exc:
            if not exc.retryable or attempt == MAX_ATTEMPTS:
                raise
            wait = exc.retry_after or RETRY_SECONDS * 2 ** (attempt - 1)
            log.warning("Retrying in %.1f s after: %s", wait, exc.message)
            await asyncio.sleep(min(wait, MAX_RETRY_WAIT))
    raise AssertionError("unreachable")  # pragma: no cover


def _listed(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)
