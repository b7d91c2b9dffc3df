"""The client under every fault of the fake platform: typed errors, then recovery."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from plexe_tui.api import BuildRequest, PlexeClient
from plexe_tui.api.errors import (
    ApiError,
    NetworkError,
    ProtocolError,
    RateLimitedError,
    ServerError,
)
from tests.fake_platform import (
    FAILURES,
    FAKE_API_KEY,
    FAULT_MESSAGE,
    RETRY_AFTER_SECONDS,
    UNKNOWN_STATUS_WORD,
    FakePlatform,
    Fault,
)

# Seconds. The TIMEOUT fault delays responses far longer than this.
SHORT_TIMEOUT = httpx.Timeout(0.3)

Call = Callable[[PlexeClient], Awaitable[Any]]

# (error class, text in its message) for each fault that makes calls fail.
EXPECTED_FAILURES: dict[Fault, tuple[type[ApiError], str]] = {
    Fault.REFUSED: (NetworkError, "Cannot reach"),
    Fault.TIMEOUT: (NetworkError, "in time"),
    Fault.SERVER_ERROR: (ServerError, "Server error 500: Internal Server Error"),
    Fault.BAD_GATEWAY: (ServerError, "Server error 502: 502 Bad Gateway nginx"),
    Fault.RATE_LIMITED: (
        RateLimitedError,
        f"Rate limited by the server (429). Retrying in {RETRY_AFTER_SECONDS} s.",
    ),
    Fault.MALFORMED_JSON: (ProtocolError, "with a body that is not JSON"),
    Fault.ERROR_OBJECT: (ServerError, f"Server error 503: {FAULT_MESSAGE}"),
    Fault.ERROR_DETAIL: (ServerError, f"Server error 503: {FAULT_MESSAGE}"),
    Fault.ERROR_MESSAGE: (ServerError, f"Server error 503: {FAULT_MESSAGE}"),
    Fault.ERROR_TEXT: (ServerError, f"Server error 503: {FAULT_MESSAGE}"),
}
DIALECTS = sorted(set(Fault) - FAILURES)


@pytest.fixture
async def client(fault_platform: FakePlatform) -> AsyncIterator[PlexeClient]:
    fault_platform.set_build("churn", "1", status="completed")
    client = PlexeClient(
        fault_platform.url, api_key=FAKE_API_KEY, timeout=SHORT_TIMEOUT
    )
    yield client
    await client.aclose()


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text("age,churned\n40,1\n31,0\n", encoding="utf-8")
    return path


def every_call(csv_file: Path) -> dict[str, Call]:
    """Return one call of each client method, by name."""
    return {
        "health": lambda c: c.health(),
        "list_models": lambda c: c.list_models(),
        "get_status": lambda c: c.get_status("churn", "1"),
        "get_model": lambda c: c.get_model("churn", "1"),
        "describe": lambda c: c.describe("churn", "1"),
        "infer": lambda c: c.infer("churn", "1", {"age": 40}),
        "start_build": lambda c: c.start_build("churn", BuildRequest(goal="g")),
        "list_uploads": lambda c: c.list_uploads(),
        "get_upload": lambda c: c.get_upload("upl-1"),
        "upload_file": lambda c: c.upload_file(csv_file),
    }


async def outcome(client: PlexeClient, call: Call) -> Any:
    """Return the call's result, or the ApiError it raised; anything else fails."""
    try:
        return await call(client)
    except ApiError as exc:
        return exc


@pytest.mark.parametrize("fault", sorted(EXPECTED_FAILURES))
async def test_failure_gives_typed_error(
    client: PlexeClient, fault_platform: FakePlatform, csv_file: Path, fault: Fault
) -> None:
    error_class, text = EXPECTED_FAILURES[fault]
    fault_platform.misbehave(fault)

    for name, call in every_call(csv_file).items():
        error = await outcome(client, call)

        assert isinstance(error, error_class), f"{name}: {error!r}"
        assert text in error.message, name
        assert "\n" not in error.message, name
        assert "Traceback" not in error.message, name
        assert FAKE_API_KEY not in error.message, name


@pytest.mark.parametrize("fault", sorted(EXPECTED_FAILURES))
async def test_client_recovers_after_failure(
    client: PlexeClient, fault_platform: FakePlatform, csv_file: Path, fault: Fault
) -> None:
    fault_platform.misbehave(fault)
    assert isinstance(
        await outcome(client, lambda c: c.get_status("churn", "1")), ApiError
    )

    fault_platform.behave()

    for name, call in every_call(csv_file).items():
        result = await outcome(client, call)
        assert not isinstance(result, ApiError), f"{name}: {result!r}"
    status = await client.get_status("churn", "1")
    assert status.status == "completed"


@pytest.mark.parametrize("fault", DIALECTS)
async def test_dialect_read_or_explained(
    client: PlexeClient, fault_platform: FakePlatform, csv_file: Path, fault: Fault
) -> None:
    """Each call succeeds, or names the expected field that the response lacks."""
    fault_platform.misbehave(fault)
    explained = []

    for name, call in every_call(csv_file).items():
        result = await outcome(client, call)
        if isinstance(result, ApiError):
            assert isinstance(result, ProtocolError), f"{name}: {result!r}"
            assert "expected model_version" in result.message
            explained.append(name)

    # Only a build response without its version cannot be read at all.
    expected = ["start_build"] if fault is Fault.MISSING_FIELDS else []
    assert explained == expected


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param(Fault.UNKNOWN_STATUS, UNKNOWN_STATUS_WORD, id="unknown"),
        pytest.param(Fault.UPPER_CASE_STATUS, "completed", id="upper-case"),
        pytest.param(Fault.MISSING_FIELDS, "completed", id="missing-fields"),
        pytest.param(Fault.MODEL_ID, "completed", id="model-id"),
        pytest.param(Fault.BARE_LIST, "completed", id="bare-list"),
    ],
)
async def test_dialect_status_read(
    client: PlexeClient, fault_platform: FakePlatform, fault: Fault, expected: str
) -> None:
    fault_platform.misbehave(fault)

    status = await client.get_status("churn", "1")
    page = await client.list_models()

    assert (status.model_name, status.model_version) == ("churn", "1")
    assert status.status == expected
    assert [(item.model_name, item.model_version) for item in page.items] == [
        ("churn", "1")
    ]
    assert page.items[0].status == expected


async def test_dialect_missing_fields_cleared(
    client: PlexeClient, fault_platform: FakePlatform
) -> None:
    fault_platform.set_build(
        "churn",
        "1",
        build_progress=100,
        result={"metric_name": "roc_auc", "metric_value": 0.9},
    )
    fault_platform.misbehave(Fault.MISSING_FIELDS)

    status = await client.get_status("churn", "1")

    assert status.build_progress is None
    assert status.metric_value is None
    assert status.goal is None


async def test_bare_list_has_no_pagination(
    client: PlexeClient, fault_platform: FakePlatform
) -> None:
    fault_platform.misbehave(Fault.BARE_LIST)

    page = await client.list_models()

    assert page.total is None
    assert page.has_more is False


async def test_paginated_list_pages(
    client: PlexeClient, fault_platform: FakePlatform
) -> None:
    for version in ("2", "3", "4", "5"):
        fault_platform.set_build("churn", version, status="building")

    first = await client.list_models(limit=2)
    last = await client.list_models(limit=2, offset=4)

    assert [item.model_version for item in first.items] == ["5", "4"]
    assert first.total == 5
    assert first.has_more is True
    assert [item.model_version for item in last.items] == ["1"]
    assert last.has_more is False


async def test_refused_server_keeps_state(
    client: PlexeClient, fault_platform: FakePlatform
) -> None:
    url = fault_platform.url
    fault_platform.misbehave(Fault.REFUSED)
    fault_platform.behave()

    status = await client.get_status("churn", "1")

    assert fault_platform.url == url
    assert status.status == "completed"
