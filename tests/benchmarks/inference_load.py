"""Load the engine's /infer endpoint on loopback with an open-loop generator.

Steps:

1. Start a real engine process (`serve`, the same uvicorn settings as the app)
   on a loopback port with a temporary data folder, upload the breast cancer
   CSV of tests/data and build a model on it.
2. Steady load: RATE requests a second for DURATION seconds, spread over
   CONNECTIONS keep-alive connections (`load_client.py`), every request the
   same row. Latency counts from the time each request was due. Targets:
   median <= 5 ms, 99th percentile <= 25 ms, no errors.
3. Steps: 10 s at each rate of STEP_RATES, until the 99th percentile reaches
   50 ms or a request fails. The highest rate that stayed below is reported.
4. In process: the same row through the engine's `Predictor.predict_one` (the
   function /infer calls), and through the fitted pipeline's `predict_proba`
   on a one-row DataFrame, in this process. The ratio of the /infer median to
   these shows the cost of HTTP and the server.

Run from the repository root:

    .venv/bin/python -m tests.benchmarks.inference_load
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.benchmarks.load_client import LoadResult, post_request, run_open_loop
from tests.benchmarks.machine import (
    describe_machine,
    load_average,
    median,
    percentile,
)
from tests.engine.engine_harness import EngineProcess, data_file

DATASET = "breast_cancer.csv"
GOAL = "predict the diagnosis"
TARGET = "diagnosis"
MODEL = "load"
RATE = 200.0
DURATION = 30.0
CONNECTIONS = 100
MEDIAN_TARGET_MS = 5.0
P99_TARGET_MS = 25.0
STEP_P99_LIMIT_MS = 50.0
STEP_RATES = (200, 300, 400, 500, 600, 800, 1000, 1300, 1600, 2000)
STEP_DURATION = 10.0
WARM_UP_REQUESTS = 300
IN_PROCESS_CALLS = 3000
HTTPX_CALLS = 500
MAX_DURATION = 120.0


def main(argv: Sequence[str] | None = None) -> int:
    """Build the model, run the loads and print the results."""
    options = _parse_options(argv)
    print(describe_machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as folder:
        data_dir = Path(folder) / "data"
        engine = EngineProcess(data_dir, Path(folder) / "engine.log")
        try:
            engine.start()
            version, chosen = _build(engine, options.max_iterations)
            row = _first_row()
            path = f"/models/{MODEL}/{version}/infer"
            print(f"model {MODEL}:{version}, chosen approach: {chosen}", flush=True)
            _warm_up(engine, path, row)
            assert engine.process is not None
            steady, steps, httpx_cpu = asyncio.run(
                _run_loads(engine.base_url, path, row, options, engine.process.pid)
            )
        finally:
            engine.close()
        in_process = _time_in_process(data_dir, version, row)

    _print_results(steady, steps, in_process, httpx_cpu)
    print(f"load average after: {load_average()}")
    return 0


def _parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=RATE, help="requests a second")
    parser.add_argument(
        "--duration", type=float, default=DURATION, help="seconds of steady load"
    )
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help="keep-alive connections"
    )
    parser.add_argument(
        "--max-iterations", type=int, default=None, help="approaches the build tries"
    )
    parser.add_argument("--no-steps", action="store_true", help="skip the rate steps")
    options = parser.parse_args(argv)
    if not 0 < options.duration <= MAX_DURATION:
        parser.error(f"--duration must be above 0 and at most {MAX_DURATION}")
    if not 1 <= options.connections <= 1000:
        parser.error("--connections must be from 1 to 1000")
    return options


def _build(engine: EngineProcess, max_iterations: int | None) -> tuple[str, str]:
    upload_id = engine.upload(data_file(DATASET))
    fields: dict[str, Any] = {"goal": GOAL, "upload_id": upload_id}
    if max_iterations is not None:
        fields["max_iterations"] = max_iterations
    version = engine.start_build(MODEL, **fields)
    status = engine.wait_for(MODEL, version, timeout=600.0)
    if status["status"] != "completed":
        raise SystemExit(f"The build did not complete: {status}")
    return version, str(engine.describe(MODEL, version)["chosen"])


def _first_row() -> dict[str, Any]:
    header, values = data_file(DATASET).read_text().splitlines()[:2]
    return {
        name: float(text)
        for name, text in zip(header.split(","), values.split(","), strict=True)
        if name != TARGET
    }


def _warm_up(engine: EngineProcess, path: str, row: dict[str, Any]) -> None:
    for _ in range(WARM_UP_REQUESTS):
        engine.client.post(path, json=row).raise_for_status()


def process_cpu_seconds(pid: int) -> float:
    """Return the user and system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def _run_loads(
    base_url: str,
    path: str,
    row: dict[str, Any],
    options: argparse.Namespace,
    engine_pid: int,
) -> tuple[LoadResult, list[LoadResult], float]:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = post_request(host, port, path, row)
    httpx_cpu = await _httpx_cpu_per_request(base_url, path, row)

    engine_cpu = process_cpu_seconds(engine_pid)
    steady = await run_open_loop(
        host,
        port,
        request,
        rate=options.rate,
        duration=options.duration,
        connections=options.connections,
    )
    steady.server_cpu_seconds = process_cpu_seconds(engine_pid) - engine_cpu
    print(f"steady load done: {_summary(steady)}", flush=True)

    steps: list[LoadResult] = []
    if options.no_steps:
        return steady, steps, httpx_cpu
    for rate in STEP_RATES:
        result = await run_open_loop(
            host,
            port,
            request,
            rate=rate,
            duration=STEP_DURATION,
            connections=options.connections,
        )
        steps.append(result)
        print(f"{rate} requests/s: {_summary(result)}", flush=True)
        if result.error_count or _p99_ms(result) >= STEP_P99_LIMIT_MS:
            break
    return steady, steps, httpx_cpu


async def _httpx_cpu_per_request(
    base_url: str, path: str, row: dict[str, Any]
) -> float:
    """Return the CPU seconds httpx.AsyncClient spends per sequential request.

    The engine runs in another process, so this process's CPU time is the
    client's alone (plus idle waiting, which costs none).
    """
    async with httpx.AsyncClient(base_url=base_url) as client:
        await client.post(path, json=row)
        start = time.process_time()
        for _ in range(HTTPX_CALLS):
            (await client.post(path, json=row)).raise_for_status()
        return (time.process_time() - start) / HTTPX_CALLS


def _time_in_process(
    data_dir: Path, version: str, row: dict[str, Any]
) -> dict[str, list[float]]:
    from plexe_tui.engine.artifacts import load_model
    from plexe_tui.engine.inputs import frame_from_rows
    from plexe_tui.engine.predictor import Predictor
    from plexe_tui.engine.row_models import limit_server_threads
    from plexe_tui.engine.storage import Storage

    storage = Storage(data_dir)
    record = storage.read_build(MODEL, version)
    artifact = load_model(storage, record)
    predictor = Predictor(record.plan, artifact)
    limit_server_threads()
    frame = frame_from_rows([row], record.plan)
    pipeline = artifact.pipeline
    predict = pipeline.predict if artifact.classes is None else pipeline.predict_proba
    return {
        "Predictor.predict_one": _repeat(lambda: predictor.predict_one(row)),
        "pipeline predict on a 1-row DataFrame": _repeat(lambda: predict(frame)),
    }


def _repeat(call: Callable[[], object]) -> list[float]:
    for _ in range(100):
        call()
    timings = []
    for _ in range(IN_PROCESS_CALLS):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return timings


def _p99_ms(result: LoadResult) -> float:
    if not result.latencies:
        return float("inf")
    return percentile(result.latencies, 0.99) * 1000


def _summary(result: LoadResult) -> str:
    if not result.latencies:
        return f"no answers, errors {result.errors}"
    return (
        f"median {median(result.latencies) * 1000:.2f} ms, p99 "
        f"{_p99_ms(result):.2f} ms, max {max(result.latencies) * 1000:.1f} ms, "
        f"{len(result.latencies)} answered, errors {result.error_count}"
    )


def _print_results(
    steady: LoadResult,
    steps: list[LoadResult],
    in_process: dict[str, list[float]],
    httpx_cpu: float,
) -> None:
    latencies = steady.latencies
    middle = median(latencies) * 1000
    p99 = _p99_ms(steady)
    print()
    print(
        f"Steady {steady.rate:g} requests/s for {steady.duration:g} s "
        f"({len(latencies)} answered, {steady.error_count} errors "
        f"{steady.errors or ''})"
    )
    print("| figure | ms | target ms | met |")
    print("| --- | --- | --- | --- |")
    print(
        f"| median | {middle:.2f} | {MEDIAN_TARGET_MS:g} | "
        f"{'yes' if middle <= MEDIAN_TARGET_MS else 'NO'} |"
    )
    print(
        f"| 99th percentile | {p99:.2f} | {P99_TARGET_MS:g} | "
        f"{'yes' if p99 <= P99_TARGET_MS else 'NO'} |"
    )
    print(f"| 99.9th percentile | {percentile(latencies, 0.999) * 1000:.2f} | - | - |")
    print(f"| max | {max(latencies) * 1000:.2f} | - | - |")
    print(
        f"generator: {steady.client_cpu_seconds / max(1, len(latencies)) * 1e6:.0f} "
        f"us CPU per request (httpx.AsyncClient: {httpx_cpu * 1e6:.0f} us), "
        f"latest send {steady.max_send_delay * 1000:.1f} ms after its due time"
    )
    answered = max(1, len(latencies))
    print(
        f"engine process: {steady.server_cpu_seconds / answered * 1e6:.0f} us CPU "
        "per request"
    )

    passing = [
        step.rate
        for step in steps
        if not step.error_count and _p99_ms(step) < STEP_P99_LIMIT_MS
    ]
    if steps:
        highest = f"{max(passing):g} requests/s" if passing else "none of the steps"
        last = steps[-1]
        print(
            f"highest rate with p99 under {STEP_P99_LIMIT_MS:g} ms: {highest} "
            f"(stopped after {last.rate:g}/s: {_summary(last)})"
        )

    print()
    print("| in process | median ms | /infer median x |")
    print("| --- | --- | --- |")
    for name, timings in in_process.items():
        value = median(timings) * 1000
        print(f"| {name} | {value:.3f} | {middle / value:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
