"""Async client for the Plexe Platform API and the local engine."""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from plexe_tui import __version__
from plexe_tui.api import errors
from plexe_tui.api.records import (
    LIST_PAGE_LIMIT,
    BuildRef,
    BuildRequest,
    BuildStatus,
    ModelPage,
    UploadInfo,
    infer_output,
    parse_model_page,
    parse_ref,
    parse_status,
    parse_upload,
    parse_uploads,
)

# Seconds. Builds are polled, so no single call needs to wait long. Uploads
# get a longer write timeout because a slow disk or link may stall a chunk.
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
UPLOAD_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
UPLOAD_CHUNK_BYTES = 1024 * 1024
# Confirming an upload may make the server read the whole file: the local
# engine parses every row of a CSV, at about 34 MiB/s on a loaded 2-core Xeon
# (tests/benchmarks/upload.py).
# The wait allowed grows with the file, assuming 5 MiB/s at least.
CONFIRM_BASE_SECONDS = 15.0
CONFIRM_BYTES_PER_SECOND = 5 * 1024 * 1024
# Seconds. A longer Retry-After (or "inf") is capped, so a wrong header cannot
# stop polling for good.
MAX_RETRY_AFTER = 3600.0

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes sent, total bytes) as an upload goes."""


class PlexeClient:
    """One connection pool to one server, local engine or hosted platform.

    The API key goes in `x-api-key` on every call except the upload PUT, which
    goes to a presigned URL that may belong to another host.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"user-agent": f"plexe-tui/{__version__}"}
        if api_key:
            headers["x-api-key"] = api_key
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )
        self._upload_http = httpx.AsyncClient(
            headers={"user-agent": f"plexe-tui/{__version__}"},
            timeout=UPLOAD_TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self._http.aclose()
        await self._upload_http.aclose()

    async def health(self) -> dict[str, Any]:
        """Return the server's health response."""
        body = await self._request("GET", "/health")
        return body if isinstance(body, dict) else {"status": body}

    async def upload_file(
        self,
        path: Path,
        *,
        content_type: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> str:
        """Upload a local file through the three-step flow; return its upload id."""
        content_type = content_type or _guess_content_type(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise errors.InvalidRequestError(
                f"Cannot read {path}: {exc.strerror}. Choose an existing file.",
                field="upload_id",
            ) from exc

        ticket = await self._request(
            "POST",
            "/uploads",
            json={"filename": path.name, "content_type": content_type},
        )
        upload_id, url, key = _read_ticket(ticket)

        await self._put_file(url, path, size, content_type, on_progress)

        await self._request(
            "POST",
            "/uploads/status",
            json={"upload_id": upload_id, "filename": path.name, "s3_key": key},
            timeout=confirm_timeout(size),
        )
        return upload_id

    async def list_uploads(self) -> list[UploadInfo]:
        """Return the uploads the server keeps for this key."""
        return parse_uploads(await self._request("GET", "/uploads"))

    async def get_upload(self, upload_id: str) -> UploadInfo | None:
        """Return one upload, or None when the server does not have it."""
        try:
            body = await self._request("GET", f"/uploads/{_segment(upload_id)}")
        except errors.NotFoundError:
            return None
        return parse_upload(body)

    async def start_build(self, model_name: str, request: BuildRequest) -> BuildRef:
        """Start a build; return the name and version the server assigned."""
        body = await self._request(
            "POST", f"/models/{_segment(model_name)}", json=request.to_body()
        )
        return parse_ref(body, model_name)

    async def get_status(self, model_name: str, version: str) -> BuildStatus:
        """Return one build's current status."""
        body = await self._request("GET", f"{_model_path(model_name, version)}/status")
        return parse_status(body, model_name, version)

    async def list_models(
        self,
        *,
        limit: int = LIST_PAGE_LIMIT,
        offset: int = 0,
        status: str | None = None,
    ) -> ModelPage:
        """Return one page of the server's model list (newest first on the engine)."""
        params: dict[str, Any] = {
            "limit": min(limit, LIST_PAGE_LIMIT),
            "offset": offset,
        }
        if status:
            params["status"] = status
        return parse_model_page(await self._request("GET", "/models", params=params))

    async def get_model(self, model_name: str, version: str) -> dict[str, Any]:
        """Return one model's record, with its schemas and metrics."""
        body = await self._request("GET", _model_path(model_name, version))
        return body if isinstance(body, dict) else {"model": body}

    async def describe(self, model_name: str, version: str) -> dict[str, Any]:
        """Return what a build tried and chose."""
        body = await self._request(
            "GET", f"{_model_path(model_name, version)}/describe"
        )
        return body if isinstance(body, dict) else {"description": body}

    async def infer(self, model_name: str, version: str, inputs: dict[str, Any]) -> Any:
        """Return one prediction for one row of inputs."""
        body = await self._request(
            "POST", f"{_model_path(model_name, version)}/infer", json=inputs
        )
        return infer_output(body)

    async def predict_batch(
        self, model_name: str, version: str, rows: list[dict[str, Any]]
    ) -> list[Any]:
        """Return one prediction per row, in order, from the batch endpoint.

        The endpoint is an extension of the local engine that the hosted
        platform may lack: a 404 or 405 for the route raises NotFoundError or
        ApiError with that status code, and callers fall back to `infer`.
        """
        body = await self._request(
            "POST", f"{_model_path(model_name, version)}/predictions", json=rows
        )
        if not isinstance(body, list) or len(body) != len(rows):
            count = len(body) if isinstance(body, list) else "no list"
            raise errors.ProtocolError(
                f"POST {_model_path(model_name, version)}/predictions returned "
                f"{count} predictions for {len(rows)} rows."
            )
        return [infer_output(item) for item in body]

    async def delete_model(self, model_name: str, version: str) -> dict[str, Any]:
        """Cancel a build that has not ended, or delete a finished model.

        An extension of the local engine: servers without it return 404 or 405.
        Returns the server's response, which names the new status or `deleted`.
        """
        body = await self._request("DELETE", _model_path(model_name, version))
        return body if isinstance(body, dict) else {"response": body}

    async def _put_file(
        self,
        url: str,
        path: Path,
        size: int,
        content_type: str,
        on_progress: ProgressCallback | None,
    ) -> None:
        """PUT the file's bytes, streamed in chunks, with no API key."""
        headers = {"content-type": content_type, "content-length": str(size)}
        content = _read_chunks(path, size, on_progress)
        try:
            response = await self._upload_http.put(
                url, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise errors.NetworkError(f"The upload of {path.name} timed out.") from exc
        except httpx.TransportError as exc:
            raise errors.NetworkError(
                f"The upload of {path.name} failed: {exc}. "
                "Check the connection and retry."
            ) from exc
        if response.status_code in (401, 403):
            # The PUT carries no API key, so a rejection here is about the
            # presigned URL (expired or signed for other headers), not the key.
            message, _ = errors.read_error_body(response.text)
            raise errors.ApiError(
                f"The storage server rejected the upload of {path.name} "
                f"({response.status_code}: {message}). The presigned URL may have "
                "expired; upload the file again.",
                status_code=response.status_code,
            )
        _raise_for_status(response)

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; return its JSON body or raise an ApiError."""
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise errors.NetworkError(
                f"{self.base_url} did not respond to {method} {path} in time."
            ) from exc
        except httpx.TransportError as exc:
            raise errors.NetworkError(
                f"Cannot reach {self.base_url}: {_reason(exc)}. Check that the "
                "server runs and that the URL is right (--base-url, PLEXE_BASE_URL "
                "or the profile's base_url in config.toml)."
            ) from exc

        _raise_for_status(response)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise errors.ProtocolError(
                f"{method} {path} returned {response.status_code} with a body that is "
                f"not JSON: {errors.one_line(response.text, 120)}"
            ) from exc


def confirm_timeout(size: int) -> httpx.Timeout:
    """Return the time allowed to confirm an upload of `size` bytes."""
    seconds = CONFIRM_BASE_SECONDS + size / CONFIRM_BYTES_PER_SECOND
    return httpx.Timeout(seconds, connect=DEFAULT_TIMEOUT.connect)


def _raise_for_status(response: httpx.Response) -> None:
    """Raise the ApiError that fits a 3xx, 4xx or 5xx response."""
    code = response.status_code
    if 300 <= code < 400:
        # Redirects are not followed, so the API key never reaches another host.
        location = response.headers.get("location", "").partition("?")[0]
        request = response.request
        raise errors.ProtocolError(
            f"The server redirected {request.method} {request.url.path} ({code}) "
            f"to {location or 'an unnamed location'}. This client does not follow "
            "redirects; check the server URL.",
            status_code=code,
        )
    if code < 400:
        return

    message, field = errors.read_error_body(response.text)
    message = message or response.reason_phrase or f"HTTP {code}"
    if code == 404 and message.strip(".").lower() == "not found":
        # A bare "Not Found" from a router does not say what was missing.
        message = f"Not found: {response.request.method} {response.request.url.path}"
    kwargs: dict[str, Any] = {"status_code": code, "field": field}

    if code in (401, 403):
        raise errors.AuthError(
            f"The server rejected the API key ({code}: {message}). The key is read "
            "from PLEXE_API_KEY; check that it is set and current.",
            **kwargs,
        )
    if code == 429:
        retry_after = _retry_after(response)
        wait = f" Retrying in {retry_after:g} s." if retry_after is not None else ""
        raise errors.RateLimitedError(
            f"Rate limited by the server (429).{wait}",
            retry_after=retry_after,
            **kwargs,
        )
    if code >= 500:
        raise errors.ServerError(f"Server error {code}: {message}", **kwargs)

    error_class: type[errors.ApiError] = {
        400: errors.InvalidRequestError,
        404: errors.NotFoundError,
        409: errors.ConflictError,
        413: errors.TooLargeError,
        422: errors.InvalidRequestError,
    }.get(code, errors.ApiError)
    raise error_class(message, **kwargs)


def _retry_after(response: httpx.Response) -> float | None:
    """Read `Retry-After` in seconds; the HTTP-date form is not used by the platform."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _read_ticket(body: Any) -> tuple[str, str, str]:
    if not isinstance(body, dict):
        raise errors.ProtocolError("POST /uploads did not return a JSON object.")
    upload_id = body.get("upload_id") or body.get("id")
    url = body.get("presigned_url") or body.get("url") or body.get("upload_url")
    if not upload_id or not url:
        raise errors.ProtocolError(
            f"POST /uploads returned no upload_id or presigned_url: {sorted(body)}"
        )
    return str(upload_id), str(url), str(body.get("key") or body.get("s3_key") or "")


async def _read_chunks(
    path: Path, size: int, on_progress: ProgressCallback | None
) -> AsyncIterator[bytes]:
    """Yield the file in chunks, reporting progress after each one."""
    sent = 0
    with path.open("rb") as handle:
        while chunk := handle.read(UPLOAD_CHUNK_BYTES):
            yield chunk
            sent += len(chunk)
            if on_progress is not None:
                on_progress(sent, size)


def _guess_content_type(path: Path) -> str:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "application/x-ndjson"
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _segment(value: str) -> str:
    return quote(value, safe="")


def _model_path(model_name: str, version: str) -> str:
    return f"/models/{_segment(model_name)}/{_segment(version)}"


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed ({text})"
    return text
