"""Measure the engine's peak memory when it plans and trains on a large CSV file.

Not a test: run it by hand on Linux, for example from the repository root::

    python tests/engine/measure_memory.py --size-mb 1024

It writes a CSV of about the given size to a temporary folder, with 10 float
columns, a text column and a binary target. Then it starts an engine there,
uploads the file with a streamed PUT, confirms the upload, starts a build and
waits for it. It prints the server's peak resident memory (VmHWM) after each
step, and the training process's peak, sampled every 0.2 s, in MiB. To measure
another version of the engine, put its source folder first on PYTHONPATH and
run the script from outside the repository.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from engine_harness import EngineProcess

ROWS_PER_CHUNK = 200_000
POLL_SECONDS = 0.2
MAX_BUILD_SECONDS = 1800.0


def main() -> int:
    """Write the file, drive the engine and print the peaks."""
    options = _parse_options()
    with tempfile.TemporaryDirectory(prefix="measure-memory-") as name:
        folder = Path(name)
        path = _write_csv(folder / "large.csv", options.size_mb << 20)
        print(f"file: {path.stat().st_size >> 20} MiB")
        engine = EngineProcess(folder / "data", folder / "engine.log")
        try:
            engine.start()
            _measure(engine, path, options)
        finally:
            engine.close()
    return 0


def _parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB")
    parser.add_argument(
        "--max-iterations", type=int, default=2, help="approaches the build tries"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="the build's timeout in seconds"
    )
    parser.add_argument(
        "--plan-only",
        action="store_true",
        help="cancel the build after planning instead of waiting for it",
    )
    return parser.parse_args()


def _write_csv(path: Path, size: int) -> Path:
    generator = np.random.default_rng(0)
    with path.open("w") as file:
        file.write(",".join([*(f"x{i}" for i in range(10)), "kind", "label"]) + "\n")
        while file.tell() < size:
            numbers = generator.normal(size=(ROWS_PER_CHUNK, 10)).round(4)
            kinds = generator.choice(["alpha", "beta", "gamma"], ROWS_PER_CHUNK)
            labels = (numbers[:, 0] + numbers[:, 1] > 0).astype(int)
            lines = [
                ",".join(map(str, row)) + f",{kind},{label}\n"
                for row, kind, label in zip(numbers, kinds, labels, strict=True)
            ]
            file.writelines(lines)
    return path


def _measure(engine: EngineProcess, path: Path, options: argparse.Namespace) -> None:
    assert engine.process is not None
    server = engine.process.pid
    print(f"server after start: {_peak_mib(server)} MiB")

    upload_id = _upload(engine, path)
    print(f"server after upload and row count: {_peak_mib(server)} MiB")

    started = time.monotonic()
    version = engine.start_build(
        "large",
        goal="predict the label",
        upload_id=upload_id,
        max_iterations=options.max_iterations,
        timeout=options.timeout,
    )
    print(
        f"server after planning (POST /models took "
        f"{time.monotonic() - started:.1f} s): {_peak_mib(server)} MiB"
    )

    if options.plan_only:
        engine.client.delete(f"/models/large/{version}")
        return
    status, training_peak = _wait_sampling(engine, version)
    print(f"training process peak: {training_peak} MiB")
    print(f"build {status['status']} in {status.get('elapsed_seconds')} s: {status}")


def _upload(engine: EngineProcess, path: Path) -> str:
    created = engine.client.post(
        "/uploads", json={"filename": path.name, "content_type": "text/csv"}
    ).json()
    with path.open("rb") as file:
        put = httpx.put(created["presigned_url"], content=file, timeout=600)
        put.raise_for_status()
    done = engine.client.post(
        "/uploads/status",
        json={"upload_id": created["upload_id"], "s3_key": created["key"]},
        timeout=600,
    )
    done.raise_for_status()
    print(f"rows: {done.json()['rows']}")
    return str(created["upload_id"])


def _wait_sampling(engine: EngineProcess, version: str) -> tuple[dict[str, Any], int]:
    peak = 0
    deadline = time.monotonic() + MAX_BUILD_SECONDS
    status = engine.status("large", version)
    while status["status"] in ("pending", "building"):
        if time.monotonic() > deadline:
            raise SystemExit(f"the build did not end in {MAX_BUILD_SECONDS} s")
        for pid in engine.training_process_ids():
            peak = max(peak, _peak_mib(pid))
        time.sleep(POLL_SECONDS)
        status = engine.status("large", version)
    return status, peak


def _peak_mib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            line = next(line for line in status if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        return 0
    return int(line.split()[1]) >> 10


if __name__ == "__main__":
    sys.exit(main())
