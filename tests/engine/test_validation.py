"""Invalid requests get a 4xx with the engine's error shape and a useful message."""

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_harness import EngineProcess

from plexe_tui.engine.app import create_app


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check the status and the error shape, and return the error object."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["code"]
    assert error["message"].endswith(".")
    return error


@pytest.fixture(scope="module")
def build(engine: EngineProcess, cancer_upload: str) -> Any:
    """Post a build request for ``cancer-invalid`` with fields on top of valid ones."""

    def post(**fields: Any) -> httpx.Response:
        body = {"goal": "predict the diagnosis", "upload_id": cancer_upload, **fields}
        return engine.client.post("/models/cancer-invalid", json=body)

    return post


def test_target_not_found_lists_columns(build: Any) -> None:
    error = error_of(build(goal="make me a good model"), 422)
    assert error["field"] == "goal"
    assert "mean radius" in error["message"]
    assert "diagnosis" in error["message"]


def test_unknown_upload(engine: EngineProcess) -> None:
    response = engine.client.post(
        "/models/x", json={"goal": "predict y", "upload_id": "upl_nothere"}
    )
    error = error_of(response, 404)
    assert "upl_nothere" in error["message"]
    assert error["field"] == "upload_id"


def test_missing_upload_mentions_platform(engine: EngineProcess) -> None:
    error = error_of(engine.client.post("/models/x", json={"goal": "predict y"}), 422)
    assert error["field"] == "upload_id"
    assert "hosted" in error["message"]


def test_dataset_url_unreachable(engine: EngineProcess) -> None:
    # A port that was just bound and closed again has no server behind it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/data.csv"
    body = {"goal": "predict y", "upload_id": url}
    error = error_of(engine.client.post("/models/x", json=body), 422)
    assert error["field"] == "upload_id"
    assert url in error["message"]


@pytest.mark.parametrize("name", ["bad name", "a" * 65, "dots.not.allowed"])
def test_bad_model_name(engine: EngineProcess, cancer_upload: str, name: str) -> None:
    body = {"goal": "predict the diagnosis", "upload_id": cancer_upload}
    error = error_of(engine.client.post(f"/models/{name}", json=body), 422)
    assert error["field"] == "model_name"


def test_unknown_metric_lists_valid(build: Any) -> None:
    error = error_of(build(metric="happiness"), 422)
    assert error["field"] == "metric"
    assert "roc_auc" in error["message"]


def test_metric_must_fit_task(build: Any) -> None:
    error = error_of(build(metric="rmse"), 422)
    assert error["field"] == "metric"
    assert "classification" in error["message"]


@pytest.mark.parametrize("iterations", [0, 51, "many"])
def test_max_iterations_range(build: Any, iterations: Any) -> None:
    error = error_of(build(max_iterations=iterations), 422)
    assert error["field"] == "max_iterations"


def test_missing_goal(engine: EngineProcess, cancer_upload: str) -> None:
    response = engine.client.post("/models/x", json={"upload_id": cancer_upload})
    error = error_of(response, 422)
    assert error["field"] == "goal"
    assert "required" in error["message"]


def test_invalid_json_body(engine: EngineProcess) -> None:
    response = engine.client.post(
        "/models/x", content=b"{not json", headers={"content-type": "application/json"}
    )
    error = error_of(response, 422)
    assert "JSON" in error["message"]


def test_input_schema_unknown_column(build: Any) -> None:
    error = error_of(
        build(input_schema={"mean radius": "float", "shoe size": "int"}), 422
    )
    assert error["field"] == "input_schema"
    assert "shoe size" in error["message"]


def test_unknown_model_version(engine: EngineProcess) -> None:
    error = error_of(engine.client.get("/models/never-built/1/status"), 404)
    assert "never-built" in error["message"]
    error = error_of(engine.client.get("/models/never-built/abc"), 404)
    assert "abc" in error["message"]


def test_unknown_route(engine: EngineProcess) -> None:
    error_of(engine.client.get("/no/such/path"), 404)


def test_invalid_status_filter(engine: EngineProcess) -> None:
    error = error_of(engine.client.get("/models", params={"status": "done"}), 422)
    assert "completed" in error["message"]


def test_infer_missing_feature(
    engine: EngineProcess, cancer_model: tuple[str, str]
) -> None:
    name, version = cancer_model
    response = engine.client.post(
        f"/models/{name}/{version}/infer", json={"mean radius": 14.0}
    )
    error = error_of(response, 422)
    assert "mean texture" in error["message"]


def test_infer_wrong_value_type(
    engine: EngineProcess, cancer_model: tuple[str, str]
) -> None:
    name, version = cancer_model
    features = engine.client.get(f"/models/{name}/{version}").json()["input_schema"]
    row: dict[str, Any] = dict.fromkeys(features, 1.0)
    row["mean radius"] = "large"
    error = error_of(
        engine.client.post(f"/models/{name}/{version}/infer", json=row), 422
    )
    assert error["field"] == "mean radius"


def test_infer_body_must_be_object(
    engine: EngineProcess, cancer_model: tuple[str, str]
) -> None:
    name, version = cancer_model
    error_of(engine.client.post(f"/models/{name}/{version}/infer", json=[1, 2]), 422)


def test_upload_create_needs_filename(engine: EngineProcess) -> None:
    error = error_of(engine.client.post("/uploads", json={}), 422)
    assert error["field"] == "filename"


def test_too_few_rows(engine: EngineProcess, tmp_path: Any) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("x,y\n1,2\n2,3\n3,5\n")
    upload_id = engine.upload(path)
    body = {"goal": "predict y", "upload_id": upload_id}
    error = error_of(engine.client.post("/models/tiny", json=body), 422)
    assert "rows" in error["message"]


def test_every_validation_error_has_message(build: Any) -> None:
    responses = [
        build(goal=""),
        build(metric="mse"),
        build(input_schema="not an object"),
        build(output_schema={"diagnosis": "date"}),
        build(timeout=-1),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["error"]["message"]


async def test_unexpected_error_shape(tmp_path: Path) -> None:
    app = create_app(tmp_path)

    def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/explode", explode)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/explode")
    error = error_of(response, 500)
    assert error["code"] == "internal_error"
    assert "RuntimeError" in error["message"]
