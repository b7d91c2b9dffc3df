"""Errors that the engine reports to HTTP clients, and the JSON body they become.

Every 4xx and 5xx body has the shape ``{"error": {"code": "<short_code>",
"message": "<sentence>", "field": <name or null>}}``.
The classes here import nothing from FastAPI, so the training process can raise them
too.
"""

from typing import Any


class EngineError(Exception):
    """A failure with an HTTP status, a short code and a message for the user."""

    status_code = 500

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidRequest(EngineError):
    """The request is well formed but a value in it cannot be used (HTTP 422)."""

    status_code = 422


class NotFound(EngineError):
    """A model, version or upload named in the request does not exist (HTTP 404)."""

    status_code = 404


class Conflict(EngineError):
    """The request does not fit the current state of a build or upload (HTTP 409)."""

    status_code = 409


class PayloadTooLarge(EngineError):
    """An uploaded file is larger than the engine accepts (HTTP 413)."""

    status_code = 413


class Forbidden(EngineError):
    """The upload token in a presigned URL is missing or wrong (HTTP 403)."""

    status_code = 403


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """Return the JSON body for an error response."""
    return {"error": {"code": code, "message": message, "field": field}}


def invalid_data(display_name: str, problem: str) -> InvalidRequest:
    """Return the error for a dataset file that cannot be used, naming the file."""
    return InvalidRequest(
        "invalid_data",
        f"Could not read {display_name!r}: {problem}.",
        field="upload_id",
    )


def first_line(error: BaseException) -> str:
    """Return the first line of an exception's text, or its type name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def size_text(size: int) -> str:
    """Return a size in bytes as text, in MiB from 1 MiB up."""
    if size >= 1 << 20:
        return f"{size / (1 << 20):g} MiB"
    return f"{size} bytes"
