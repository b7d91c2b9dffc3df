"""An open-loop HTTP/1.1 load generator on raw asyncio sockets.

Request i is due at start + i / rate, whether or not earlier requests have
completed. It goes out on whichever of the keep-alive connections is free, and
waits for one when none is. Its latency runs from the time it was due, not
from when it was sent, so a slow server cannot hide its queueing by slowing
the generator down (the "coordinated omission" error of closed-loop tools).

It is written on sockets rather than httpx because httpx's AsyncClient spent
about four times more CPU per request here (1.3 to 1.5 ms against 0.3 ms, as
inference_load.py prints), and on a 2-core machine every millisecond the
generator spends is taken from the server it measures.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field

# Seconds a request may take before it counts as an error.
REQUEST_TIMEOUT = 10.0


@dataclass
class LoadResult:
    """Latencies in seconds of the successful requests, and the failures by kind."""

    rate: float
    duration: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    client_cpu_seconds: float = 0.0
    max_send_delay: float = 0.0
    """Largest gap between a request's due time and its write to a socket."""
    server_cpu_seconds: float = 0.0
    """CPU time the server process used during the run, when measured."""

    def add_error(self, kind: str) -> None:
        """Count one failed request of this kind."""
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def error_count(self) -> int:
        """Requests that failed or timed out."""
        return sum(self.errors.values())


class Connection:
    """One keep-alive HTTP/1.1 connection that sends one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        """Connect to host:port."""
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send a whole request and return the status code and body of its response."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        """Close the socket."""
        self.writer.close()


def post_request(host: str, port: int, path: str, payload: object) -> bytes:
    """Return the bytes of a POST of `payload` as JSON, for keep-alive use."""
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def run_open_loop(
    host: str,
    port: int,
    request: bytes,
    *,
    rate: float,
    duration: float,
    connections: int,
) -> LoadResult:
    """Send `rate` requests a second for `duration` seconds over `connections`."""
    result = LoadResult(rate=rate, duration=duration)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    opened = [await Connection.open(host, port) for _ in range(connections)]
    for connection in opened:
        pool.put_nowait(connection)

    cpu_start = time.process_time()
    count = int(rate * duration)
    start = time.perf_counter() + 0.05
    tasks = []
    for index in range(count):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(pool, request, due, result)))
    await asyncio.gather(*tasks)
    result.client_cpu_seconds = time.process_time() - cpu_start

    for connection in opened:
        connection.close()
    return result


async def _one(
    pool: "asyncio.Queue[Connection]", request: bytes, due: float, result: LoadResult
) -> None:
    connection = await pool.get()
    result.max_send_delay = max(result.max_send_delay, time.perf_counter() - due)
    try:
        status, _ = await asyncio.wait_for(
            connection.exchange(request), REQUEST_TIMEOUT
        )
    except TimeoutError:
        result.add_error("timeout")
        connection = await _replace(connection)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        result.add_error(type(exc).__name__)
        connection = await _replace(connection)
    else:
        if status == 200:
            result.latencies.append(time.perf_counter() - due)
        else:
            result.add_error(f"HTTP {status}")
    pool.put_nowait(connection)


async def _replace(connection: Connection) -> Connection:
    """Close a broken connection and open a new one to the same peer."""
    host, port = connection.writer.get_extra_info("peername")[:2]
    connection.close()
    return await Connection.open(host, port)
