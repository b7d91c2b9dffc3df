"""Downloading a dataset from an http(s) URL into a new upload.

A build request may give a public URL of a CSV or JSON file instead of an
upload_id. The file is streamed into a new upload of the engine's own data
folder, with a size limit and an overall timeout, so that the build then reads it
like any uploaded file. A failed download leaves no upload behind.
"""

import logging
import os
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from plexe_tui.engine.data import table_shape
from plexe_tui.engine.errors import InvalidRequest, PayloadTooLarge, size_text
from plexe_tui.engine.records import UploadRecord
from plexe_tui.engine.storage import Storage

logger = logging.getLogger(__name__)

URL_SCHEMES = ("http://", "https://")
_DEFAULT_FILENAME = "dataset"


def is_dataset_url(value: str) -> bool:
    """Return whether an upload_id value is an http or https URL."""
    return value.lower().startswith(URL_SCHEMES)


def download_upload(
    storage: Storage, url: str, max_bytes: int, timeout: float
) -> UploadRecord:
    """Download ``url`` into a new complete upload and return its record.

    Raises InvalidRequest when the download fails or times out, or the file is
    not a table, and PayloadTooLarge when it has more than ``max_bytes`` bytes.
    """
    record = storage.create_upload(_filename(url), "application/octet-stream")
    try:
        target = storage.upload_file(record)
        size, content_type = _download(url, target, max_bytes, timeout)
        rows, columns = table_shape(target, record.original_filename)
    except BaseException:
        storage.delete_upload(record.upload_id)
        raise
    record.content_type = content_type or record.content_type
    record.size_bytes = size
    record.rows = rows
    record.columns = columns
    record.status = "complete"
    storage.write_upload(record)
    logger.info("downloaded %s (%d bytes) as upload %s", url, size, record.upload_id)
    return record


def _filename(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name or _DEFAULT_FILENAME


def _download(
    url: str, target: Path, max_bytes: int, timeout: float
) -> tuple[int, str | None]:
    """Stream ``url`` to ``target``; return the size and the content type."""
    deadline = time.monotonic() + timeout
    partial = target.with_name(f".{target.name}.part")
    try:
        with httpx.stream(
            "GET", url, timeout=timeout, follow_redirects=True
        ) as response:
            _check_response(response, url, max_bytes)
            size = _write_body(response, partial, url, max_bytes, deadline, timeout)
            content_type = response.headers.get("content-type")
        os.replace(partial, target)
    except httpx.TimeoutException:
        raise _timed_out(url, timeout) from None
    except httpx.HTTPError as error:
        raise _failed(url, f"the request failed ({error})") from None
    finally:
        partial.unlink(missing_ok=True)
    return size, content_type


def _check_response(response: httpx.Response, url: str, max_bytes: int) -> None:
    if response.status_code >= 400:
        reason = f"{response.status_code} {response.reason_phrase}".strip()
        raise _failed(url, f"the server responded {reason}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(url, max_bytes)


def _write_body(
    response: httpx.Response,
    partial: Path,
    url: str,
    max_bytes: int,
    deadline: float,
    timeout: float,
) -> int:
    size = 0
    with partial.open("wb") as file:
        # Without a chunk size, chunks come as they arrive, so the deadline is
        # checked even while a server sends slowly.
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(url, max_bytes)
            if time.monotonic() > deadline:
                raise _timed_out(url, timeout)
            file.write(chunk)
    return size


def _failed(url: str, problem: str) -> InvalidRequest:
    return InvalidRequest(
        "dataset_download_failed",
        f"Could not download the dataset from {url}: {problem}. Check the URL, or "
        "download the file yourself and upload it with POST /uploads.",
        field="upload_id",
    )


def _timed_out(url: str, timeout: float) -> InvalidRequest:
    return InvalidRequest(
        "dataset_download_timed_out",
        f"Downloading the dataset from {url} timed out after {timeout:g} s. "
        "Download the file yourself and upload it with POST /uploads.",
        field="upload_id",
    )


def _too_large(url: str, max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "dataset_too_large",
        f"The dataset at {url} is larger than the engine's download limit of "
        f"{size_text(max_bytes)}. Upload a smaller sample of the data.",
        field="upload_id",
    )
