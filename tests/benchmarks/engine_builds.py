"""Time engine builds against one default HistGradientBoosting fit, and check budgets.

For each dataset the script uploads a CSV to a real engine on a loopback port,
starts a build with a time budget (`timeout`) and `max_iterations`, and polls
its status every POLL_SECONDS, recording a timeline of phases and iterations.
When the build ends it reads describe's per-approach seconds. It then checks
that the build kept to its budget:

- the search ended (the first status in phase "refit" or later) within the
  budget, counted from the build's `started_at`;
- the approaches' seconds add up to at most the budget;
- the whole build (`elapsed_seconds`) ended within the budget.

The reference is one fit of scikit-learn's HistGradientBoostingClassifier or
Regressor with default settings and random_state=0 on all rows, in this
process, with one OpenMP thread and with the default (every core). Text
columns become pandas categories. Its median of 3 fits (`--fits`) is
compared with the build's elapsed time.

Datasets: breast cancer, diabetes and penguins from tests/data, and
scikit-learn's wine and digits, written to CSV in a temporary folder.

Run from the repository root:

    .venv/bin/python -m tests.benchmarks.engine_builds --budget 30
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from threadpoolctl import threadpool_limits

from tests.benchmarks.machine import describe_machine, load_average, median
from tests.engine.engine_harness import EngineProcess, data_file

POLL_SECONDS = 0.2
FITS = 3
# Seconds past the budget after which the script stops waiting for a build.
WAIT_MARGIN = 120.0
LATE_PHASES = ("refit", "saving")


@dataclass(frozen=True)
class Dataset:
    """A CSV to upload, the column to predict and the goal that names it."""

    name: str
    target: str
    goal: str


DATASETS = (
    Dataset("breast_cancer", "diagnosis", "predict the diagnosis"),
    Dataset("diabetes", "progression", "predict the disease progression"),
    Dataset("penguins", "species", "predict the species"),
    Dataset("wine", "cultivar", "predict the cultivar"),
    Dataset("digits", "digit", "predict the digit"),
)


@dataclass
class BuildRun:
    """One build: its timeline, its description and the reference fits."""

    dataset: Dataset
    timeline: list[tuple[float, str, str | None, int]] = field(default_factory=list)
    """(seconds since the build started, status, phase, iteration) per change."""
    describe: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    hgb_one_thread: list[float] = field(default_factory=list)
    hgb_default: list[float] = field(default_factory=list)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every build and print the tables."""
    options = _parse_options(argv)
    print(describe_machine(), flush=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-builds-") as folder:
        files = _dataset_files(Path(folder))
        engine = EngineProcess(Path(folder) / "engine", Path(folder) / "engine.log")
        try:
            engine.start()
            for dataset in DATASETS:
                if options.datasets and dataset.name not in options.datasets:
                    continue
                run = _build(engine, dataset, files[dataset.name], options)
                _fit_reference(run, files[dataset.name], options.fits)
                runs.append(run)
                print(f"{dataset.name}: {_line(run, options.budget)}", flush=True)
        finally:
            engine.close()
    _print_tables(runs, options.budget)
    print(f"load average after: {load_average()}")
    return 0


def _parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", type=float, default=30.0, help="build timeout in seconds"
    )
    parser.add_argument(
        "--max-iterations", type=int, default=20, help="approaches a build may try"
    )
    parser.add_argument(
        "--datasets", default="", help="comma-separated names (default: all five)"
    )
    parser.add_argument(
        "--fits", type=int, default=FITS, help="reference fits per thread setting"
    )
    options = parser.parse_args(argv)
    if not 1 <= options.budget <= 600:
        parser.error("--budget must be from 1 to 600 seconds")
    if not 1 <= options.fits <= 20:
        parser.error("--fits must be from 1 to 20")
    options.datasets = [name for name in options.datasets.split(",") if name]
    return options


def _dataset_files(folder: Path) -> dict[str, Path]:
    """Return the CSV of every dataset, writing scikit-learn's two into `folder`."""
    from sklearn.datasets import load_digits, load_wine

    files = {name: data_file(f"{name}.csv") for name in ("breast_cancer", "diabetes")}
    files["penguins"] = data_file("penguins.csv")
    for name, loader, target in (
        ("wine", load_wine, "cultivar"),
        ("digits", load_digits, "digit"),
    ):
        bunch = loader(as_frame=True)
        frame = bunch.frame.drop(columns="target")
        labels = {code: f"class_{name}" for code, name in enumerate(bunch.target_names)}
        frame[target] = bunch.target.map(labels)
        files[name] = folder / f"{name}.csv"
        frame.to_csv(files[name], index=False)
    return files


def _build(
    engine: EngineProcess, dataset: Dataset, path: Path, options: argparse.Namespace
) -> BuildRun:
    run = BuildRun(dataset)
    upload_id = engine.upload(path)
    requested = time.perf_counter()
    version = engine.start_build(
        dataset.name,
        goal=dataset.goal,
        upload_id=upload_id,
        max_iterations=options.max_iterations,
        timeout=options.budget,
    )
    deadline = time.monotonic() + options.budget + WAIT_MARGIN
    last: tuple[str, str | None, int] | None = None
    while time.monotonic() < deadline:
        status = engine.status(dataset.name, version)
        current = (status["status"], status["phase"], status["iteration"])
        if current != last:
            run.timeline.append((_since_start(engine, dataset.name, version), *current))
            last = current
        if status["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(POLL_SECONDS)
    run.wall_seconds = time.perf_counter() - requested
    run.describe = engine.describe(dataset.name, version)
    return run


def _since_start(engine: EngineProcess, name: str, version: str) -> float:
    """Return seconds since the build's started_at, or 0 before it started."""
    started = engine.build_record(name, version)["state"]["started_at"]
    if started is None:
        return 0.0
    moment = datetime.fromisoformat(started.replace("Z", "+00:00"))
    return time.time() - moment.timestamp()


def _fit_reference(run: BuildRun, path: Path, fits: int) -> None:
    frame = pd.read_csv(path)
    target = frame.pop(run.dataset.target)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("category")
    if run.describe.get("task") == "regression":
        model_class: Any = HistGradientBoostingRegressor
        y = target
    else:
        model_class = HistGradientBoostingClassifier
        y = target.astype(str)
    for threads, timings in ((1, run.hgb_one_thread), (None, run.hgb_default)):
        for _ in range(fits):
            with threadpool_limits(limits=threads, user_api="openmp"):
                start = time.perf_counter()
                model_class(random_state=0).fit(frame, y)
                timings.append(time.perf_counter() - start)


def _search_end(run: BuildRun) -> float | None:
    """Return when the timeline first showed the refit or a later phase."""
    for seconds, status, phase, _ in run.timeline:
        if phase in LATE_PHASES or status in ("completed", "failed"):
            return seconds
    return None


def _line(run: BuildRun, budget: float) -> str:
    describe = run.describe
    elapsed = describe.get("elapsed_seconds") or 0.0
    hgb = median(run.hgb_one_thread)
    return (
        f"{describe['status']}, {describe.get('task')}, "
        f"chose {describe.get('chosen')}, "
        f"{len(describe.get('approaches', []))} approaches, elapsed {elapsed:.1f} s "
        f"of {budget:g}, HGB fit {hgb:.2f} s (1 thread)"
    )


def _print_tables(runs: list[BuildRun], budget: float) -> None:
    print()
    print(
        "| dataset | rows | task | status | build s | HGB fit s, 1 thread / "
        "default | build x HGB (1 thread) | approaches | chosen |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in runs:
        describe = run.describe
        elapsed = describe.get("elapsed_seconds") or 0.0
        one, default = median(run.hgb_one_thread), median(run.hgb_default)
        print(
            f"| {run.dataset.name} | {describe.get('rows_used')} | "
            f"{describe.get('task')} | {describe['status']} | {elapsed:.1f} | "
            f"{one:.2f} / {default:.2f} | {elapsed / one:.0f} | "
            f"{len(describe.get('approaches', []))} | {describe.get('chosen')} |"
        )

    print()
    print(
        f"| dataset | search ended s | approaches' seconds summed | build s | "
        f"within {budget:g} s budget | slowest approach |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for run in runs:
        approaches = run.describe.get("approaches", [])
        summed = sum(approach["seconds"] for approach in approaches)
        slowest = max(approaches, key=lambda approach: approach["seconds"], default={})
        ended = _search_end(run)
        elapsed = run.describe.get("elapsed_seconds") or 0.0
        within = (
            ended is not None and ended <= budget and summed <= budget
        ) and elapsed <= budget
        ended_text = f"{ended:.1f}" if ended is not None else "never"
        slowest_text = (
            f"{slowest['name']} {slowest['seconds']:.1f} s" if slowest else "-"
        )
        print(
            f"| {run.dataset.name} | {ended_text} | {summed:.1f} | {elapsed:.1f} | "
            f"{'yes' if within else 'NO'} | {slowest_text} |"
        )
    print(
        f"Times count from the build's started_at; the timeline was polled every "
        f"{POLL_SECONDS} s, so 'search ended' is up to that late."
    )


if __name__ == "__main__":
    sys.exit(main())
