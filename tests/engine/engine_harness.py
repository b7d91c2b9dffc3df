"""Run the real engine in a child process on a loopback socket, and drive it.

The test binds the listening socket itself and hands its descriptor to the engine,
so there is no race for a free port and the ``fd`` path of ``serve`` is exercised.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

DATA = Path(__file__).parent.parent / "data"
SERVER_CODE = (
    "import sys; from pathlib import Path; from plexe_tui.engine.serve import serve; "
    "serve(fd=int(sys.argv[1]), data_dir=Path(sys.argv[2]))"
)
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
HEALTH_TIMEOUT = 1.0
BUILD_TIMEOUT = 120.0
POLL_INTERVAL = 0.1
TERMINAL = {"completed", "failed", "cancelled"}


def data_file(name: str) -> Path:
    """Return the path of a test dataset in the data folder beside this file."""
    return DATA / name


class EngineProcess:
    """One engine server process with its data folder and an HTTP client."""

    def __init__(
        self, data_dir: Path, log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        port = self.listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.base_url, timeout=30.0)

    def start(self) -> None:
        """Start the server and wait until /health responds."""
        descriptor = self.listener.fileno()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    SERVER_CODE,
                    str(descriptor),
                    str(self.data_dir),
                ],
                pass_fds=[descriptor],
                stdout=log,
                stderr=log,
                env=self.env,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"engine exited early:\n{self.log()}")
            try:
                # The socket belongs to this process, so a dead server's
                # connections hang instead of failing: keep the timeout short.
                response = self.client.get("/health", timeout=HEALTH_TIMEOUT)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_INTERVAL)
        raise RuntimeError(f"engine did not respond to /health in time:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` to the server, wait for it to exit, and return its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
            raise

    def close(self) -> None:
        """Stop the server if it runs, and release the socket and client."""
        if self.process is not None and self.process.poll() is None:
            self.stop()
        self.client.close()
        self.listener.close()

    def log(self) -> str:
        """Return what the server wrote to stdout and stderr so far."""
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    # API helpers

    def upload(self, path: Path, filename: str | None = None) -> str:
        """Upload a file through the presigned-URL flow and return its upload id."""
        name = filename or path.name
        created = self.client.post(
            "/uploads", json={"filename": name, "content_type": "text/csv"}
        )
        assert created.status_code == 200, created.text
        body = created.json()
        put = httpx.put(body["presigned_url"], content=path.read_bytes(), timeout=30.0)
        assert put.status_code == 200, put.text
        done = self.client.post(
            "/uploads/status",
            json={
                "upload_id": body["upload_id"],
                "filename": name,
                "s3_key": body["key"],
            },
        )
        assert done.status_code == 200, done.text
        return str(body["upload_id"])

    def describe(self, name: str, version: str) -> dict[str, Any]:
        """Return the describe body of a build."""
        response = self.client.get(f"/models/{name}/{version}/describe")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def start_build(self, name: str, **fields: Any) -> str:
        """Start a build and return its version; the request must be accepted."""
        response = self.client.post(f"/models/{name}", json=fields)
        assert response.status_code == 202, response.text
        return str(response.json()["model_version"])

    def status(self, name: str, version: str) -> dict[str, Any]:
        """Return the status body of a build."""
        response = self.client.get(f"/models/{name}/{version}/status")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def wait_for(
        self,
        name: str,
        version: str,
        until: set[str] | None = None,
        timeout: float = BUILD_TIMEOUT,
    ) -> dict[str, Any]:
        """Poll a build's status until it is in ``until`` (terminal by default)."""
        wanted = until or TERMINAL
        deadline = time.monotonic() + timeout
        status = self.status(name, version)
        while status["status"] not in wanted:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"build {name} v{version} still {status} after {timeout} s\n"
                    f"{self.log()[-4000:]}"
                )
            time.sleep(POLL_INTERVAL)
            status = self.status(name, version)
        return status

    def wait_for_phase(self, name: str, version: str, phase: str) -> dict[str, Any]:
        """Poll until a build reports ``phase`` while building."""
        deadline = time.monotonic() + BUILD_TIMEOUT
        status = self.status(name, version)
        while status["phase"] != phase:
            assert status["status"] not in TERMINAL, status
            assert time.monotonic() < deadline, status
            time.sleep(POLL_INTERVAL)
            status = self.status(name, version)
        return status

    def build_record(self, name: str, version: str) -> dict[str, Any]:
        """Return the build.json the engine stored for a build."""
        path = self.data_dir / "models" / name / version / "build.json"
        record: dict[str, Any] = json.loads(path.read_text())
        return record

    def training_process_ids(self) -> list[int]:
        """Return the ids of the server's child processes that run a build."""
        assert self.process is not None
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid and b"spawn_main" in command:
                children.append(int(entry.name))
        return children


def kill_process(pid: int) -> None:
    """Kill a process with SIGKILL, ignoring one that has already gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
