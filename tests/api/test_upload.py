"""PlexeClient.upload_file: the three-step upload through a presigned URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from plexe_tui.api import PlexeClient
from plexe_tui.api import client as client_module
from plexe_tui.api.errors import (
    ApiError,
    AuthError,
    InvalidRequestError,
    NetworkError,
    ProtocolError,
    ServerError,
    TooLargeError,
)
from tests.fake_platform import FAKE_API_KEY, FakePlatform, closed_port_url

CSV_TEXT = "age,city,churned\n40,Zürich,1\n31,[Oslo],0\n"


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def other_server() -> Iterator[FakePlatform]:
    with FakePlatform(api_key=None) as other:
        yield other


@pytest.fixture
def other_host(other_server: FakePlatform) -> FakePlatform:
    """A second fake platform that stands for another host, with no requests yet."""
    other_server.reset()
    return other_server


def ticket(upload_id: str, url: str) -> dict[str, str]:
    """Build a `POST /uploads` response body that sends the PUT to `url`."""
    return {"upload_id": upload_id, "presigned_url": url, "key": f"k/{upload_id}"}


# The canonical flow


async def test_upload_returns_upload_id(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    upload_id = await client.upload_file(csv_file)

    record = platform.upload("upl-1")
    assert upload_id == "upl-1"
    assert platform.stored_upload("upl-1") == csv_file.read_bytes()
    assert record is not None
    assert record["status"] == "complete"


async def test_upload_request_order(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    await client.upload_file(csv_file)

    assert [(r.method, r.path) for r in platform.requests] == [
        ("POST", "/uploads"),
        ("PUT", "/storage/upl-1"),
        ("POST", "/uploads/status"),
    ]


async def test_upload_ticket_request(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    await client.upload_file(csv_file)

    sent = platform.requests_to("POST", "/uploads")[0]
    assert sent.json() == {"filename": "customers.csv", "content_type": "text/csv"}
    assert sent.headers["x-api-key"] == FAKE_API_KEY


async def test_upload_confirm_request(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    await client.upload_file(csv_file)

    sent = platform.requests_to("POST", "/uploads/status")[0]
    assert sent.json() == {
        "upload_id": "upl-1",
        "filename": "customers.csv",
        "s3_key": "uploads/upl-1/customers.csv",
    }
    assert sent.headers["x-api-key"] == FAKE_API_KEY


async def test_upload_put_carries_no_key(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    await client.upload_file(csv_file)

    put = platform.requests_to("PUT", "/storage/upl-1")[0]
    assert "x-api-key" not in put.headers
    assert "authorization" not in put.headers
    assert FAKE_API_KEY not in str(put.headers)


async def test_upload_put_body_and_headers(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    await client.upload_file(csv_file)

    put = platform.requests_to("PUT", "/storage/upl-1")[0]
    size = csv_file.stat().st_size
    assert put.body == csv_file.read_bytes()
    assert put.headers["content-type"] == "text/csv"
    assert put.headers["content-length"] == str(size)
    assert "transfer-encoding" not in put.headers


async def test_upload_keeps_url_query(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    await client.upload_file(csv_file)

    put = platform.requests_to("PUT", "/storage/upl-1")[0]
    assert put.query == {"X-Amz-Signature": "fake-signature"}


async def test_upload_explicit_content_type(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    await client.upload_file(csv_file, content_type="application/vnd.custom")

    put = platform.requests_to("PUT", "/storage/upl-1")[0]
    assert put.headers["content-type"] == "application/vnd.custom"
    assert platform.requests_to("POST", "/uploads")[0].json()["content_type"] == (
        "application/vnd.custom"
    )


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("rows.json", "application/json"),
        ("rows.jsonl", "application/x-ndjson"),
        ("rows.NDJSON", "application/x-ndjson"),
        ("rows.parquet-ish", "application/octet-stream"),
    ],
)
async def test_upload_guesses_content_type(
    client: PlexeClient,
    platform: FakePlatform,
    tmp_path: Path,
    name: str,
    content_type: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(b"{}\n")

    await client.upload_file(path)

    put = platform.requests_to("PUT", "/storage/upl-1")[0]
    assert put.headers["content-type"] == content_type


# Progress


async def test_upload_progress_reaches_size(
    client: PlexeClient,
    platform: FakePlatform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "UPLOAD_CHUNK_BYTES", 10)
    path = tmp_path / "rows.csv"
    data = b"x" * 95
    path.write_bytes(data)
    calls: list[tuple[int, int]] = []

    await client.upload_file(
        path, on_progress=lambda sent, total: calls.append((sent, total))
    )

    assert calls[-1] == (95, 95)
    assert len(calls) == 10
    assert [sent for sent, _ in calls] == sorted(sent for sent, _ in calls)
    assert {total for _, total in calls} == {95}
    assert platform.stored_upload("upl-1") == data


async def test_upload_empty_file(
    client: PlexeClient, platform: FakePlatform, tmp_path: Path
) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    upload_id = await client.upload_file(path)

    assert platform.stored_upload(upload_id) == b""


# Failures


async def test_upload_missing_file(
    client: PlexeClient, platform: FakePlatform, tmp_path: Path
) -> None:
    with pytest.raises(InvalidRequestError, match="Cannot read") as caught:
        await client.upload_file(tmp_path / "absent.csv")

    assert caught.value.field == "upload_id"
    assert platform.requests == []


async def test_upload_ticket_without_url(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    platform.respond("POST", "/uploads", json={"upload_id": "upl-1"})

    with pytest.raises(ProtocolError, match="presigned_url"):
        await client.upload_file(csv_file)

    assert platform.count("PUT", "/storage/upl-1") == 0


async def test_upload_ticket_alias_fields(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    platform.respond(
        "POST",
        "/uploads",
        json={"id": "upl-7", "upload_url": f"{platform.url}/elsewhere/upl-7"},
    )
    platform.respond("PUT", "/elsewhere/upl-7")
    platform.respond("POST", "/uploads/status", json={"status": "complete"})

    upload_id = await client.upload_file(csv_file)

    assert upload_id == "upl-7"
    assert platform.requests_to("POST", "/uploads/status")[0].json()["s3_key"] == ""


async def test_upload_too_large(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    platform.respond(
        "POST",
        "/uploads",
        status=413,
        json={"error": {"code": "too_large", "message": "The limit is 100 MB."}},
    )

    with pytest.raises(TooLargeError, match="100 MB"):
        await client.upload_file(csv_file)


async def test_upload_put_refused(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    platform.respond(
        "POST", "/uploads", json=ticket("upl-1", f"{closed_port_url()}/bucket")
    )

    with pytest.raises(NetworkError, match=r"customers\.csv") as caught:
        await client.upload_file(csv_file)

    assert caught.value.retryable
    assert platform.count("POST", "/uploads/status") == 0


async def test_upload_put_server_error(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    platform.respond("PUT", "/storage/upl-1", status=503, text="Slow Down")

    with pytest.raises(ServerError, match="Slow Down"):
        await client.upload_file(csv_file)

    assert platform.count("POST", "/uploads/status") == 0


async def test_upload_expired_url(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    platform.respond(
        "PUT",
        "/storage/upl-1",
        status=403,
        text=(
            "<Error><Code>AccessDenied</Code>"
            "<Message>Request has expired</Message></Error>"
        ),
        headers={"content-type": "application/xml"},
    )

    with pytest.raises(ApiError) as caught:
        await client.upload_file(csv_file)

    assert not isinstance(caught.value, AuthError)
    assert "Request has expired" in caught.value.message
    assert "presigned URL" in caught.value.message
    assert "PLEXE_API_KEY" not in caught.value.message
    assert caught.value.status_code == 403


async def test_upload_confirm_rejected(
    client: PlexeClient, platform: FakePlatform, csv_file: Path
) -> None:
    platform.respond(
        "POST",
        "/uploads/status",
        status=409,
        json={"error": {"code": "upload_incomplete", "message": "no stored file"}},
    )

    with pytest.raises(ApiError, match="no stored file"):
        await client.upload_file(csv_file)


async def test_upload_put_on_other_host(
    client: PlexeClient,
    platform: FakePlatform,
    other_host: FakePlatform,
    csv_file: Path,
) -> None:
    platform.respond(
        "POST", "/uploads", json=ticket("upl-1", f"{other_host.url}/bucket/upl-1")
    )
    other_host.respond("PUT", "/bucket/upl-1")
    platform.respond("POST", "/uploads/status", json={"status": "complete"})

    await client.upload_file(csv_file)

    put = other_host.requests_to("PUT", "/bucket/upl-1")[0]
    assert put.body == csv_file.read_bytes()
    assert "x-api-key" not in put.headers


async def test_upload_put_redirect(
    client: PlexeClient,
    platform: FakePlatform,
    other_host: FakePlatform,
    csv_file: Path,
) -> None:
    platform.respond(
        "PUT",
        "/storage/upl-1",
        status=307,
        headers={"location": f"{other_host.url}/bucket/upl-1?sig=secret"},
    )

    with pytest.raises(ProtocolError, match="redirect") as caught:
        await client.upload_file(csv_file)

    assert "sig=secret" not in caught.value.message
    assert other_host.requests == []
    assert platform.count("POST", "/uploads/status") == 0


async def test_slow_confirm_outlasts_default_timeout(
    platform: FakePlatform, csv_file: Path
) -> None:
    # The local engine reads a whole CSV to confirm it, which for a large file
    # takes longer than any other call may.
    platform.respond(
        "POST",
        "/uploads/status",
        json={"upload_id": "upl-1", "status": "complete"},
        delay=1.0,
    )
    client = PlexeClient(platform.url, api_key=FAKE_API_KEY, timeout=httpx.Timeout(0.3))
    try:
        upload_id = await client.upload_file(csv_file)
    finally:
        await client.aclose()

    assert upload_id == "upl-1"


def test_confirm_timeout_grows_with_size() -> None:
    small = client_module.confirm_timeout(1000)
    large = client_module.confirm_timeout(2**30)

    assert small.read == pytest.approx(client_module.CONFIRM_BASE_SECONDS, abs=0.01)
    assert large.read is not None
    assert large.read > 200.0
