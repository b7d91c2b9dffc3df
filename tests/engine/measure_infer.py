"""Measure single-row /infer latency of a real engine over loopback.

Not a test: run it by hand, for example from the repository root::

    python tests/engine/measure_infer.py --requests 500

It starts an engine in a temporary folder, builds a model on a test dataset,
sends warm-up requests, then times sequential requests on one keep-alive
connection and prints the median and 99th percentile in milliseconds.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine_harness import EngineProcess, data_file

# Dataset name -> (goal, target column).
DATASETS = {
    "breast_cancer.csv": ("predict the diagnosis", "diagnosis"),
    "penguins.csv": ("predict the species", "species"),
    "diabetes.csv": ("predict progression", "progression"),
}
WARM_UP_REQUESTS = 50
MAX_REQUESTS = 100_000


def main() -> int:
    """Build a model, time the requests and print the result."""
    options = _parse_options()
    goal, target = DATASETS[options.dataset]
    with tempfile.TemporaryDirectory(prefix="measure-infer-") as folder:
        engine = EngineProcess(Path(folder) / "data", Path(folder) / "engine.log")
        try:
            engine.start()
            version, chosen = _build(engine, options, goal)
            row = _first_row(options.dataset, target)
            url = f"/models/measure/{version}/infer"
            seconds = _time_requests(engine, url, row, options.requests)
        finally:
            engine.close()

    milliseconds = sorted(value * 1000 for value in seconds)
    p99 = milliseconds[min(len(milliseconds) - 1, int(0.99 * len(milliseconds)))]
    print(f"dataset {options.dataset}, chosen approach {chosen}")
    print(f"{len(milliseconds)} sequential requests")
    print(f"median {statistics.median(milliseconds):.2f} ms, p99 {p99:.2f} ms")
    return 0


def _parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="timed requests")
    parser.add_argument(
        "--dataset", choices=sorted(DATASETS), default="breast_cancer.csv"
    )
    parser.add_argument(
        "--max-iterations", type=int, default=3, help="approaches the build tries"
    )
    options = parser.parse_args()
    if not 1 <= options.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be between 1 and {MAX_REQUESTS}")
    return options


def _build(
    engine: EngineProcess, options: argparse.Namespace, goal: str
) -> tuple[str, str]:
    upload_id = engine.upload(data_file(options.dataset))
    version = engine.start_build(
        "measure",
        goal=goal,
        upload_id=upload_id,
        max_iterations=options.max_iterations,
    )
    status = engine.wait_for("measure", version)
    if status["status"] != "completed":
        raise SystemExit(f"the build did not complete: {status}")
    described = engine.client.get(f"/models/measure/{version}/describe").json()
    return version, str(described["chosen"])


def _first_row(dataset: str, target: str) -> dict[str, Any]:
    header, values = data_file(dataset).read_text().splitlines()[:2]
    row: dict[str, Any] = {}
    for name, text in zip(header.split(","), values.split(","), strict=True):
        if name != target:
            row[name] = _json_value(text)
    return row


def _json_value(text: str) -> Any:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _time_requests(
    engine: EngineProcess, url: str, row: dict[str, Any], count: int
) -> list[float]:
    for _ in range(WARM_UP_REQUESTS):
        engine.client.post(url, json=row).raise_for_status()
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        response = engine.client.post(url, json=row)
        seconds.append(time.perf_counter() - started)
        response.raise_for_status()
    return seconds


if __name__ == "__main__":
    sys.exit(main())
