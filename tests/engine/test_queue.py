"""The build queue over loopback: queue positions, parallel builds, progress,
cancellation, and the option that sets how many builds run at once."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_harness import EngineProcess, data_file

LONG_BUILD = {"goal": "predict the diagnosis", "max_iterations": 12}


def large_cancer_file(folder: Path) -> Path:
    """The breast cancer rows repeated 20 times, so that a long search takes a while."""
    lines = data_file("breast_cancer.csv").read_text().splitlines()
    path = folder / "cancer_x20.csv"
    path.write_text("\n".join([lines[0], *(lines[1:] * 20)]) + "\n")
    return path


@pytest.fixture
def parallel_engine(tmp_path: Path) -> Iterator[EngineProcess]:
    """An engine that runs two builds at once."""
    server = EngineProcess(
        tmp_path / "data",
        tmp_path / "engine.log",
        env={"PLEXE_ENGINE_MAX_PARALLEL_BUILDS": "2"},
    )
    server.start()
    yield server
    server.close()


def wait_until(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_queue_positions_and_cancel(
    fresh_engine: EngineProcess, tmp_path: Path
) -> None:
    fresh_engine.start()
    upload = fresh_engine.upload(large_cancer_file(tmp_path))
    running, second, third = (
        fresh_engine.start_build("queued", upload_id=upload, **LONG_BUILD)
        for _ in range(3)
    )
    fresh_engine.wait_for_phase("queued", running, "search")

    assert fresh_engine.status("queued", running)["queue_position"] is None
    assert fresh_engine.status("queued", second)["queue_position"] == 1
    assert fresh_engine.status("queued", third)["queue_position"] == 2
    assert fresh_engine.status("queued", second)["elapsed_seconds"] is None
    listed = fresh_engine.client.get("/models").json()["models"]
    positions = {item["model_version"]: item["queue_position"] for item in listed}
    assert positions == {running: None, second: 1, third: 2}

    cancelled = fresh_engine.client.delete(f"/models/queued/{second}")
    assert cancelled.json()["status"] == "cancelled"
    assert fresh_engine.status("queued", third)["queue_position"] == 1

    children = fresh_engine.training_process_ids()
    assert len(children) == 1
    # DELETE responds only after the training process has ended.
    cancelled = fresh_engine.client.delete(f"/models/queued/{running}")
    assert cancelled.json()["status"] == "cancelled"
    assert not process_alive(children[0])
    assert fresh_engine.status("queued", running)["status"] == "cancelled"

    fresh_engine.wait_for("queued", third, until={"building"})
    assert fresh_engine.status("queued", third)["queue_position"] is None
    fresh_engine.client.delete(f"/models/queued/{third}")
    assert fresh_engine.wait_for("queued", third)["status"] == "cancelled"
    assert fresh_engine.training_process_ids() == []


def test_two_builds_run_at_once(parallel_engine: EngineProcess, tmp_path: Path) -> None:
    upload = parallel_engine.upload(large_cancer_file(tmp_path))
    versions = [
        parallel_engine.start_build("pair", upload_id=upload, **LONG_BUILD)
        for _ in range(3)
    ]
    first, second, third = versions

    def two_building() -> bool:
        states = [parallel_engine.status("pair", v)["status"] for v in (first, second)]
        return states == ["building", "building"]

    wait_until(two_building)
    assert len(parallel_engine.training_process_ids()) == 2
    assert parallel_engine.status("pair", third)["queue_position"] == 1

    for version in versions:
        parallel_engine.client.delete(f"/models/pair/{version}")
    for version in versions:
        assert parallel_engine.wait_for("pair", version)["status"] == "cancelled"
    assert parallel_engine.training_process_ids() == []


def test_status_reports_progress(engine: EngineProcess, cancer_upload: str) -> None:
    version = engine.start_build(
        "progress",
        goal="predict the diagnosis",
        upload_id=cancer_upload,
        max_iterations=6,
    )
    snapshots = []
    deadline = time.monotonic() + 120
    status = engine.status("progress", version)
    while status["status"] not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, status
        snapshots.append(status)
        time.sleep(0.05)
        status = engine.status("progress", version)
    assert status["status"] == "completed", status

    building = [s for s in snapshots if s["status"] == "building"]
    progress = [s["build_progress"] for s in building]
    assert progress == sorted(progress)
    assert len({s["iteration"] for s in building}) >= 3
    assert any(s["best_so_far"] for s in building)
    assert {"search"} <= {s["phase"] for s in building}
    assert all(s["max_iterations"] == 6 for s in building)
    elapsed = [s["elapsed_seconds"] for s in building if s["elapsed_seconds"]]
    assert elapsed == sorted(elapsed)
    assert elapsed[-1] > elapsed[0]
    assert status["elapsed_seconds"] >= elapsed[-1]
    assert status["best_so_far"] == status["result"]


def test_serve_help_documents_options() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "plexe_tui.engine", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "--max-parallel-builds" in completed.stdout
    assert "PLEXE_ENGINE_MAX_PARALLEL_BUILDS" in completed.stdout
    assert "--download-timeout" in completed.stdout


def test_invalid_parallel_setting_stops_engine(tmp_path: Path) -> None:
    server = EngineProcess(
        tmp_path / "data",
        tmp_path / "engine.log",
        env={"PLEXE_ENGINE_MAX_PARALLEL_BUILDS": "none"},
    )
    try:
        with pytest.raises(RuntimeError, match="exited early"):
            server.start()
        assert server.process is not None
        assert server.process.returncode == 1
        assert "PLEXE_ENGINE_MAX_PARALLEL_BUILDS must be" in server.log()
        assert "Traceback" not in server.log()
    finally:
        server.close()
