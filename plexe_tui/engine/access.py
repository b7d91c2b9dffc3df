"""Access control of the engine: loopback by default, a token for other addresses.

An engine bound to 127.0.0.1 serves only this machine. Binding another address
needs a token, and then every request must carry it in ``x-api-key`` or
``Authorization: Bearer``, the headers the Plexe API uses for its key. Two
paths need no token: ``/health``, and the presigned upload PUT, which carries
its upload's own secret in the URL because clients never send the API key there.
"""

import ipaddress
import json
import re
import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

from plexe_tui.engine.errors import error_body
from plexe_tui.engine.settings import TOKEN_VARIABLE

LOCAL_HOST_NAMES = frozenset({"localhost"})
_OPEN_PATHS = frozenset({"/health"})
_UPLOAD_CONTENT_PATH = re.compile(r"^/uploads/[^/]+/content$")


class TokenRequired(RuntimeError):
    """The engine would listen on a non-loopback address without a token."""


def is_loopback(host: str) -> bool:
    """Return whether ``host`` is ``localhost`` or a loopback address."""
    if host.lower() in LOCAL_HOST_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Raise TokenRequired when ``host`` is not loopback and there is no token."""
    if token or is_loopback(host):
        return
    raise TokenRequired(
        f"Listening on {host!r} lets other machines reach the engine, so it needs "
        f"a token: set {TOKEN_VARIABLE} to a long random secret, and give clients "
        "the same value as their API key. Or listen on 127.0.0.1."
    )


class TokenMiddleware:
    """Reject requests without the engine's token with a 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_open(scope) or self._carries(scope):
            await self.app(scope, receive, send)
            return
        await _send_unauthorised(send)

    def _is_open(self, scope: Scope) -> bool:
        path = str(scope["path"])
        if path in _OPEN_PATHS:
            return True
        return scope["method"] == "PUT" and bool(_UPLOAD_CONTENT_PATH.match(path))

    def _carries(self, scope: Scope) -> bool:
        headers = dict(scope["headers"])
        key = headers.get(b"x-api-key", b"")
        scheme, _, bearer = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() != b"bearer":
            bearer = b""
        # Both comparisons always run, so timing does not tell which header
        # was checked.
        key_matches = secrets.compare_digest(key, self.expected)
        bearer_matches = secrets.compare_digest(bearer.strip(), self.expected)
        return key_matches or bearer_matches


async def _send_unauthorised(send: Send) -> None:
    body = error_body(
        "unauthorized",
        "This engine needs its token: send it in the x-api-key header (the "
        "client's PLEXE_API_KEY) or as Authorization: Bearer. The engine reads "
        f"it from {TOKEN_VARIABLE}.",
    )
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"www-authenticate", b"Bearer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
