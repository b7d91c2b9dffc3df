"""File formats and column kinds over loopback: encodings, delimiters, Parquet,
dates, booleans, and the columns a build leaves out."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_harness import EngineProcess


def pyarrow_importable() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def write_file(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def upload_status(engine: EngineProcess, path: Path) -> httpx.Response:
    """Upload a file and return the response of POST /uploads/status."""
    created = engine.client.post(
        "/uploads", json={"filename": path.name, "content_type": "text/csv"}
    ).json()
    httpx.put(created["presigned_url"], content=path.read_bytes()).raise_for_status()
    return engine.client.post(
        "/uploads/status",
        json={"upload_id": created["upload_id"], "s3_key": created["key"]},
    )


def build_and_wait(engine: EngineProcess, name: str, **fields: Any) -> str:
    version = engine.start_build(name, **fields)
    status = engine.wait_for(name, version)
    assert status["status"] == "completed", status
    return version


def infer(
    engine: EngineProcess, name: str, version: str, row: dict[str, Any]
) -> httpx.Response:
    return engine.client.post(f"/models/{name}/{version}/infer", json=row)


def drinks_csv(delimiter: str = ",") -> str:
    """Rows whose temperature follows the drink, with non-ASCII names and values."""
    lines = [delimiter.join(["größe", "drink", "temperature"])]
    for index in range(40):
        drink = "café" if index % 2 else "thé glacé"
        temperature = "hot" if drink == "café" else "cold"
        lines.append(delimiter.join([str(index % 3), drink, temperature]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_csv_encoding_detected(
    engine: EngineProcess, tmp_path: Path, encoding: str
) -> None:
    path = write_file(tmp_path, "drinks.csv", drinks_csv().encode(encoding))
    upload = engine.upload(path)
    columns = engine.client.get(f"/uploads/{upload}").json()["columns"]
    assert columns == ["größe", "drink", "temperature"]

    name = f"drinks-{encoding}"
    version = build_and_wait(
        engine, name, goal="predict the temperature", upload_id=upload, max_iterations=2
    )
    output = infer(engine, name, version, {"größe": 1, "drink": "café"}).json()
    assert output["temperature"] == "hot"


@pytest.mark.parametrize(
    "delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"]
)
def test_csv_delimiter_detected(
    engine: EngineProcess, tmp_path: Path, delimiter: str
) -> None:
    path = write_file(tmp_path, "drinks.csv", drinks_csv(delimiter).encode())
    response = upload_status(engine, path)
    assert response.status_code == 200, response.text
    assert response.json()["columns"] == ["größe", "drink", "temperature"]
    assert response.json()["rows"] == 40


def test_duplicate_csv_columns_rejected(engine: EngineProcess, tmp_path: Path) -> None:
    path = write_file(tmp_path, "twice.csv", b"x,y,x\n1,2,3\n4,5,6\n")
    response = upload_status(engine, path)
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "['x']" in message
    assert "twice.csv" in message


def test_duplicate_json_keys_rejected(engine: EngineProcess, tmp_path: Path) -> None:
    lines = ['{"a": 1, "b": 2, "a": 3}', '{"a": 4, "b": 5}']
    path = write_file(tmp_path, "twice.jsonl", "\n".join(lines).encode())
    response = upload_status(engine, path)
    assert response.status_code == 422
    assert "['a']" in response.json()["error"]["message"]


def test_json_array_builds(engine: EngineProcess, tmp_path: Path) -> None:
    rows = [{"x": i % 10, "size": "big" if i % 10 > 4 else "small"} for i in range(40)]
    path = write_file(tmp_path, "sizes.json", json.dumps(rows).encode())
    upload = engine.upload(path)
    version = build_and_wait(
        engine, "sizes", goal="predict the size", upload_id=upload, max_iterations=2
    )
    assert infer(engine, "sizes", version, {"x": 9}).json()["size"] == "big"


def seasons_rows() -> list[dict[str, Any]]:
    """Visits whose season follows the month of the visit date."""
    rows = []
    for index in range(120):
        month = index % 12 + 1
        day = index % 28 + 1
        rows.append(
            {
                "visit": f"2023-{month:02d}-{day:02d} {index % 24:02d}:30:00",
                "guests": index % 5,
                "season": "summer" if month in (6, 7, 8) else "other",
            }
        )
    return rows


def test_date_column_expanded(engine: EngineProcess, tmp_path: Path) -> None:
    rows = seasons_rows()
    lines = ["visit,guests,season"] + [
        f"{row['visit']},{row['guests']},{row['season']}" for row in rows
    ]
    path = write_file(tmp_path, "visits.csv", ("\n".join(lines) + "\n").encode())
    upload = engine.upload(path)
    version = build_and_wait(
        engine, "seasons", goal="predict the season", upload_id=upload, max_iterations=3
    )

    described = engine.describe("seasons", version)
    visit = next(f for f in described["features"] if f["name"] == "visit")
    assert visit["type"] == "str"
    assert visit["date_parts"] == ["month", "day", "weekday", "hour"]
    assert "dates in 'visit'" in described["summary"]

    summer = infer(engine, "seasons", version, {"visit": "2024-07-14", "guests": 2})
    assert summer.status_code == 200, summer.text
    assert summer.json()["season"] == "summer"
    missing = infer(engine, "seasons", version, {"visit": None, "guests": 2})
    assert missing.status_code == 200

    not_a_date = infer(engine, "seasons", version, {"visit": "soon", "guests": 2})
    assert not_a_date.status_code == 422
    assert not_a_date.json()["error"]["field"] == "visit"
    assert "date" in not_a_date.json()["error"]["message"]


def test_parquet_with_datetimes_builds(engine: EngineProcess, tmp_path: Path) -> None:
    if not pyarrow_importable():
        pytest.skip("pyarrow (the parquet extra) is absent")
    import pandas as pd

    table = pd.DataFrame(seasons_rows())
    table["visit"] = pd.to_datetime(table["visit"])
    table["guests"] = table["guests"].astype("category")
    path = tmp_path / "visits.parquet"
    table.to_parquet(path)

    upload = engine.upload(path)
    uploaded = engine.client.get(f"/uploads/{upload}").json()
    assert uploaded["rows"] == 120
    assert uploaded["columns"] == ["visit", "guests", "season"]
    version = build_and_wait(
        engine, "seasons-parquet", goal="predict the season", upload_id=upload
    )
    described = engine.describe("seasons-parquet", version)
    visit = next(f for f in described["features"] if f["name"] == "visit")
    assert "month" in visit["date_parts"]
    output = infer(
        engine, "seasons-parquet", version, {"visit": "2024-08-02T10:00", "guests": 1}
    )
    assert output.json()["season"] == "summer"


def test_unreadable_parquet_rejected(engine: EngineProcess, tmp_path: Path) -> None:
    path = write_file(tmp_path, "broken.parquet", b"PAR1 not really parquet PAR1")
    response = upload_status(engine, path)
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    if not pyarrow_importable():
        assert "pip install 'plexe-tui[parquet]'" in message
    else:
        assert "not valid Parquet" in message


def test_boolean_feature(engine: EngineProcess, tmp_path: Path) -> None:
    lines = ["member,visits,discount"] + [
        f"{bool(i % 2)},{i % 7},{'yes' if i % 2 else 'no'}" for i in range(40)
    ]
    path = write_file(tmp_path, "members.csv", ("\n".join(lines) + "\n").encode())
    upload = engine.upload(path)
    version = build_and_wait(
        engine,
        "discounts",
        goal="predict the discount",
        upload_id=upload,
        max_iterations=2,
    )
    model = engine.client.get(f"/models/discounts/{version}").json()
    assert model["input_schema"]["member"] == "bool"

    for member, expected in [(True, "yes"), ("false", "no"), (1, "yes")]:
        output = infer(engine, "discounts", version, {"member": member, "visits": 3})
        assert output.status_code == 200, output.text
        assert output.json()["discount"] == expected
    wrong = infer(engine, "discounts", version, {"member": "maybe", "visits": 3})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "member"


def test_identifier_and_text_columns_dropped(
    engine: EngineProcess, tmp_path: Path
) -> None:
    words = ["quick", "brown", "fox", "lazy", "dog", "jumps", "over", "the"]
    lines = ["order_id,customer,notes,amount,returned"]
    for index in range(60):
        note = " ".join(words[(index + k) % 8] for k in range(8)) + f" order {index}"
        returned = "yes" if index % 3 == 0 else "no"
        lines.append(f"{1000 + index},cust{index},{note},{index % 9},{returned}")
    path = write_file(tmp_path, "orders.csv", ("\n".join(lines) + "\n").encode())
    upload = engine.upload(path)
    version = build_and_wait(
        engine, "returns", goal="predict returned", upload_id=upload, max_iterations=1
    )

    described = engine.describe("returns", version)
    reasons = {d["column"]: d["reason"] for d in described["dropped_columns"]}
    assert "identifier" in reasons["order_id"]
    assert "identifier" in reasons["customer"]
    assert "free text" in reasons["notes"]
    assert [feature["name"] for feature in described["features"]] == ["amount"]
    assert "'notes' (looks like free text" in described["summary"]
