"""The upload flow over loopback: create, PUT, confirm, list, delete."""

import json
from pathlib import Path

import httpx
from engine_harness import EngineProcess, data_file


def create_upload(engine: EngineProcess, filename: str) -> dict[str, str]:
    response = engine.client.post(
        "/uploads", json={"filename": filename, "content_type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_health(engine: EngineProcess) -> None:
    body = engine.client.get("/health").json()
    assert body["status"] == "ok"
    assert body["engine"] == "plexe-tui local"
    assert body["version"]


def test_health_ignores_api_keys(engine: EngineProcess) -> None:
    headers = {"x-api-key": "secret", "Authorization": "Bearer secret"}
    assert engine.client.get("/health", headers=headers).status_code == 200


def test_upload_flow_with_csv(engine: EngineProcess) -> None:
    path = data_file("breast_cancer.csv")
    created = create_upload(engine, "breast_cancer.csv")
    assert created["presigned_url"].startswith(engine.base_url + "/uploads/")
    assert created["key"].endswith("breast_cancer.csv")

    put = httpx.put(created["presigned_url"], content=path.read_bytes())
    assert put.status_code == 200
    assert put.json()["size_bytes"] == path.stat().st_size

    done = engine.client.post(
        "/uploads/status",
        json={
            "upload_id": created["upload_id"],
            "filename": "breast_cancer.csv",
            "s3_key": created["key"],
        },
    )
    assert done.status_code == 200
    assert done.json()["status"] == "complete"
    assert done.json()["rows"] == 569
    assert "diagnosis" in done.json()["columns"]

    single = engine.client.get(f"/uploads/{created['upload_id']}").json()
    assert single["status"] == "complete"
    assert "token" not in single
    listed = engine.client.get("/uploads").json()
    assert created["upload_id"] in [item["upload_id"] for item in listed["uploads"]]


def test_upload_put_needs_token(engine: EngineProcess) -> None:
    created = create_upload(engine, "data.csv")
    url = created["presigned_url"].split("?")[0]
    response = httpx.put(url + "?token=wrong", content=b"a,b\n1,2\n")
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "token"


def test_upload_status_before_put(engine: EngineProcess) -> None:
    created = create_upload(engine, "data.csv")
    response = engine.client.post(
        "/uploads/status", json={"upload_id": created["upload_id"], "filename": "x"}
    )
    assert response.status_code == 409
    assert created["upload_id"] in response.json()["error"]["message"]


def test_upload_status_unknown_id(engine: EngineProcess) -> None:
    response = engine.client.post(
        "/uploads/status", json={"upload_id": "upl_missing", "filename": "x"}
    )
    assert response.status_code == 404
    assert "upl_missing" in response.json()["error"]["message"]


def test_upload_filename_stays_inside(engine: EngineProcess) -> None:
    created = create_upload(engine, "../../outside.csv")
    put = httpx.put(created["presigned_url"], content=b"a,b\n1,2\n")
    assert put.status_code == 200
    stored = list(engine.data_dir.rglob("outside.csv"))
    assert len(stored) == 1
    assert stored[0].is_relative_to(engine.data_dir / "uploads" / created["upload_id"])


def test_upload_unparseable_file(engine: EngineProcess, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"a": 1}, {"a": ')
    created = create_upload(engine, "broken.json")
    httpx.put(created["presigned_url"], content=path.read_bytes())
    response = engine.client.post(
        "/uploads/status", json={"upload_id": created["upload_id"], "filename": "x"}
    )
    assert response.status_code == 422
    assert "broken.json" in response.json()["error"]["message"]


def test_upload_json_records(engine: EngineProcess, tmp_path: Path) -> None:
    rows = [{"x": i, "colour": "red" if i % 2 else "blue"} for i in range(30)]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    upload_id = engine.upload(path)
    body = engine.client.get(f"/uploads/{upload_id}").json()
    assert body["rows"] == 30
    assert body["columns"] == ["x", "colour"]


def test_upload_json_lines_builds(engine: EngineProcess, tmp_path: Path) -> None:
    rows = [{"x": i % 25, "label": "high" if i % 25 > 12 else "low"} for i in range(40)]
    lines = [json.dumps(row) for row in rows]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    upload_id = engine.upload(path)
    assert engine.client.get(f"/uploads/{upload_id}").json()["rows"] == 40

    version = engine.start_build(
        "jsonlines", goal="predict the label", upload_id=upload_id, max_iterations=1
    )
    status = engine.wait_for("jsonlines", version)
    assert status["status"] == "completed", status
    output = engine.client.post(f"/models/jsonlines/{version}/infer", json={"x": 35})
    assert output.json()["label"] in ("high", "low")


def test_upload_delete(engine: EngineProcess) -> None:
    created = create_upload(engine, "gone.csv")
    deleted = engine.client.delete(f"/uploads/{created['upload_id']}")
    assert deleted.status_code == 200
    again = engine.client.get(f"/uploads/{created['upload_id']}")
    assert again.status_code == 404
