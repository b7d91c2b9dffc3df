"""Upload a 1 GB CSV to the local engine with the app's client and with curl.

The script starts a real engine on a loopback port with a temporary data
folder and writes a CSV of SIZE bytes (10^9 by default) in a temporary folder,
deleted at the end. Each round uploads the file twice, in alternating order:

- app: `PlexeClient.upload_file` with a progress callback, in a process of its
  own (`upload_worker.py`). It reports the PUT's duration, the whole upload
  (with POST /uploads and POST /uploads/status, where the engine counts the
  rows), and the process's resident memory before and at its peak (VmHWM,
  reset just before the upload).
- curl: `curl -T FILE` to a presigned URL from POST /uploads, with the
  `Expect: 100-continue` header off so that curl starts sending at once.

Targets: the app's PUT throughput at least 0.7 times curl's, and resident
memory growth at most 64 MB (MiB here). Each upload is deleted after its
round, so the engine's folder contains at most two copies.

Run from the repository root:

    .venv/bin/python -m tests.benchmarks.upload --rounds 3
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.benchmarks.machine import describe_machine, load_average, median
from tests.engine.engine_harness import EngineProcess

SIZE = 10**9
THROUGHPUT_RATIO_TARGET = 0.7
MEMORY_GROWTH_TARGET_MIB = 64.0
MAX_ROUNDS = 10
UPLOAD_TIMEOUT = 900.0
BLOCK_ROWS = 20_000


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rounds and print the table."""
    options = _parse_options(argv)
    curl = shutil.which("curl")
    if curl is None:
        raise SystemExit(
            "curl is not installed; it is the reference of this benchmark."
        )
    print(describe_machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as folder:
        data = Path(folder) / "upload.csv"
        _write_csv(data, options.size)
        engine = EngineProcess(Path(folder) / "engine", Path(folder) / "engine.log")
        try:
            engine.start()
            apps, curls = _run_rounds(engine, curl, data, options.rounds)
        finally:
            engine.close()
    _print_table(options.size, apps, curls)
    print(f"load average after: {load_average()}")
    return 0


def _parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="uploads per client")
    parser.add_argument("--size", type=int, default=SIZE, help="file size in bytes")
    options = parser.parse_args(argv)
    if not 1 <= options.rounds <= MAX_ROUNDS:
        parser.error(f"--rounds must be from 1 to {MAX_ROUNDS}")
    if not 1000 <= options.size <= 2**30:
        parser.error("--size must be from 1000 bytes to 1 GiB, the engine's limit")
    return options


def _write_csv(path: Path, size: int) -> None:
    """Write a CSV of numeric rows and a label, `size` bytes long, in blocks."""
    header = b"id,x1,x2,x3,x4,label\n"
    rows = [
        f"{index},{index % 97 * 0.5},{index % 13 - 6},{index % 1000 / 7:.4f},"
        f"{index * 31 % 1009},{'yes' if index % 3 else 'no'}\n"
        for index in range(BLOCK_ROWS)
    ]
    block = "".join(rows).encode()
    with path.open("wb") as handle:
        handle.write(header)
        written = len(header)
        while written + len(block) <= size:
            handle.write(block)
            written += len(block)
        # Whole rows only: the file may end a little short of `size`.
        rest = block[: size - written]
        handle.write(rest[: rest.rfind(b"\n") + 1])
    print(f"wrote {path.stat().st_size} bytes of CSV", flush=True)


def _run_rounds(
    engine: EngineProcess, curl: str, data: Path, rounds: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    apps: list[dict[str, Any]] = []
    curls: list[dict[str, Any]] = []
    for round_number in range(rounds):
        order = ("app", "curl") if round_number % 2 == 0 else ("curl", "app")
        for kind in order:
            if kind == "app":
                result = _upload_with_app(engine, data)
                apps.append(result)
            else:
                result = _upload_with_curl(engine, curl, data)
                curls.append(result)
            engine.client.delete(f"/uploads/{result['upload_id']}").raise_for_status()
            print(f"round {round_number + 1} {kind}: {_describe(result)}", flush=True)
    return apps, curls


def _upload_with_app(engine: EngineProcess, data: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "tests.benchmarks.upload_worker",
        engine.base_url,
        str(data),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=UPLOAD_TIMEOUT, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"The app's upload failed:\n{completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _upload_with_curl(engine: EngineProcess, curl: str, data: Path) -> dict[str, Any]:
    ticket = engine.client.post(
        "/uploads", json={"filename": data.name, "content_type": "text/csv"}
    )
    ticket.raise_for_status()
    body = ticket.json()
    command = [
        curl,
        "--silent",
        "--show-error",
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_code} %{time_total}",
        "--header",
        "Content-Type: text/csv",
        "--header",
        "Expect:",
        "--upload-file",
        str(data),
        body["presigned_url"],
    ]
    start = time.perf_counter()
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=UPLOAD_TIMEOUT, check=False
    )
    wall = time.perf_counter() - start
    code, _, curl_seconds = completed.stdout.partition(" ")
    if completed.returncode != 0 or code != "200":
        raise SystemExit(f"curl failed ({code}): {completed.stderr[-2000:]}")
    return {
        "upload_id": body["upload_id"],
        "put_seconds": float(curl_seconds),
        "wall_seconds": wall,
    }


def _describe(result: dict[str, Any]) -> str:
    text = f"PUT {result['put_seconds']:.2f} s"
    if "total_seconds" in result:
        growth = (result["resident_peak_kib"] - result["resident_before_kib"]) / 1024
        text += (
            f", whole upload {result['total_seconds']:.2f} s, resident memory "
            f"{result['resident_before_kib'] / 1024:.1f} MiB before, "
            f"+{growth:.1f} MiB at peak"
        )
    return text


def _print_table(
    size: int, apps: list[dict[str, Any]], curls: list[dict[str, Any]]
) -> None:
    app_put = median([result["put_seconds"] for result in apps])
    curl_put = median([result["put_seconds"] for result in curls])
    app_rate = size / app_put / 2**20
    curl_rate = size / curl_put / 2**20
    ratio = app_rate / curl_rate
    growths = [
        (result["resident_peak_kib"] - result["resident_before_kib"]) / 1024
        for result in apps
    ]
    growth = max(growths)
    statuses = median([result["status_seconds"] for result in apps])
    print()
    print(f"{size} bytes, {len(apps)} uploads each, medians")
    print("| figure | app client | curl | target | met |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| PUT seconds | {app_put:.2f} | {curl_put:.2f} | - | - |\n"
        f"| PUT MiB/s | {app_rate:.0f} | {curl_rate:.0f} | app >= "
        f"{THROUGHPUT_RATIO_TARGET} x curl ({ratio:.2f} x) | "
        f"{'yes' if ratio >= THROUGHPUT_RATIO_TARGET else 'NO'} |\n"
        f"| resident memory growth MiB (max of runs) | {growth:.1f} | - | <= "
        f"{MEMORY_GROWTH_TARGET_MIB:g} | "
        f"{'yes' if growth <= MEMORY_GROWTH_TARGET_MIB else 'NO'} |"
    )
    print(
        f"POST /uploads/status (the engine counts the rows): {statuses:.2f} s; "
        f"whole app upload {median([r['total_seconds'] for r in apps]):.2f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
