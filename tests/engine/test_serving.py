"""Inference over loopback: input checks against the model's schema, the output
keys that output_schema requests, batches, and the loaded-model cache.

Latency is measured by tests/benchmarks/inference_load.py, not here."""

import json
from typing import Any

import pytest
from engine_harness import EngineProcess, data_file


def cancer_row() -> dict[str, Any]:
    header, values = data_file("breast_cancer.csv").read_text().splitlines()[:2]
    row = dict(zip(header.split(","), values.split(","), strict=True))
    row.pop("diagnosis")
    return {key: float(value) for key, value in row.items()}


def infer(engine: EngineProcess, model: tuple[str, str], body: Any) -> Any:
    name, version = model
    return engine.client.post(f"/models/{name}/{version}/infer", json=body)


def error_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def test_infer_extra_field_named(
    engine: EngineProcess, cancer_model: tuple[str, str]
) -> None:
    error = error_of(infer(engine, cancer_model, {**cancer_row(), "shoe size": 42}))
    assert error["code"] == "unknown_features"
    assert error["field"] == "shoe size"
    assert "shoe size" in error["message"]
    assert "mean radius" in error["message"]


def test_infer_target_field_explained(
    engine: EngineProcess, cancer_model: tuple[str, str]
) -> None:
    error = error_of(infer(engine, cancer_model, {**cancer_row(), "diagnosis": "x"}))
    assert error["field"] == "diagnosis"
    assert "'diagnosis' is the column the model predicts" in error["message"]


def test_infer_nulls_are_missing_values(
    engine: EngineProcess, cancer_model: tuple[str, str]
) -> None:
    row = dict.fromkeys(cancer_row())
    response = infer(engine, cancer_model, row)
    assert response.status_code == 200, response.text
    assert response.json()["diagnosis"] in ("benign", "malignant")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("17.5", True), (17, True), ("seventeen", False), ([17.5], False)],
)
def test_infer_numeric_value_types(
    engine: EngineProcess, cancer_model: tuple[str, str], value: Any, accepted: bool
) -> None:
    response = infer(engine, cancer_model, {**cancer_row(), "mean radius": value})
    if accepted:
        assert response.status_code == 200, response.text
    else:
        error = error_of(response)
        assert error["field"] == "mean radius"
        assert "mean radius" in error["message"]


def test_batch_error_names_row(
    engine: EngineProcess, cancer_model: tuple[str, str]
) -> None:
    name, version = cancer_model
    rows = [cancer_row(), {**cancer_row(), "mean texture": "rough"}]
    response = engine.client.post(f"/models/{name}/{version}/predictions", json=rows)
    error = error_of(response)
    assert error["field"] == "mean texture"
    assert "in row 1" in error["message"]


def test_batch_of_many_rows(
    engine: EngineProcess, cancer_model: tuple[str, str]
) -> None:
    name, version = cancer_model
    rows = [cancer_row()] * 2000
    response = engine.client.post(f"/models/{name}/{version}/predictions", json=rows)
    assert response.status_code == 200, response.text
    outputs = response.json()
    assert len(outputs) == 2000
    assert outputs[0] == outputs[-1] == infer(engine, cancer_model, rows[0]).json()


@pytest.mark.parametrize(
    ("output_schema", "expected_keys"),
    [
        ({"label": "str"}, {"label"}),
        ({"diagnosis": "str", "confidence": "float"}, {"diagnosis", "confidence"}),
        (
            {"prediction": "str", "probabilities": "object"},
            {"prediction", "probabilities"},
        ),
    ],
)
def test_output_schema_sets_keys(
    engine: EngineProcess,
    cancer_upload: str,
    output_schema: dict[str, str],
    expected_keys: set[str],
) -> None:
    name = "keys-" + "-".join(sorted(output_schema))
    version = engine.start_build(
        name,
        goal="predict the diagnosis",
        upload_id=cancer_upload,
        output_schema=output_schema,
        max_iterations=1,
    )
    assert engine.wait_for(name, version)["status"] == "completed"
    model = engine.client.get(f"/models/{name}/{version}").json()
    assert set(model["output_schema"]) == expected_keys

    output = engine.client.post(
        f"/models/{name}/{version}/infer", json=cancer_row()
    ).json()
    assert set(output) == expected_keys
    if "probabilities" in output:
        shares = output["probabilities"]
        assert set(shares) == {"benign", "malignant"}
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-5)


def one_approach_model(engine: EngineProcess, upload: str, name: str) -> str:
    """Build a breast cancer classifier of its own and return its version."""
    version = engine.start_build(
        name, goal="predict the diagnosis", upload_id=upload, max_iterations=1
    )
    assert engine.wait_for(name, version)["status"] == "completed"
    return version


def test_infer_rereads_edited_record(engine: EngineProcess, cancer_upload: str) -> None:
    version = one_approach_model(engine, cancer_upload, "edited")
    assert infer(engine, ("edited", version), cancer_row()).status_code == 200
    record = engine.build_record("edited", version)
    record["state"]["status"] = "failed"
    path = engine.data_dir / "models" / "edited" / version / "build.json"
    path.write_text(json.dumps(record))

    response = infer(engine, ("edited", version), cancer_row())

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "model_not_ready"


def test_infer_after_delete_not_found(
    engine: EngineProcess, cancer_upload: str
) -> None:
    version = one_approach_model(engine, cancer_upload, "deleted")
    assert infer(engine, ("deleted", version), cancer_row()).status_code == 200
    deleted = engine.client.delete(f"/models/deleted/{version}")
    assert deleted.status_code == 200, deleted.text

    response = infer(engine, ("deleted", version), cancer_row())

    assert response.status_code == 404, response.text
