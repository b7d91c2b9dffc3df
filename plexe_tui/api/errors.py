"""Errors raised by the API client, and the reading of error bodies."""

from __future__ import annotations

import json
import re
from typing import Any

_HTML_PAGE = re.compile(
    r"<\s*(!doctype|html|head|body|title|h[1-6]|p|div|center|pre)\b", re.IGNORECASE
)
_TAG = re.compile(r"<[^>]+>")
# Gateway error pages carry CSS and scripts, which are no part of the message.
_HIDDEN_ELEMENT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# A page's title usually repeats its first heading, so the head is left out
# unless the body has no text.
_HEAD_ELEMENT = re.compile(r"<head\b.*?</head\s*>", re.IGNORECASE | re.DOTALL)
_MAX_MESSAGE = 300


class ApiError(Exception):
    """A request failed; `message` is a sentence fit to show the user."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.field = field
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later without any change."""
        return False


class InvalidRequestError(ApiError):
    """400 or 422: the server rejected a field of the request."""


class AuthError(ApiError):
    """401 or 403: the API key is missing or wrong."""


class NotFoundError(ApiError):
    """404: unknown model, version or upload."""


class ConflictError(ApiError):
    """409: the resource is not in a state that allows the request."""


class TooLargeError(ApiError):
    """413: the upload is larger than the server accepts."""


class RateLimitedError(ApiError):
    """429: too many requests; `retry_after` is the wait in seconds, when sent."""

    @property
    def retryable(self) -> bool:
        return True


class ServerError(ApiError):
    """5xx from the server or a gateway in front of it."""

    @property
    def retryable(self) -> bool:
        return True


class NetworkError(ApiError):
    """The server could not be reached, or did not respond in time."""

    @property
    def retryable(self) -> bool:
        return True


class ProtocolError(ApiError):
    """The server returned 2xx with a body this client cannot read."""


def one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Collapse text (plain or HTML) to one line of at most `limit` characters.

    Tags are removed only from text that looks like an HTML page, so a plain
    message such as "x < 5 and y > 2" keeps its comparison signs.
    """
    visible = text
    if _HTML_PAGE.search(text):
        visible = _page_text(_HEAD_ELEMENT.sub(" ", text)) or _page_text(text)
    flat = " ".join(visible.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _page_text(page: str) -> str:
    """Return the visible text of an HTML page, without scripts and styles."""
    import html  # Only error pages need it; it loads a large table.

    return html.unescape(_TAG.sub(" ", _HIDDEN_ELEMENT.sub(" ", page))).strip()


def read_error_body(text: str) -> tuple[str, str | None]:
    """Return the message and the named field, if any, of an error body.

    Bodies come as {"error": {"message", "field"}}, {"detail": ...},
    {"message": ...}, or plain text and HTML from a gateway.
    """
    try:
        body: Any = json.loads(text)
    except ValueError:
        return one_line(text), None

    if not isinstance(body, dict):
        return one_line(text), None

    error = body.get("error")
    if isinstance(error, dict) and error.get("message"):
        field = error.get("field")
        return one_line(str(error["message"])), str(field) if field else None
    if isinstance(error, str) and error:
        return one_line(error), None

    detail = body.get("detail")
    if detail:
        return _read_detail(detail)

    if body.get("message"):
        return one_line(str(body["message"])), None
    return one_line(text), None


def _read_detail(detail: Any) -> tuple[str, str | None]:
    """Read FastAPI-style `detail`: a string, or a list of {"loc", "msg"} items."""
    if isinstance(detail, str):
        return one_line(detail), None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        location = [str(part) for part in first.get("loc", []) if part != "body"]
        field = location[-1] if location else None
        message = str(first.get("msg", "invalid value"))
        return one_line(f"{field}: {message}" if field else message), field
    return one_line(json.dumps(detail)), None
