"""Each benchmark script runs to its table at a tiny size. No timing is checked.

The scripts run in processes of their own, as a person runs them, because
they start engines and apps and change process-wide settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Seconds; a build of one approach on a small dataset takes a few of them.
SCRIPT_TIMEOUT = 300


def run_script(module: str, *arguments: str) -> str:
    """Run `python -m module arguments` from the repository root; return stdout."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


@pytest.mark.slow
def test_startup_script_runs() -> None:
    output = run_script(
        "tests.benchmarks.startup",
        "--repeats",
        "1",
        "--warm-up",
        "0",
        "--jobs",
        "0,150",
    )

    assert "| floor |" in output
    assert "| plexe-tui, 150 jobs |" in output
    assert "0 of 1 runs started it before the frame" in output


@pytest.mark.slow
def test_jobs_file_script_runs() -> None:
    output = run_script(
        "tests.benchmarks.jobs_file", "--repeats", "1", "--jobs", "30", "--saves", "2"
    )

    assert "| load, index current |" in output
    assert "| save, one job changed |" in output
    assert "during 2 saves of 30 jobs" in output


@pytest.mark.slow
def test_job_list_script_runs() -> None:
    output = run_script(
        "tests.benchmarks.job_list",
        "--jobs",
        "120",
        "--idle-seconds",
        "1",
        "--polls",
        "2",
    )

    assert "filter keystroke:" in output
    assert "event loop, idle:" in output
    assert "during 2 polls of 50 changed jobs" in output


@pytest.mark.slow
def test_polling_script_runs() -> None:
    output = run_script("tests.benchmarks.polling", "--minutes", "1", "--builds", "10")

    assert "| list |" in output
    assert "| no list |" in output
    assert "the next request came" in output


@pytest.mark.slow
def test_upload_script_runs() -> None:
    output = run_script("tests.benchmarks.upload", "--rounds", "1", "--size", "200000")

    assert "| PUT MiB/s |" in output
    assert "| resident memory growth MiB (max of runs) |" in output


@pytest.mark.slow
def test_inference_load_script_runs() -> None:
    output = run_script(
        "tests.benchmarks.inference_load",
        "--rate",
        "20",
        "--duration",
        "1",
        "--connections",
        "4",
        "--no-steps",
        "--max-iterations",
        "1",
    )

    assert "| median |" in output
    assert "| Predictor.predict_one |" in output


@pytest.mark.slow
def test_engine_builds_script_runs() -> None:
    output = run_script(
        "tests.benchmarks.engine_builds",
        "--datasets",
        "wine",
        "--budget",
        "10",
        "--max-iterations",
        "1",
        "--fits",
        "1",
    )

    assert "| wine |" in output
    assert "within 10 s budget" in output
