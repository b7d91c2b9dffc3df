"""Compare the local engine with FLAML and default HistGradientBoosting.

Each dataset is split into outer folds (stratified for classification, seed 0),
and the same folds go to three systems, one after another on the same machine:

1. The engine, a real process on a loopback port. It gets the fold's training
   rows through the upload flow, a goal naming the target, the metric, and the
   budget as the build's ``timeout``. Its test predictions come from the batch
   ``/predictions`` endpoint.
2. FLAML, with the same metric and ``time_budget``, in its own virtual
   environment (``tests/benchmarks/.venv-flaml``, created on first use).
3. HistGradientBoosting with default settings, fitted in this process, as a floor.

Metrics: ROC AUC (binary), log loss (multiclass), RMSE (regression). The engine's
builds ask for every class's probability through their ``output_schema``. An
engine that returns only the top class and its probability is compared on
``log_loss_top`` for multiclass data, the log loss computable from that output
(see ``scoring.log_loss_from_top``).

Run from the repository root, with the project's environment:

    .venv/bin/python -m tests.benchmarks.engine_vs_flaml --quick
    .venv/bin/python -m tests.benchmarks.engine_vs_flaml --budget 30

The first run creates the FLAML environment, which takes a few minutes.
"""

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from tests.benchmarks.scoring import compare, score
from tests.benchmarks.systems import (
    ROOT,
    SEED,
    EngineSystem,
    FlamlSystem,
    FoldTask,
    Outcome,
    build_timeout,
    ensure_side_venv,
    export_datasets,
    extract_commit,
    fit_default_hgb,
    python_versions,
    side_versions,
)

DEFAULT_BUDGET = 30.0
DEFAULT_FOLDS = 5
DEFAULT_MAX_ITERATIONS = 20
QUICK_BUDGET = 10.0
QUICK_FOLDS = 2
# One dataset of each task.
QUICK_DATASETS = ("breast_cancer", "wine", "diabetes")
# A build over budget by more than this share counts as an overrun.
OVERRUN_SHARE = 0.10
METRIC_FOR_TASK = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
SYSTEMS = ("engine", "flaml", "hgb")


@dataclass(frozen=True)
class Dataset:
    """A benchmark dataset: its target column, task and the goal sent to the engine."""

    name: str
    target: str
    task: str
    goal: str

    @property
    def metric(self) -> str:
        """The AutoML Benchmark's default metric for the task."""
        return METRIC_FOR_TASK[self.task]


DATASETS = {
    dataset.name: dataset
    for dataset in (
        Dataset("breast_cancer", "diagnosis", "binary", "predict the diagnosis"),
        Dataset("wine", "cultivar", "multiclass", "predict the cultivar"),
        Dataset("digits", "digit", "multiclass", "predict the digit"),
        Dataset("diabetes", "progression", "regression", "predict the progression"),
        Dataset("penguins", "species", "multiclass", "predict the species"),
        Dataset(
            "cars", "Miles_per_Gallon", "regression", "predict the miles per gallon"
        ),
        Dataset("seattle_weather", "weather", "multiclass", "predict the weather"),
        Dataset("fair", "had_affair", "binary", "predict whether had affair"),
    )
}


@dataclass
class FoldRecord:
    """One system's result on one fold, as printed and saved."""

    dataset: str
    fold: int
    system: str
    seconds: float
    scores: dict[str, float]
    error: str | None
    details: dict[str, Any]


def main() -> int:
    """Run the benchmark and print the per-fold lines and the summary tables."""
    options = parse_options()
    if options.report is not None:
        return report_saved_run(options.report)
    started = time.monotonic()
    environment = describe_machine()
    print_environment(environment, options)

    python = ensure_side_venv()
    environment["benchmark_venv"] = side_versions(python)
    print(f"benchmark venv: {environment['benchmark_venv']}", flush=True)

    work_dir = Path(tempfile.mkdtemp(prefix="engine-vs-flaml-"))
    records: list[FoldRecord] = []
    source_root = None
    if options.engine_commit:
        source_root = extract_commit(options.engine_commit, work_dir / "engine-source")
    engine = EngineSystem(work_dir, options.budget, options.max_iterations, source_root)
    environment["engine_fingerprint"] = engine.fingerprint()
    environment["engine_commit"] = options.engine_commit or "working tree"
    print(
        f"engine source: {environment['engine_commit']}, "
        f"fingerprint {environment['engine_fingerprint']}",
        flush=True,
    )
    try:
        export_datasets(python, options.datasets, work_dir / "datasets")
        engine.start()
        flaml = FlamlSystem(python, options.budget)
        print_fold_header()
        for fold in fold_tasks(options, work_dir):
            records.extend(run_fold(fold, engine, flaml))
    finally:
        engine.close()
        if options.keep_files:
            print(f"files kept in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)

    wall_seconds = time.monotonic() - started
    summaries = print_report(options, records, wall_seconds)
    if options.json is not None:
        save_json(options, environment, records, summaries, wall_seconds)
    return 0


def print_report(
    options: argparse.Namespace, records: list[FoldRecord], wall_seconds: float
) -> list[dict[str, Any]]:
    """Print the summary tables and totals of a run, and return the summaries."""
    summaries = [
        summarise(DATASETS[name], records, options) for name in options.datasets
    ]
    print()
    print(summary_table(summaries, options))
    print()
    print(detail_table(summaries))
    print()
    print(totals_line(summaries, records, wall_seconds))
    fingerprints = sorted(
        {r.details["engine_fingerprint"] for r in records if r.system == "engine"}
    )
    if len(fingerprints) > 1:
        print(f"WARNING: the engine's source changed during the run: {fingerprints}")
    return summaries


def report_saved_run(path: Path) -> int:
    """Print the tables of a run saved with --json, without running anything."""
    document = json.loads(path.read_text())
    options = argparse.Namespace(**document["options"])
    records = [FoldRecord(**record) for record in document["records"]]
    print_report(options, records, document["wall_seconds"])
    return 0


def parse_options() -> argparse.Namespace:
    """Parse the command line and fill in the defaults that depend on --quick."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.engine_vs_flaml",
        description="Compare the local engine with FLAML and default "
        "HistGradientBoosting at equal time budgets, by outer cross-validation.",
    )
    parser.add_argument(
        "--budget",
        type=float,
        help=f"seconds per build for the engine and FLAML (default {DEFAULT_BUDGET:g}"
        f", {QUICK_BUDGET:g} with --quick)",
    )
    parser.add_argument(
        "--datasets",
        help=f"comma-separated dataset names (default all: {', '.join(DATASETS)})",
    )
    parser.add_argument(
        "--folds",
        type=int,
        help=f"outer folds (default {DEFAULT_FOLDS}, {QUICK_FOLDS} with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_FOLDS} folds of {', '.join(QUICK_DATASETS)} with a "
        f"{QUICK_BUDGET:g} s budget, unless the options above say otherwise",
    )
    parser.add_argument(
        "--max-iterations",
        type=int,
        default=DEFAULT_MAX_ITERATIONS,
        help="max_iterations sent with each engine build "
        f"(default {DEFAULT_MAX_ITERATIONS})",
    )
    parser.add_argument(
        "--engine-commit",
        metavar="REVISION",
        help="run the engine from this git revision of plexe_tui instead of the "
        "working tree, e.g. HEAD while the working tree is being edited",
    )
    parser.add_argument("--json", type=Path, help="also write all results to this file")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="JSON",
        help="print the tables of a run saved with --json, and run nothing",
    )
    parser.add_argument(
        "--keep-files",
        action="store_true",
        help="keep the fold CSVs, engine data folder and engine log",
    )
    options = parser.parse_args()

    if options.budget is None:
        options.budget = QUICK_BUDGET if options.quick else DEFAULT_BUDGET
    if options.folds is None:
        options.folds = QUICK_FOLDS if options.quick else DEFAULT_FOLDS
    if options.datasets is None:
        names = list(QUICK_DATASETS) if options.quick else list(DATASETS)
    else:
        names = [name.strip() for name in options.datasets.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        parser.error(f"unknown datasets {unknown}; use names from {list(DATASETS)}")
    if options.budget <= 0:
        parser.error("--budget must be a positive number of seconds")
    if options.folds < 2:
        parser.error("--folds must be at least 2")
    options.datasets = names
    return options


def describe_machine() -> dict[str, Any]:
    """Return the machine, Python and package facts recorded with the results."""
    cpu_model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "memory": memory,
        "cpu": cpu_model,
        "platform": platform.platform(),
        "commit": commit,
        "main_venv": python_versions(),
    }


def print_environment(environment: dict[str, Any], options: argparse.Namespace) -> None:
    """Print the machine, the run's settings and the per-build timeout."""
    print(
        f"{environment['date']}  {environment['cores']} cores, "
        f"{environment['memory']}, {environment['cpu']}"
    )
    print(f"repository at commit {environment['commit']}")
    print(f"main venv: {environment['main_venv']}")
    print(
        f"budget {options.budget:g} s, {options.folds} folds, max_iterations "
        f"{options.max_iterations}, build timeout {build_timeout(options.budget):g} s, "
        f"datasets {', '.join(options.datasets)}",
        flush=True,
    )


def fold_tasks(
    options: argparse.Namespace, work_dir: Path
) -> Iterator[tuple[FoldTask, np.ndarray]]:
    """Split each dataset into outer folds, write each fold's CSV files, and yield
    each fold with its test targets."""
    for name in options.datasets:
        dataset = DATASETS[name]
        classification = dataset.task != "regression"
        target_type = str if classification else float
        table = pd.read_csv(
            work_dir / "datasets" / f"{name}.csv", dtype={dataset.target: target_type}
        )
        table = table.dropna(subset=[dataset.target]).reset_index(drop=True)
        y = table[dataset.target]
        splitter: StratifiedKFold | KFold
        if classification:
            splitter = StratifiedKFold(options.folds, shuffle=True, random_state=SEED)
        else:
            splitter = KFold(options.folds, shuffle=True, random_state=SEED)
        for fold, (train_rows, test_rows) in enumerate(splitter.split(table, y)):
            folder = work_dir / "folds" / name / str(fold)
            folder.mkdir(parents=True)
            train = table.iloc[train_rows].reset_index(drop=True)
            test = table.iloc[test_rows].reset_index(drop=True)
            test_features = test.drop(columns=dataset.target)
            train.to_csv(folder / "train.csv", index=False)
            test_features.to_csv(folder / "test.csv", index=False)
            yield (
                FoldTask(
                    dataset=name,
                    target=dataset.target,
                    task=dataset.task,
                    metric=dataset.metric,
                    goal=dataset.goal,
                    fold=fold,
                    train_path=folder / "train.csv",
                    test_path=folder / "test.csv",
                    train=train,
                    test_features=test_features,
                ),
                test[dataset.target].to_numpy(),
            )


def run_fold(
    item: tuple[FoldTask, np.ndarray], engine: EngineSystem, flaml: FlamlSystem
) -> list[FoldRecord]:
    """Run the three systems on one fold, print a line for each and return them."""
    fold, y_true = item
    records = []
    runs = (
        ("engine", engine.fit_predict),
        ("flaml", flaml.fit_predict),
        ("hgb", fit_default_hgb),
    )
    for system, fit_predict in runs:
        outcome: Outcome = fit_predict(fold)
        # Other processes on the machine slow every system, so the 1-minute load
        # average just after the fit is kept to show how busy the machine was.
        outcome.details["load_average"] = round(os.getloadavg()[0], 2)
        scores: dict[str, float] = {}
        error = outcome.error
        if outcome.predictions is not None:
            try:
                scores = score(fold.task, y_true, outcome.predictions)
            except (ValueError, KeyError, IndexError) as problem:
                error = f"scoring failed: {type(problem).__name__}: {problem}"
        record = FoldRecord(
            fold.dataset,
            fold.fold,
            system,
            round(outcome.seconds, 3),
            scores,
            error,
            outcome.details,
        )
        print_fold_line(record)
        records.append(record)
    return records


def print_fold_header() -> None:
    """Print the column names of the per-fold lines."""
    print()
    print(f"{'dataset':<16}{'fold':>4}  {'system':<7}{'seconds':>8}  scores / notes")


def print_fold_line(record: FoldRecord) -> None:
    """Print one system's fold result on one line."""
    scores = ", ".join(f"{name}={value:.4f}" for name, value in record.scores.items())
    note = ""
    if record.system == "engine" and record.details.get("chosen"):
        note = (
            f"chose {record.details['chosen']} of "
            f"{scored_approaches(record)} scored approaches"
        )
        if record.details.get("search_note"):
            note += " (stopped by the timeout)"
    if record.system == "flaml" and record.details.get("best_estimator"):
        note = f"best {record.details['best_estimator']}"
    if record.error:
        note = f"FAILED: {record.error[:300]}"
    print(
        f"{record.dataset:<16}{record.fold:>4}  {record.system:<7}"
        f"{record.seconds:>8.1f}  {scores}  {note}",
        flush=True,
    )


def scored_approaches(record: FoldRecord) -> int:
    """Return how many approaches of an engine build have a cross-validated score.

    Approaches that failed, or that the build's timeout cut short, have none.
    """
    approaches = record.details.get("approaches") or []
    return sum(1 for approach in approaches if approach.get("metric_value") is not None)


def comparison_metric(dataset: Dataset, records: list[FoldRecord]) -> str:
    """Return the metric that the engine's and every other system's folds have.

    This is the dataset's metric, or ``log_loss_top`` for multiclass data when
    the engine returned only the top class or produced no predictions at all.
    """
    scored = [r for r in records if r.dataset == dataset.name and r.scores]
    engine_scored = [r for r in scored if r.system == "engine"]
    if engine_scored and all(dataset.metric in r.scores for r in scored):
        return dataset.metric
    if dataset.task == "multiclass":
        return "log_loss_top"
    return dataset.metric


def summarise(
    dataset: Dataset, records: list[FoldRecord], options: argparse.Namespace
) -> dict[str, Any]:
    """Return one dataset's statistics: means, stds, timing and comparisons."""
    metric = comparison_metric(dataset, records)
    mine = [r for r in records if r.dataset == dataset.name]
    by_system: dict[str, dict[int, FoldRecord]] = {
        system: {r.fold: r for r in mine if r.system == system} for system in SYSTEMS
    }
    limit = options.budget * (1 + OVERRUN_SHARE)
    summary: dict[str, Any] = {"dataset": dataset.name, "metric": metric}
    for system in SYSTEMS:
        summary[system] = system_summary(
            list(by_system[system].values()), metric, limit
        )

    engine_folds = list(by_system["engine"].values())
    summary["engine"]["chosen"] = [r.details.get("chosen") for r in engine_folds]
    summary["engine"]["approaches_scored"] = [
        scored_approaches(r) for r in engine_folds
    ]
    summary["engine"]["stopped_by_timeout"] = sum(
        1 for r in engine_folds if r.details.get("search_note")
    )
    summary["flaml"]["best_estimators"] = [
        r.details.get("best_estimator") for r in by_system["flaml"].values()
    ]

    for other in ("flaml", "hgb"):
        engine_scores, other_scores = paired_scores(
            by_system["engine"], by_system[other], metric
        )
        summary[f"vs_{other}"] = compare(metric, engine_scores, other_scores).__dict__
    return summary


def system_summary(
    folds: list[FoldRecord], metric: str, overrun_limit: float
) -> dict[str, Any]:
    """Return one system's mean and std of ``metric``, failures and timing."""
    values = [r.scores[metric] for r in folds if metric in r.scores]
    seconds = [r.seconds for r in folds]
    accuracy = [r.scores["accuracy"] for r in folds if "accuracy" in r.scores]
    full_log_loss = [r.scores["log_loss"] for r in folds if "log_loss" in r.scores]
    loads = [r.details["load_average"] for r in folds if "load_average" in r.details]
    return {
        "values": values,
        "mean": mean(values),
        "std": sample_std(values),
        "failures": sum(1 for r in folds if r.error),
        "mean_seconds": mean(seconds),
        "max_seconds": max(seconds) if seconds else math.nan,
        "overruns": sum(1 for r in folds if r.seconds > overrun_limit),
        "accuracy": mean(accuracy),
        "full_log_loss": mean(full_log_loss),
        "load_average": mean(loads),
    }


def paired_scores(
    engine: dict[int, FoldRecord], other: dict[int, FoldRecord], metric: str
) -> tuple[list[float], list[float]]:
    """Return the two systems' scores on the folds where both have ``metric``."""
    engine_scores, other_scores = [], []
    for fold, record in sorted(other.items()):
        if fold in engine and metric in engine[fold].scores and metric in record.scores:
            engine_scores.append(engine[fold].scores[metric])
            other_scores.append(record.scores[metric])
    return engine_scores, other_scores


def mean(values: list[float]) -> float:
    """Return the mean, or NaN for no values."""
    return float(np.mean(values)) if values else math.nan


def sample_std(values: list[float]) -> float:
    """Return the sample standard deviation (ddof=1), or NaN for fewer than 2."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def format_number(value: float, decimals: int) -> str:
    """Format a number with fixed decimals, or "-" for NaN."""
    return "-" if math.isnan(value) else f"{value:.{decimals}f}"


def mean_std(system: dict[str, Any]) -> str:
    """Format a system's mean ± std, with the failed folds if there were any."""
    if math.isnan(system["mean"]):
        text = "failed"
    elif math.isnan(system["std"]):
        text = f"{system['mean']:.4f}"
    else:
        text = f"{system['mean']:.4f} ± {system['std']:.4f}"
    if system["failures"]:
        text += f" ({system['failures']} failed)"
    return text


def verdict(comparison: dict[str, Any]) -> str:
    """Format an outcome with the error ratio, e.g. ``loss x1.35``."""
    ratio = comparison["error_ratio"]
    ratio_text = "" if math.isnan(ratio) else f" x{ratio:.2f}"
    return f"{comparison['outcome']}{ratio_text}"


def summary_table(summaries: list[dict[str, Any]], options: argparse.Namespace) -> str:
    """Return the main results as a Markdown table."""
    lines = [
        f"Budget {options.budget:g} s per build, {options.folds} outer folds. "
        "Scores are mean ± sample std over the folds. xR is the engine's mean "
        "error divided by the other system's (error = 1 - AUC, log loss or RMSE), "
        "so above 1 means the engine is worse.",
        "",
        "| dataset | metric | engine | FLAML | default HGB | engine vs FLAML "
        "| engine vs HGB | engine s (mean / max) | FLAML s (mean / max) "
        "| over budget +10%: engine / FLAML |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for summary in summaries:
        engine, flaml = summary["engine"], summary["flaml"]
        lines.append(
            f"| {summary['dataset']} | {summary['metric']} | {mean_std(engine)} "
            f"| {mean_std(flaml)} | {mean_std(summary['hgb'])} "
            f"| {verdict(summary['vs_flaml'])} | {verdict(summary['vs_hgb'])} "
            f"| {engine['mean_seconds']:.1f} / {engine['max_seconds']:.1f} "
            f"| {flaml['mean_seconds']:.1f} / {flaml['max_seconds']:.1f} "
            f"| {engine['overruns']} / {flaml['overruns']} of "
            f"{len(engine['chosen'])} |"
        )
    return "\n".join(lines)


def detail_table(summaries: list[dict[str, Any]]) -> str:
    """Return accuracy, full log loss and what each system chose, as Markdown."""
    lines = [
        "Accuracy and the full log loss are secondary figures. Load average is the "
        f"mean 1-minute load after each fit, on {os.cpu_count()} cores.",
        "",
        "| dataset | accuracy engine / FLAML / HGB | full log loss FLAML / HGB "
        "| engine chose (approaches scored) | engine search stopped by timeout "
        "| FLAML best "
        "| load average |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for summary in summaries:
        engine, flaml, hgb = summary["engine"], summary["flaml"], summary["hgb"]
        accuracy = " / ".join(
            format_number(s["accuracy"], 4) for s in (engine, flaml, hgb)
        )
        full = " / ".join(format_number(s["full_log_loss"], 4) for s in (flaml, hgb))
        chosen = ", ".join(
            "failed" if name is None else f"{name} ({tried})"
            for name, tried in zip(
                engine["chosen"], engine["approaches_scored"], strict=True
            )
        )
        best = ", ".join(str(name) for name in flaml["best_estimators"])
        load_averages = [s["load_average"] for s in (engine, flaml, hgb)]
        lines.append(
            f"| {summary['dataset']} | {accuracy} | {full} | {chosen} "
            f"| {engine['stopped_by_timeout']} | {best} "
            f"| {format_number(mean(load_averages), 1)} |"
        )
    return "\n".join(lines)


def totals_line(
    summaries: list[dict[str, Any]], records: list[FoldRecord], wall_seconds: float
) -> str:
    """Return the win/tie/loss counts over datasets and the run's wall time."""
    parts = []
    for other, label in (("flaml", "FLAML"), ("hgb", "default HGB")):
        outcomes = [summary[f"vs_{other}"]["outcome"] for summary in summaries]
        counts = ", ".join(
            f"{outcomes.count(word)} {word}"
            for word in ("win", "tie", "loss", "n/a")
            if outcomes.count(word)
        )
        parts.append(f"engine vs {label}: {counts}")
    failures = sum(1 for record in records if record.error)
    return (
        f"{'; '.join(parts)}. Failed fits: {failures} of {len(records)}. "
        f"Wall time {wall_seconds / 60:.1f} min."
    )


def save_json(
    options: argparse.Namespace,
    environment: dict[str, Any],
    records: list[FoldRecord],
    summaries: list[dict[str, Any]],
    wall_seconds: float,
) -> None:
    """Write the settings, environment, every fold record and the summaries."""
    document = {
        "options": {
            "budget": options.budget,
            "folds": options.folds,
            "datasets": options.datasets,
            "max_iterations": options.max_iterations,
            "engine_commit": options.engine_commit,
        },
        "environment": environment,
        "wall_seconds": round(wall_seconds, 1),
        "records": [record.__dict__ for record in records],
        "summaries": summaries,
    }
    options.json.write_text(json.dumps(document, indent=1, default=str))
    print(f"results written to {options.json}")


if __name__ == "__main__":
    raise SystemExit(main())
