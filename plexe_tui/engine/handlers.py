"""FastAPI exception handlers that give every error the engine's JSON shape."""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plexe_tui.engine.errors import EngineError, error_body

logger = logging.getLogger(__name__)

_LOCATION_WORDS = {"body", "query", "path", "header"}
_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers for engine errors, validation errors and the rest."""
    app.add_exception_handler(EngineError, _engine_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_middleware(UnexpectedErrorMiddleware)


class UnexpectedErrorMiddleware:
    """Send a 500 for an unexpected exception, and keep the connection open.

    Starlette's handler for ``Exception`` sends its response and then raises the
    exception again, and uvicorn closes the connection, so a client's next
    request on that kept-alive connection fails. This middleware sits inside
    that handler and does not raise again.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as error:
            if started:
                # Part of the response was sent, so only a closed connection
                # can tell the client that it is incomplete.
                raise
            request = Request(scope, receive)
            response = await _unexpected_error(request, error)
            await response(scope, receive, send)


async def _engine_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, EngineError)
    if error.status_code >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, error)
    body = error_body(error.code, error.message, error.field)
    return JSONResponse(body, status_code=error.status_code)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = list(error.errors())
    field, message = describe_validation_problem(problems[0] if problems else {})
    if len(problems) > 1:
        message += f" ({len(problems) - 1} more problem(s) in the request.)"
    return JSONResponse(error_body("invalid_request", message, field), status_code=422)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, "http_error")
    if error.status_code == 404:
        message = f"No endpoint at {request.method} {request.url.path}."
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
    else:
        message = str(error.detail)
    return JSONResponse(
        error_body(code, message), status_code=error.status_code, headers=error.headers
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("%s %s failed", request.method, request.url.path)
    message = (
        f"The engine failed unexpectedly ({type(error).__name__}). See the engine "
        "log for details."
    )
    return JSONResponse(error_body("internal_error", message), status_code=500)


def describe_validation_problem(problem: dict[str, Any]) -> tuple[str | None, str]:
    """Return the field a pydantic validation problem is about, and a sentence."""
    location = problem.get("loc", ())
    field = _field_name(location)
    kind = problem.get("type", "")
    detail = str(problem.get("msg", "is invalid")).rstrip(".")

    if kind == "json_invalid":
        return None, f"The request body is not valid JSON ({detail})."
    if field is None:
        if kind == "missing":
            return None, "The request body is missing. Send a JSON object."
        return None, f"The request body is invalid: {detail}."
    if kind == "missing":
        return field, f"{field} is required. Add it to the request."
    return field, f"{field} is invalid: {detail}."


def _field_name(location: Sequence[Any]) -> str | None:
    parts = [str(part) for part in location if part not in _LOCATION_WORDS]
    return ".".join(parts) if parts else None
