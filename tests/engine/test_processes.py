"""Training in separate processes: concurrency, cancellation, crashes and restarts."""

import signal
from pathlib import Path
from typing import Any

import pytest
from engine_harness import EngineProcess, data_file, kill_process


def first_cancer_row() -> dict[str, Any]:
    header, values = data_file("breast_cancer.csv").read_text().splitlines()[:2]
    row = dict(zip(header.split(","), values.split(","), strict=True))
    row.pop("diagnosis")
    return {key: float(value) for key, value in row.items()}


@pytest.fixture(scope="module")
def large_upload(
    engine: EngineProcess, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The breast cancer rows repeated 20 times, so that a long search takes a while."""
    lines = data_file("breast_cancer.csv").read_text().splitlines()
    path = tmp_path_factory.mktemp("large") / "large_cancer.csv"
    path.write_text("\n".join([lines[0], *(lines[1:] * 20)]) + "\n")
    return engine.upload(path)


def test_engine_responds_while_training(
    engine: EngineProcess, cancer_model: tuple[str, str], large_upload: str
) -> None:
    name, version = cancer_model
    row = first_cancer_row()
    slow = engine.start_build(
        "slow", goal="predict the diagnosis", upload_id=large_upload, max_iterations=7
    )
    queued = engine.start_build(
        "slow", goal="predict the diagnosis", upload_id=large_upload, max_iterations=1
    )
    engine.wait_for_phase("slow", slow, "search")

    # Responses that arrive while the build still runs show that training does
    # not hold up the server; how fast they come is measured by the benchmarks.
    for _ in range(10):
        assert engine.status("slow", slow)["status"] == "building"
        output = engine.client.post(f"/models/{name}/{version}/infer", json=row)
        assert output.json()["diagnosis"] == "malignant"
    assert engine.status("slow", slow)["status"] == "building"
    assert engine.status("slow", queued)["status"] == "pending"

    cancelled = engine.client.delete(f"/models/slow/{queued}")
    assert cancelled.json()["status"] == "cancelled"
    cancelled = engine.client.delete(f"/models/slow/{slow}")
    assert cancelled.json()["status"] == "cancelled"
    assert engine.training_process_ids() == []


def test_infer_on_unfinished_build(engine: EngineProcess, large_upload: str) -> None:
    version = engine.start_build(
        "unfinished", goal="predict the diagnosis", upload_id=large_upload
    )
    response = engine.client.post(f"/models/unfinished/{version}/infer", json={})
    assert response.status_code == 409
    error = response.json()["error"]
    assert "pending" in error["message"] or "building" in error["message"]
    engine.client.delete(f"/models/unfinished/{version}")
    assert engine.wait_for("unfinished", version)["status"] == "cancelled"


def test_killed_training_fails_build(engine: EngineProcess, large_upload: str) -> None:
    version = engine.start_build(
        "doomed", goal="predict the diagnosis", upload_id=large_upload, max_iterations=7
    )
    engine.wait_for_phase("doomed", version, "search")
    children = engine.training_process_ids()
    assert len(children) == 1
    kill_process(children[0])

    status = engine.wait_for("doomed", version, timeout=30)
    assert status["status"] == "failed"
    assert "signal 9" in status["error"]


def test_delete_finished_model(engine: EngineProcess, cancer_upload: str) -> None:
    version = engine.start_build(
        "short-lived",
        goal="predict the diagnosis",
        upload_id=cancer_upload,
        max_iterations=1,
    )
    assert engine.wait_for("short-lived", version)["status"] == "completed"
    deleted = engine.client.delete(f"/models/short-lived/{version}")
    assert deleted.json()["deleted"] is True
    assert engine.client.get(f"/models/short-lived/{version}").status_code == 404


def test_restart_keeps_models_and_resumes(fresh_engine: EngineProcess) -> None:
    fresh_engine.start()
    upload_id = fresh_engine.upload(data_file("breast_cancer.csv"))
    completed = fresh_engine.start_build(
        "kept", goal="predict the diagnosis", upload_id=upload_id, max_iterations=2
    )
    assert fresh_engine.wait_for("kept", completed)["status"] == "completed"
    resumed = fresh_engine.start_build(
        "resumed", goal="predict the diagnosis", upload_id=upload_id, max_iterations=1
    )

    assert fresh_engine.stop(signal.SIGTERM) == 0
    interrupted = fresh_engine.build_record("resumed", resumed)
    assert interrupted["state"]["status"] in ("pending", "building")
    kept_before = fresh_engine.build_record("kept", completed)

    fresh_engine.start()
    output = fresh_engine.client.post(
        f"/models/kept/{completed}/infer", json=first_cancer_row()
    )
    assert output.status_code == 200, output.text
    assert output.json()["diagnosis"] == "malignant"
    assert fresh_engine.build_record("kept", completed) == kept_before
    assert fresh_engine.wait_for("resumed", resumed)["status"] == "completed"

    assert fresh_engine.stop(signal.SIGINT) == 0
    assert "Traceback" not in fresh_engine.log()
    assert "queued build resumed v1 again" in fresh_engine.log()


def test_model_file_is_checked(fresh_engine: EngineProcess, tmp_path: Path) -> None:
    fresh_engine.start()
    upload_id = fresh_engine.upload(data_file("breast_cancer.csv"))
    version = fresh_engine.start_build(
        "tampered", goal="predict the diagnosis", upload_id=upload_id, max_iterations=1
    )
    assert fresh_engine.wait_for("tampered", version)["status"] == "completed"
    model_file = (
        fresh_engine.data_dir / "models" / "tampered" / version / "model.joblib"
    )
    model_file.write_bytes(model_file.read_bytes() + b"\0")

    response = fresh_engine.client.post(
        f"/models/tampered/{version}/infer", json=first_cancer_row()
    )
    assert response.status_code == 500
    assert "digest" in response.json()["error"]["message"]


def test_second_engine_on_same_folder(fresh_engine: EngineProcess) -> None:
    fresh_engine.start()
    second = EngineProcess(
        fresh_engine.data_dir, fresh_engine.log_path.with_name("2.log")
    )
    try:
        with pytest.raises(RuntimeError, match="Another engine"):
            second.start()
        assert second.process is not None
        assert second.process.returncode == 1
        assert "Traceback" not in second.log()
    finally:
        second.close()
    assert fresh_engine.client.get("/health").status_code == 200
