"""Upload one file with the app's client and print timings and memory as JSON.

`upload.py` runs this in a process of its own, so that the resident memory
it reports belongs to the upload alone. Usage:

    python -m tests.benchmarks.upload_worker BASE_URL FILE
"""

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from plexe_tui.api import PlexeClient


class TimingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, recording when each request started and ended.

    A request ends when its response headers arrive, which for the PUT is
    after the server has stored the whole body.
    """

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.spans: list[tuple[str, str, float, float]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request with the wrapped transport and record its span."""
        start = time.perf_counter()
        response = await self._inner.handle_async_request(request)
        self.spans.append(
            (request.method, request.url.path, start, time.perf_counter())
        )
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


def memory_kib(field: str) -> int:
    """Return a memory field of /proc/self/status (VmRSS, VmHWM) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def reset_peak_memory() -> None:
    """Make VmHWM start again from the current resident size (Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5")


async def upload(base_url: str, path: Path) -> dict[str, Any]:
    """Upload `path` and return the figures that `upload.py` prints."""
    transport = TimingTransport()
    client = PlexeClient(base_url, transport=transport)
    progress_calls = 0
    resident_max = 0

    def on_progress(sent: int, total: int) -> None:
        nonlocal progress_calls, resident_max
        progress_calls += 1
        if progress_calls % 64 == 0:
            resident_max = max(resident_max, memory_kib("VmRSS"))

    await client.health()  # Opens the connection and loads httpx's code paths.
    reset_peak_memory()
    resident_before = memory_kib("VmRSS")
    start = time.perf_counter()
    upload_id = await client.upload_file(
        path, content_type="text/csv", on_progress=on_progress
    )
    total = time.perf_counter() - start
    peak = memory_kib("VmHWM")
    await client.aclose()

    put = [span for span in transport.spans if span[0] == "PUT"]
    confirm = [span for span in transport.spans if span[1] == "/uploads/status"]
    return {
        "upload_id": upload_id,
        "total_seconds": total,
        "put_seconds": put[0][3] - put[0][2],
        "status_seconds": confirm[0][3] - confirm[0][2],
        "resident_before_kib": resident_before,
        "resident_peak_kib": peak,
        "resident_sampled_max_kib": resident_max,
        "progress_calls": progress_calls,
    }


if __name__ == "__main__":
    result = asyncio.run(upload(sys.argv[1], Path(sys.argv[2])))
    print(json.dumps(result))
