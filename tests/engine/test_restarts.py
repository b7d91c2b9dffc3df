"""An engine killed with SIGKILL and started again on the same data folder.

A build under way completes after the restart, an upload cut off mid-transfer
is not served as complete, and models trained before keep predicting.
"""

import fcntl
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from engine_harness import EngineProcess, data_file, kill_process

from plexe_tui.engine.folder_lock import TRAINING_LOCK_FILE_NAME

# Seconds for processes of a killed engine to exit by themselves.
ORPHAN_EXIT_SECONDS = 30.0
CHUNK = b"1,2,yes\n" * 4096


def cancer_row(engine: EngineProcess, name: str, version: str) -> dict[str, Any]:
    schema = engine.client.get(f"/models/{name}/{version}").json()["input_schema"]
    return dict.fromkeys(schema, 1.0)


def wait_until_exited(pids: list[int]) -> list[int]:
    """Wait for processes to exit; return those still alive after the bound."""
    deadline = time.monotonic() + ORPHAN_EXIT_SECONDS
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if Path(f"/proc/{pid}").exists()]
    return alive


def large_cancer_file(folder: Path) -> Path:
    """The breast cancer rows repeated, so that a build takes several seconds."""
    lines = data_file("breast_cancer.csv").read_text().splitlines()
    path = folder / "large_cancer.csv"
    path.write_text("\n".join([lines[0], *(lines[1:] * 10)]) + "\n")
    return path


def test_build_survives_sigkill(fresh_engine: EngineProcess, tmp_path: Path) -> None:
    engine = fresh_engine
    engine.start()
    upload_id = engine.upload(data_file("breast_cancer.csv"))
    kept = engine.start_build(
        "kept", goal="predict the diagnosis", upload_id=upload_id, max_iterations=1
    )
    assert engine.wait_for("kept", kept)["status"] == "completed"
    large = engine.upload(large_cancer_file(tmp_path))
    # Seven approaches take far longer than the time to the kill, and the
    # timeout keeps the build after the restart short.
    resumed = engine.start_build(
        "resumed",
        goal="predict the diagnosis",
        upload_id=large,
        max_iterations=7,
        timeout=6,
    )
    engine.wait_for_phase("resumed", resumed, "search")
    trainers = engine.training_process_ids()
    assert len(trainers) == 1

    # The training process is stopped first, so that it cannot finish the
    # build in the second it would outlive the server, and then killed too.
    os.kill(trainers[0], signal.SIGSTOP)
    assert engine.stop(signal.SIGKILL) == -signal.SIGKILL
    kill_process(trainers[0])
    assert wait_until_exited(trainers) == []
    engine.start()

    status = engine.wait_for("resumed", resumed)
    assert status["status"] == "completed", status
    output = engine.client.post(
        f"/models/kept/{kept}/infer", json=cancer_row(engine, "kept", kept)
    )
    assert output.status_code == 200, output.text
    assert "queued build resumed v1 again" in engine.log()


def slow_body(started: threading.Event, release: threading.Event) -> Iterator[bytes]:
    """Yield one chunk, then wait (bounded) for the test before the rest."""
    yield b"a,b,target\n" + CHUNK
    started.set()
    release.wait(ORPHAN_EXIT_SECONDS)
    yield CHUNK


def test_upload_cut_by_sigkill(fresh_engine: EngineProcess) -> None:
    engine = fresh_engine
    engine.start()
    created = engine.client.post(
        "/uploads", json={"filename": "cut.csv", "content_type": "text/csv"}
    ).json()
    upload_id = created["upload_id"]
    data = engine.data_dir / "uploads" / upload_id / "data"
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def put() -> None:
        try:
            httpx.put(
                created["presigned_url"],
                content=slow_body(started, release),
                timeout=ORPHAN_EXIT_SECONDS,
            )
        except httpx.HTTPError as error:
            errors.append(error)

    sender = threading.Thread(target=put)
    sender.start()
    assert started.wait(ORPHAN_EXIT_SECONDS)
    deadline = time.monotonic() + ORPHAN_EXIT_SECONDS
    while not any(path.stat().st_size for path in data.iterdir()):
        assert time.monotonic() < deadline, "no bytes reached the disk"
        time.sleep(0.05)

    engine.stop(signal.SIGKILL)
    release.set()
    sender.join(ORPHAN_EXIT_SECONDS)
    engine.start()

    assert len(errors) == 1
    record = engine.client.get(f"/uploads/{upload_id}").json()
    assert record["status"] == "pending"
    assert list(data.iterdir()) == []
    confirmed = engine.client.post("/uploads/status", json={"upload_id": upload_id})
    assert confirmed.status_code == 409
    build = engine.client.post(
        "/models/cut", json={"goal": "predict the target", "upload_id": upload_id}
    )
    assert build.status_code == 409
    assert "has no content yet" in build.json()["error"]["message"]
    again = httpx.put(created["presigned_url"], content=b"a,b\n1,2\n")
    assert again.status_code == 200


def test_restart_waits_for_orphan(fresh_engine: EngineProcess) -> None:
    """A new server waits for a training process that outlived the old one."""
    engine = fresh_engine
    engine.start()
    upload_id = engine.upload(data_file("breast_cancer.csv"))
    version = engine.start_build(
        "orphaned", goal="predict the diagnosis", upload_id=upload_id, max_iterations=1
    )
    engine.stop()
    build_dir = engine.data_dir / "models" / "orphaned" / version
    status = json.loads((build_dir / "build.json").read_text())["state"]["status"]
    assert status in ("pending", "building")

    # This test process acts as the orphan: it holds the build's
    # training lock until the new server says that it waits for it.
    waiting = "waiting for an earlier training process of orphaned v1"
    descriptor = os.open(build_dir / TRAINING_LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)

    def release_when_waited_for() -> None:
        deadline = time.monotonic() + ORPHAN_EXIT_SECONDS
        while waiting not in engine.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.close(descriptor)

    releaser = threading.Thread(target=release_when_waited_for)
    releaser.start()
    try:
        engine.start()
    finally:
        releaser.join()

    assert waiting in engine.log()
    assert engine.wait_for("orphaned", version)["status"] == "completed"
