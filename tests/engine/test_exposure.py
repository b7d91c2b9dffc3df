"""Who can reach the engine: loopback by default, a token beyond it, size limits."""

import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from engine_harness import EngineProcess

from plexe_tui.api import PlexeClient
from plexe_tui.api.errors import AuthError, TooLargeError
from plexe_tui.cli import build_parser
from plexe_tui.engine.access import TokenRequired, check_exposure, is_loopback
from plexe_tui.engine.serve import _parser, serve
from plexe_tui.engine.settings import EngineSettings

TOKEN = "engine-token-5f1c9a0e7d"
UPLOAD_LIMIT = 1000
CSV = b"a,b,target\n" + b"".join(
    f"{n % 10},{n % 3},{'yes' if n % 2 else 'no'}\n".encode() for n in range(30)
)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """An engine that needs TOKEN and takes uploads of at most UPLOAD_LIMIT bytes."""
    folder = tmp_path_factory.mktemp("guarded")
    server = EngineProcess(
        folder / "data",
        folder / "engine.log",
        env={
            "PLEXE_ENGINE_TOKEN": TOKEN,
            "PLEXE_ENGINE_UPLOAD_MAX_BYTES": str(UPLOAD_LIMIT),
        },
    )
    server.start()
    yield server
    server.close()


@pytest.fixture
def anonymous(guarded: EngineProcess) -> Iterator[httpx.Client]:
    """A client of the guarded engine that sends no token."""
    with httpx.Client(base_url=guarded.base_url, timeout=10.0) as client:
        yield client


@pytest.fixture
def keyed(guarded: EngineProcess) -> Iterator[httpx.Client]:
    """A client of the guarded engine that sends the token in x-api-key."""
    headers = {"x-api-key": TOKEN}
    with httpx.Client(
        base_url=guarded.base_url, headers=headers, timeout=10.0
    ) as client:
        yield client


def create_upload(client: httpx.Client, filename: str) -> dict[str, str]:
    response = client.post(
        "/uploads", json={"filename": filename, "content_type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


# Where the engine listens


def test_default_host_is_loopback() -> None:
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert _parser().parse_args([]).host == "127.0.0.1"
    assert build_parser().parse_args(["engine"]).host == "127.0.0.1"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.1", False),
        ("", False),
        ("my-laptop.example", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_other_address_needs_token() -> None:
    with pytest.raises(TokenRequired, match="PLEXE_ENGINE_TOKEN"):
        check_exposure("0.0.0.0", None)
    with pytest.raises(TokenRequired):
        check_exposure("0.0.0.0", "")

    check_exposure("0.0.0.0", TOKEN)
    check_exposure("127.0.0.1", None)


def test_engine_without_token_exits(tmp_path: Path) -> None:
    # 192.0.2.1 is a documentation address that no interface here has, so the
    # engine could not listen there even if the check were missing.
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "plexe_tui.engine", "--host", "192.0.2.1"]
    command += ["--port", "0", "--data-dir", str(tmp_path / "data")]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )

    assert result.returncode == 1
    assert "PLEXE_ENGINE_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_token_setting_read() -> None:
    settings = EngineSettings.from_environment({"PLEXE_ENGINE_TOKEN": f" {TOKEN} "})
    empty = EngineSettings.from_environment({"PLEXE_ENGINE_TOKEN": " "})

    assert settings.token == TOKEN
    assert empty.token is None
    assert TOKEN not in repr(settings)


# Requests with and without the token


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/models"),
        ("GET", "/uploads"),
        ("POST", "/uploads"),
        ("POST", "/models/churn"),
        ("GET", "/models/churn/1/status"),
        ("POST", "/models/churn/1/infer"),
        ("DELETE", "/uploads/upl_x"),
        ("GET", "/openapi.json"),
        ("GET", "/no/such/path"),
    ],
)
def test_request_without_token_rejected(
    anonymous: httpx.Client, method: str, path: str
) -> None:
    response = anonymous.request(method, path, json={})

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert "PLEXE_ENGINE_TOKEN" in error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"x-api-key": "wrong"},
        {"authorization": "Bearer wrong"},
        {"authorization": TOKEN},
        {"authorization": f"Basic {TOKEN}"},
        {"x-api-key": TOKEN[:-1]},
        {"x-api-key": ""},
    ],
)
def test_wrong_token_rejected(anonymous: httpx.Client, headers: dict[str, str]) -> None:
    assert anonymous.get("/models", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "headers", [{"x-api-key": TOKEN}, {"authorization": f"Bearer {TOKEN}"}]
)
def test_token_accepted(anonymous: httpx.Client, headers: dict[str, str]) -> None:
    assert anonymous.get("/models", headers=headers).status_code == 200


def test_health_needs_no_token(anonymous: httpx.Client) -> None:
    assert anonymous.get("/health").status_code == 200


def test_presigned_put_needs_no_token(
    keyed: httpx.Client, anonymous: httpx.Client
) -> None:
    created = create_upload(keyed, "data.csv")

    put = httpx.put(created["presigned_url"], content=CSV)
    forged = httpx.put(created["presigned_url"].split("?")[0], content=CSV)
    confirmed = anonymous.post("/uploads/status", json={"upload_id": "x"})

    assert put.status_code == 200, put.text
    assert forged.status_code == 403
    assert confirmed.status_code == 401


async def test_client_with_token_builds(guarded: EngineProcess, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(CSV)
    client = PlexeClient(guarded.base_url, api_key=TOKEN)
    try:
        upload_id = await client.upload_file(path)
        page = await client.list_models()
    finally:
        await client.aclose()

    assert upload_id.startswith("upl_")
    assert page.items == []


async def test_client_without_token_told(guarded: EngineProcess) -> None:
    client = PlexeClient(guarded.base_url)
    try:
        with pytest.raises(AuthError) as caught:
            await client.list_models()
    finally:
        await client.aclose()

    assert "PLEXE_API_KEY" in caught.value.message
    assert "PLEXE_ENGINE_TOKEN" in caught.value.message


# Upload size


def test_upload_over_limit_413(keyed: httpx.Client, guarded: EngineProcess) -> None:
    created = create_upload(keyed, "big.csv")

    response = httpx.put(created["presigned_url"], content=b"x" * (UPLOAD_LIMIT + 1))

    assert response.status_code == 413
    message = response.json()["error"]["message"]
    assert f"upload limit of {UPLOAD_LIMIT} bytes" in message
    assert "PLEXE_ENGINE_UPLOAD_MAX_BYTES" in message
    record = keyed.get(f"/uploads/{created['upload_id']}").json()
    assert record["status"] == "pending"


def test_streamed_upload_over_limit(
    keyed: httpx.Client, guarded: EngineProcess
) -> None:
    created = create_upload(keyed, "stream.csv")

    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b"y" * (UPLOAD_LIMIT // 2)

    # A generator body has no Content-Length, so the limit applies while
    # the bytes arrive.
    response = httpx.put(created["presigned_url"], content=chunks())

    assert response.status_code == 413
    folder = guarded.data_dir / "uploads" / created["upload_id"] / "data"
    assert list(folder.iterdir()) == []


def test_upload_at_limit_accepted(keyed: httpx.Client) -> None:
    created = create_upload(keyed, "exact.csv")

    response = httpx.put(created["presigned_url"], content=CSV[:UPLOAD_LIMIT])

    assert response.status_code == 200


async def test_client_reports_limit(guarded: EngineProcess, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(CSV * 40)
    client = PlexeClient(guarded.base_url, api_key=TOKEN)
    try:
        with pytest.raises(TooLargeError) as caught:
            await client.upload_file(path)
    finally:
        await client.aclose()

    assert f"{UPLOAD_LIMIT} bytes" in caught.value.message


# Paths from requests stay inside the data folder


ESCAPING_IDS = [
    "..%2F..%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd",
    "..",
    "%2E%2E",
    "upl_x%00y",
    "upl_x%2F..%2F..",
    "C:%5CWindows",
    "~root",
]


def folder_listing(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


@pytest.mark.parametrize("upload_id", ESCAPING_IDS)
def test_upload_id_stays_inside(engine: EngineProcess, upload_id: str) -> None:
    outside = engine.data_dir.parent
    before = folder_listing(outside)

    responses = [
        engine.client.get(f"/uploads/{upload_id}"),
        engine.client.delete(f"/uploads/{upload_id}"),
        engine.client.put(f"/uploads/{upload_id}/content?token=x", content=b"a\n1\n"),
        engine.client.post("/uploads/status", json={"upload_id": upload_id}),
        engine.client.post(
            "/models/escape", json={"goal": "predict a", "upload_id": upload_id}
        ),
    ]

    for response in responses:
        assert 400 <= response.status_code < 500, response.text
    assert folder_listing(outside) == before


@pytest.mark.parametrize("upload_id", ["/etc/passwd", "../../x", "file:///etc/passwd"])
def test_build_upload_id_not_a_path(engine: EngineProcess, upload_id: str) -> None:
    response = engine.client.post(
        "/models/escape", json={"goal": "predict a", "upload_id": upload_id}
    )

    assert response.status_code == 404
    assert response.json()["error"]["field"] == "upload_id"


@pytest.mark.parametrize(
    ("name", "version"),
    [("..%2F..", "1"), ("x", "..%2F..%2Fuploads"), ("%2E%2E", "%2E%2E"), ("x", "1%00")],
)
def test_model_path_stays_inside(
    engine: EngineProcess, name: str, version: str
) -> None:
    for method, suffix in [("GET", ""), ("GET", "/status"), ("DELETE", "")]:
        response = engine.client.request(method, f"/models/{name}/{version}{suffix}")
        assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    "filename",
    [
        "../../sanitised.csv",
        "/etc/passwd",
        "..",
        "a\x00b.csv",
        "C:\\Windows\\system.csv",
        ".hidden.csv",
        "x" * 500 + ".csv",
    ],
)
def test_upload_filename_sanitised(engine: EngineProcess, filename: str) -> None:
    created = engine.client.post(
        "/uploads", json={"filename": filename, "content_type": "text/csv"}
    ).json()
    put = httpx.put(created["presigned_url"], content=b"a,b\n1,2\n")

    assert put.status_code == 200, put.text
    folder = engine.data_dir / "uploads" / created["upload_id"] / "data"
    (stored,) = folder.iterdir()
    assert stored.is_file()
    assert not stored.name.startswith(".")
    assert "\x00" not in stored.name
    assert len(stored.name) <= 128
    assert created["key"] == f"uploads/{created['upload_id']}/{stored.name}"


@pytest.mark.parametrize("token", ["ünïcode", "\u2603", "%FF%FE"])
def test_non_ascii_upload_token_rejected(engine: EngineProcess, token: str) -> None:
    created = engine.client.post(
        "/uploads", json={"filename": "x.csv", "content_type": "text/csv"}
    ).json()
    url = created["presigned_url"].split("?")[0]

    response = httpx.put(url, params={"token": token}, content=b"a,b\n1,2\n")

    assert response.status_code == 403
    assert response.json()["error"]["field"] == "token"
