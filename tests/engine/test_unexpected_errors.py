"""An unexpected exception in a route gets a 500 and leaves the connection usable."""

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from plexe_tui.engine.app import create_app

# Seconds to wait for the in-process server to start, stop and respond.
SERVER_TIMEOUT = 10.0


def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The engine app, with a route that always fails, served on loopback."""
    app: FastAPI = create_app(tmp_path / "data")
    app.add_api_route("/explode", explode)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    config = uvicorn.Config(app, log_level="critical", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(
        target=uvicorn_server.run, kwargs={"sockets": [listener]}, daemon=True
    )
    thread.start()
    for _ in range(int(SERVER_TIMEOUT / 0.05)):
        if uvicorn_server.started:
            break
        threading.Event().wait(0.05)
    assert uvicorn_server.started
    yield listener.getsockname()
    uvicorn_server.should_exit = True
    thread.join(SERVER_TIMEOUT)


def read_responses(connection: socket.socket, count: int) -> list[str]:
    """Read until `count` responses have arrived or the server closes."""
    received = b""
    while received.count(b"HTTP/1.1 ") < count:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
    return [f"HTTP/1.1 {part}" for part in received.decode().split("HTTP/1.1 ")[1:]]


def test_connection_survives_500(server: tuple[str, int]) -> None:
    host, port = server
    requests = (
        f"GET /explode HTTP/1.1\r\nHost: {host}\r\n\r\n"
        f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=SERVER_TIMEOUT) as connection:
        connection.sendall(requests.encode())
        responses = read_responses(connection, 2)

    assert len(responses) == 2
    assert responses[0].startswith("HTTP/1.1 500")
    assert "RuntimeError" in responses[0]
    assert "Traceback" not in responses[0]
    assert responses[1].startswith("HTTP/1.1 200")
