"""How PlexeClient maps error responses and network faults to ApiError subclasses."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from plexe_tui.api import PlexeClient
from plexe_tui.api.errors import (
    ApiError,
    AuthError,
    ConflictError,
    InvalidRequestError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    TooLargeError,
    read_error_body,
)
from tests.fake_platform import FAKE_API_KEY, FakePlatform, closed_port_url

LIST_PATH = "/models"
GATEWAY_HTML = """<!DOCTYPE html>
<html>
<head><title>502 Bad Gateway</title>
<style>body { font-family: sans-serif; color: #333; }</style>
<script>window.retry = function () { location.reload(); };</script>
</head>
<body><center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center></body>
</html>
"""


async def list_error(client: PlexeClient) -> ApiError:
    """Call `GET /models` and return the ApiError it raises."""
    with pytest.raises(ApiError) as caught:
        await client.list_models()
    return caught.value


# Error bodies


@pytest.mark.parametrize(
    ("status", "answer", "error_class", "message", "field"),
    [
        pytest.param(
            400,
            {"error": {"code": "invalid_metric", "message": "metric 'acc' unknown"}},
            InvalidRequestError,
            "metric 'acc' unknown",
            None,
            id="400-error-object",
        ),
        pytest.param(
            400,
            {
                "error": {
                    "code": "invalid_field",
                    "message": "goal must not be empty",
                    "field": "goal",
                }
            },
            InvalidRequestError,
            "goal must not be empty",
            "goal",
            id="400-error-object-with-field",
        ),
        pytest.param(
            400,
            {"detail": "column 'churned' not in dataset"},
            InvalidRequestError,
            "column 'churned' not in dataset",
            None,
            id="400-detail-text",
        ),
        pytest.param(
            422,
            {
                "detail": [
                    {
                        "type": "missing",
                        "loc": ["body", "goal"],
                        "msg": "Field required",
                    }
                ]
            },
            InvalidRequestError,
            "goal: Field required",
            "goal",
            id="422-fastapi-detail-list",
        ),
        pytest.param(
            422,
            {
                "detail": [
                    {
                        "loc": ["body", "input_schema", "age"],
                        "msg": "unknown type 'years'",
                    }
                ]
            },
            InvalidRequestError,
            "age: unknown type 'years'",
            "age",
            id="422-nested-location",
        ),
        pytest.param(
            404,
            {"message": "Model churn:9 not found"},
            NotFoundError,
            "Model churn:9 not found",
            None,
            id="404-message",
        ),
        pytest.param(
            404,
            {"error": "upload upl-3 not found"},
            NotFoundError,
            "upload upl-3 not found",
            None,
            id="404-error-text",
        ),
        pytest.param(
            409,
            {"error": {"code": "not_ready", "message": "Model churn:1 is building"}},
            ConflictError,
            "Model churn:1 is building",
            None,
            id="409-error-object",
        ),
        pytest.param(
            405,
            {"detail": "Method Not Allowed"},
            ApiError,
            "Method Not Allowed",
            None,
            id="405-other-status",
        ),
    ],
)
async def test_error_json_bodies(
    client: PlexeClient,
    platform: FakePlatform,
    status: int,
    answer: dict[str, Any],
    error_class: type[ApiError],
    message: str,
    field: str | None,
) -> None:
    platform.respond("GET", LIST_PATH, status=status, json=answer)

    error = await list_error(client)

    assert type(error) is error_class
    assert error.message == message
    assert error.field == field
    assert error.status_code == status
    assert not error.retryable


async def test_error_plain_text(client: PlexeClient, platform: FakePlatform) -> None:
    platform.respond(
        "GET",
        LIST_PATH,
        status=413,
        text="Payload too large:\n the limit is 50 MB.\n",
    )

    error = await list_error(client)

    assert isinstance(error, TooLargeError)
    assert error.message == "Payload too large: the limit is 50 MB."


async def test_error_empty_body(client: PlexeClient, platform: FakePlatform) -> None:
    platform.respond("GET", LIST_PATH, status=404)

    error = await list_error(client)

    assert isinstance(error, NotFoundError)
    assert error.message == "Not found: GET /models"


async def test_error_json_array_body(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("GET", LIST_PATH, status=400, json=["bad", "request"])

    error = await list_error(client)

    assert isinstance(error, InvalidRequestError)
    assert error.message == '["bad", "request"]'


async def test_error_long_text_one_line(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("GET", LIST_PATH, status=400, text="word\n" * 500)

    error = await list_error(client)

    assert "\n" not in error.message
    assert len(error.message) <= 300


# Authentication


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_error_names_key_source(
    client: PlexeClient, platform: FakePlatform, status: int
) -> None:
    platform.respond("GET", LIST_PATH, status=status, json={"detail": "Forbidden"})

    error = await list_error(client)

    assert isinstance(error, AuthError)
    assert "PLEXE_API_KEY" in error.message
    assert str(status) in error.message
    assert not error.retryable


async def test_wrong_key_rejected(platform: FakePlatform) -> None:
    wrong_key = "wrong-key-abcdef"
    client = PlexeClient(platform.url, api_key=wrong_key)
    try:
        error = await list_error(client)
    finally:
        await client.aclose()

    assert isinstance(error, AuthError)
    assert "Invalid or missing API key" in error.message
    assert wrong_key not in error.message


async def test_missing_key_rejected(platform: FakePlatform) -> None:
    client = PlexeClient(platform.url)
    try:
        error = await list_error(client)
    finally:
        await client.aclose()

    assert isinstance(error, AuthError)
    assert "x-api-key" not in platform.requests_to("GET", LIST_PATH)[0].headers


async def test_bearer_key_accepted(platform: FakePlatform) -> None:
    # The fake platform accepts both header forms, as some platform pages show.
    async with httpx.AsyncClient(base_url=platform.url) as http:
        answer = await http.get(
            LIST_PATH, headers={"authorization": f"Bearer {FAKE_API_KEY}"}
        )

    assert answer.status_code == 200


# Rate limits and server trouble


async def test_rate_limited_retry_after(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET",
        LIST_PATH,
        status=429,
        json={"error": {"code": "rate_limited", "message": "100 requests a minute"}},
        headers={"retry-after": "7"},
    )

    error = await list_error(client)

    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 7.0
    assert error.retryable
    assert "7 s" in error.message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("1.5", 1.5, id="fraction"),
        pytest.param("-3", 0.0, id="negative"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", None, id="http-date"),
    ],
)
async def test_rate_limited_header_forms(
    client: PlexeClient,
    platform: FakePlatform,
    header: str | None,
    expected: float | None,
) -> None:
    headers = {} if header is None else {"retry-after": header}
    platform.respond("GET", LIST_PATH, status=429, headers=headers)

    error = await list_error(client)

    assert isinstance(error, RateLimitedError)
    assert error.retry_after == expected


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_error_retryable(
    client: PlexeClient, platform: FakePlatform, status: int
) -> None:
    platform.respond("GET", LIST_PATH, status=status, json={"detail": "boom"})

    error = await list_error(client)

    assert isinstance(error, ServerError)
    assert error.retryable
    assert error.status_code == status
    assert "boom" in error.message


async def test_gateway_html_page(client: PlexeClient, platform: FakePlatform) -> None:
    platform.respond(
        "GET",
        LIST_PATH,
        status=502,
        text=GATEWAY_HTML,
        headers={"content-type": "text/html"},
    )

    error = await list_error(client)

    assert isinstance(error, ServerError)
    assert "502 Bad Gateway" in error.message
    assert "<" not in error.message
    assert "font-family" not in error.message
    assert "location.reload" not in error.message


async def test_html_entities_decoded(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET",
        LIST_PATH,
        status=503,
        text="<p>Service &amp; gateway unavailable</p>",
        headers={"content-type": "text/html"},
    )

    error = await list_error(client)

    assert "Service & gateway unavailable" in error.message


# Bodies that are not JSON on success


async def test_malformed_json_success(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET",
        LIST_PATH,
        body=b'{"models": [',
        headers={"content-type": "application/json"},
    )

    error = await list_error(client)

    assert isinstance(error, ProtocolError)
    assert "not JSON" in error.message
    assert not error.retryable


async def test_html_success_page(client: PlexeClient, platform: FakePlatform) -> None:
    platform.respond(
        "GET",
        "/models/churn/1/status",
        text="<html><body>Please sign in to the network</body></html>",
        headers={"content-type": "text/html"},
    )

    with pytest.raises(ProtocolError, match="sign in"):
        await client.get_status("churn", "1")


# Network faults


async def test_connection_refused() -> None:
    client = PlexeClient(closed_port_url(), api_key=FAKE_API_KEY)
    try:
        error = await list_error(client)
    finally:
        await client.aclose()

    assert isinstance(error, NetworkError)
    assert error.retryable
    assert "Cannot reach" in error.message
    assert FAKE_API_KEY not in error.message


async def test_request_timeout(platform: FakePlatform) -> None:
    platform.respond("GET", LIST_PATH, json=[], delay=30.0)
    client = PlexeClient(platform.url, api_key=FAKE_API_KEY, timeout=httpx.Timeout(0.3))
    started = time.monotonic()
    try:
        error = await list_error(client)
    finally:
        await client.aclose()

    assert isinstance(error, NetworkError)
    assert error.retryable
    assert "in time" in error.message
    assert time.monotonic() - started < 5.0


async def test_recovers_after_fault(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("GET", LIST_PATH, status=503, text="busy")

    with pytest.raises(ServerError):
        await client.list_models()
    page = await client.list_models()

    assert page.items == []
    assert platform.count("GET", LIST_PATH) == 2


def test_plain_text_keeps_comparison_signs() -> None:
    message, _ = read_error_body("x < 5 and y > 2")

    assert message == "x < 5 and y > 2"
