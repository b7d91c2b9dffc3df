"""Builds from dataset URLs, served by a small HTTP server on 127.0.0.1 that the
tests start: success, 404, files over the size limit, and slow servers."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from engine_harness import EngineProcess, data_file

MAX_BYTES = 1 << 20
DOWNLOAD_TIMEOUT = 1.5
# Seconds a slow handler keeps its connection open at most, so the server stops.
SLOW_HANDLER_SECONDS = 6.0
# Maximum seconds a timed-out download may add to its timeout before the engine
# responds.
RESPONSE_SLACK = 3.0


class DatasetHandler(BaseHTTPRequestHandler):
    """Serves the test datasets and the misbehaving responses the tests need."""

    def do_GET(self) -> None:
        routes = {
            "/files/cancer.csv": self._send_cancer,
            "/files/penguins.jsonl": self._send_penguin_lines,
            "/files/huge.csv": self._send_huge_declared,
            "/files/endless.csv": self._send_endless,
            "/files/silent.csv": self._send_nothing,
            "/files/drip.csv": self._send_drip,
        }
        route = routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        route()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_cancer(self) -> None:
        self._send(data_file("breast_cancer.csv").read_bytes(), "text/csv")

    def _send_penguin_lines(self) -> None:
        lines = data_file("penguins.csv").read_text().splitlines()
        names = lines[0].split(",")
        records = [dict(zip(names, line.split(","), strict=True)) for line in lines[1:]]
        body = "\n".join(json.dumps(record) for record in records) + "\n"
        self._send(body.encode(), "application/x-ndjson")

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_huge_declared(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(10 * MAX_BYTES))
        self.end_headers()
        self.wfile.write(b"a,b\n1,2\n")

    def _send_endless(self) -> None:
        """Send rows without a Content-Length, up to four times the limit."""
        self.send_response(200)
        self.end_headers()
        row = b"1,2,3,4,5,6,7,8,9,10\n" * 1000
        try:
            for _ in range(4 * MAX_BYTES // len(row)):
                self.wfile.write(row)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send_nothing(self) -> None:
        time.sleep(SLOW_HANDLER_SECONDS)

    def _send_drip(self) -> None:
        """Send a byte every 0.2 s, each within the read timeout."""
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(int(SLOW_HANDLER_SECONDS / 0.2)):
                self.wfile.write(b"1")
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def files_url() -> Iterator[str]:
    """The base URL of a local HTTP server that serves the test files."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), DatasetHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/files"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def url_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """An engine with a 1 MiB download limit and a 1.5 s download timeout."""
    folder = tmp_path_factory.mktemp("url-engine")
    server = EngineProcess(
        folder / "data",
        folder / "engine.log",
        env={
            "PLEXE_ENGINE_DOWNLOAD_MAX_BYTES": str(MAX_BYTES),
            "PLEXE_ENGINE_DOWNLOAD_TIMEOUT": str(DOWNLOAD_TIMEOUT),
        },
    )
    server.start()
    yield server
    server.close()


def post_build(engine: EngineProcess, name: str, url: str) -> Any:
    return engine.client.post(
        f"/models/{name}",
        json={"goal": "predict the diagnosis", "upload_id": url, "max_iterations": 1},
    )


def upload_count(engine: EngineProcess) -> int:
    body = engine.client.get("/uploads", params={"limit": 100}).json()
    count: int = body["pagination"]["total"]
    return count


def test_build_from_csv_url(url_engine: EngineProcess, files_url: str) -> None:
    url = f"{files_url}/cancer.csv"
    response = post_build(url_engine, "from-url", url)
    assert response.status_code == 202, response.text
    version = response.json()["model_version"]
    assert url_engine.wait_for("from-url", version)["status"] == "completed"

    model = url_engine.client.get(f"/models/from-url/{version}").json()
    assert model["dataset_url"] == url
    upload = url_engine.client.get(f"/uploads/{model['upload_id']}").json()
    assert upload["status"] == "complete"
    assert upload["original_filename"] == "cancer.csv"
    assert upload["rows"] == 569
    assert url_engine.describe("from-url", version)["dataset_url"] == url


def test_build_from_json_lines_url(url_engine: EngineProcess, files_url: str) -> None:
    response = url_engine.client.post(
        "/models/penguins-url",
        json={
            "goal": "predict the species",
            "upload_id": f"{files_url}/penguins.jsonl",
            "max_iterations": 2,
        },
    )
    assert response.status_code == 202, response.text
    version = response.json()["model_version"]
    assert url_engine.wait_for("penguins-url", version)["status"] == "completed"


def test_url_not_found(url_engine: EngineProcess, files_url: str) -> None:
    before = upload_count(url_engine)
    url = f"{files_url}/nothing-here.csv"
    response = post_build(url_engine, "not-found", url)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "dataset_download_failed"
    assert error["field"] == "upload_id"
    assert "404" in error["message"]
    assert url in error["message"]
    assert upload_count(url_engine) == before


@pytest.mark.parametrize("path", ["huge.csv", "endless.csv"])
def test_url_too_large(url_engine: EngineProcess, files_url: str, path: str) -> None:
    before = upload_count(url_engine)
    response = post_build(url_engine, "too-large", f"{files_url}/{path}")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "dataset_too_large"
    assert "1 MiB" in error["message"]
    assert upload_count(url_engine) == before


@pytest.mark.parametrize("path", ["silent.csv", "drip.csv"])
def test_url_timeout(url_engine: EngineProcess, files_url: str, path: str) -> None:
    before = upload_count(url_engine)
    started = time.monotonic()
    response = post_build(url_engine, "too-slow", f"{files_url}/{path}")
    assert time.monotonic() - started < DOWNLOAD_TIMEOUT + RESPONSE_SLACK
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "dataset_download_timed_out"
    assert "1.5 s" in error["message"]
    assert upload_count(url_engine) == before


def test_url_plan_failure_removes_upload(
    url_engine: EngineProcess, files_url: str
) -> None:
    before = upload_count(url_engine)
    response = url_engine.client.post(
        "/models/no-target",
        json={"goal": "predict the weather", "upload_id": f"{files_url}/cancer.csv"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "target_not_found"
    assert upload_count(url_engine) == before


def test_no_leftover_partial_files(url_engine: EngineProcess) -> None:
    leftovers = list(Path(url_engine.data_dir, "uploads").rglob("*.part"))
    assert leftovers == []
