"""The search over loopback: determinism, the ensemble, metrics, the time budget,
holdout validation on large data and classes with few rows."""

import csv
import random
from pathlib import Path
from typing import Any

import pytest
from engine_harness import EngineProcess, data_file

# Builds must end within their timeout plus this share of it.
TIMEOUT_SLACK = 0.10


def first_rows(name: str, target: str, count: int) -> list[dict[str, Any]]:
    with data_file(name).open() as file:
        rows = []
        for _, row in zip(range(count), csv.DictReader(file), strict=False):
            row.pop(target)
            rows.append(
                {key: float(value) if value else None for key, value in row.items()}
            )
        return rows


def penguin_rows() -> list[dict[str, Any]]:
    return [
        {
            "island": island,
            "bill_length_mm": bill,
            "bill_depth_mm": depth,
            "flipper_length_mm": flipper,
            "body_mass_g": mass,
            "sex": sex,
            "year": 2008,
        }
        for island, bill, depth, flipper, mass, sex in [
            ("Biscoe", 47.5, 14.2, 215, None, None),
            ("Dream", 39.0, 18.5, 190, 3700, "female"),
            ("Dream", 49.5, 19.0, 200, 3800, "male"),
            ("Atlantis", None, None, None, None, None),
        ]
    ]


def scored(described: dict[str, Any]) -> dict[str, float]:
    return {
        approach["name"]: approach["metric_value"]
        for approach in described["approaches"]
        if approach["metric_value"] is not None
    }


@pytest.fixture(scope="module")
def large_cancer(
    engine: EngineProcess, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The breast cancer rows repeated 20 times (11,380 rows), uploaded."""
    lines = data_file("breast_cancer.csv").read_text().splitlines()
    path = tmp_path_factory.mktemp("budget") / "cancer_x20.csv"
    path.write_text("\n".join([lines[0], *(lines[1:] * 20)]) + "\n")
    return engine.upload(path)


def test_same_request_same_model(engine: EngineProcess, cancer_upload: str) -> None:
    request = {
        "goal": "predict the diagnosis",
        "upload_id": cancer_upload,
        "max_iterations": 5,
    }
    first = engine.start_build("twice", **request)
    second = engine.start_build("twice", **request)
    assert engine.wait_for("twice", first)["status"] == "completed"
    assert engine.wait_for("twice", second)["status"] == "completed"

    described = [engine.describe("twice", version) for version in (first, second)]
    assert scored(described[0]) == scored(described[1])
    assert described[0]["chosen"] == described[1]["chosen"]
    records = [engine.build_record("twice", version) for version in (first, second)]
    assert records[0]["model_sha256"] == records[1]["model_sha256"]

    rows = first_rows("breast_cancer.csv", "diagnosis", 20)
    outputs = [
        engine.client.post(f"/models/twice/{version}/predictions", json=rows).json()
        for version in (first, second)
    ]
    assert outputs[0] == outputs[1]


def test_ensemble_chosen_for_penguins(engine: EngineProcess) -> None:
    upload = engine.upload(data_file("penguins.csv"))
    version = engine.start_build(
        "penguin-mix", goal="predict the species", upload_id=upload, max_iterations=6
    )
    status = engine.wait_for("penguin-mix", version)
    assert status["status"] == "completed", status

    described = engine.describe("penguin-mix", version)
    names = [approach["name"] for approach in described["approaches"]]
    assert names[-1] == "ensemble"
    assert described["chosen"] == "ensemble"
    ensemble = described["approaches"][-1]
    assert "weight" in ensemble["description"]
    values = scored(described)
    assert status["result"]["metric_value"] == min(values.values())
    assert status["result"]["metric_value"] == values["ensemble"]

    rows = penguin_rows()
    batch = engine.client.post(f"/models/penguin-mix/{version}/predictions", json=rows)
    assert batch.status_code == 200, batch.text
    for row, expected in zip(rows, batch.json(), strict=True):
        single = engine.client.post(f"/models/penguin-mix/{version}/infer", json=row)
        assert single.json() == expected
    assert batch.json()[0]["species"] == "Gentoo"


@pytest.mark.parametrize(
    ("dataset", "goal", "metric", "canonical"),
    [
        ("diabetes.csv", "predict progression", "mape", "mape"),
        ("diabetes.csv", "predict progression", "r2_score", "r2"),
        ("breast_cancer.csv", "predict the diagnosis", "f1_score", "f1"),
        (
            "penguins.csv",
            "predict the species",
            "balanced_accuracy",
            "balanced_accuracy",
        ),
    ],
)
def test_reported_metric_is_optimised(
    engine: EngineProcess, dataset: str, goal: str, metric: str, canonical: str
) -> None:
    upload = engine.upload(data_file(dataset))
    name = f"metric-{canonical}"
    version = engine.start_build(
        name, goal=goal, upload_id=upload, metric=metric, max_iterations=3
    )
    status = engine.wait_for(name, version)
    assert status["status"] == "completed", status
    assert status["result"]["metric_name"] == canonical

    described = engine.describe(name, version)
    values = scored(described)
    lower_is_better = described["metric"]["direction"] == "lower is better"
    best = min(values.values()) if lower_is_better else max(values.values())
    assert status["result"]["metric_value"] == best
    assert values[described["chosen"]] == best


def test_timeout_keeps_build_in_budget(
    engine: EngineProcess, large_cancer: str
) -> None:
    timeout = 10.0
    version = engine.start_build(
        "budgeted",
        goal="predict the diagnosis",
        upload_id=large_cancer,
        max_iterations=12,
        timeout=timeout,
    )
    status = engine.wait_for("budgeted", version)
    assert status["status"] == "completed", status
    assert status["elapsed_seconds"] <= timeout * (1 + TIMEOUT_SLACK)

    described = engine.describe("budgeted", version)
    skipped = [a for a in described["approaches"] if a["skipped_reason"]]
    assert skipped
    assert any("timeout" in approach["skipped_reason"] for approach in skipped)
    assert {"baseline", "linear"} <= set(scored(described))
    assert "timeout" in described["search_note"]
    assert "timeout" in described["summary"]


def test_holdout_on_large_data(engine: EngineProcess, tmp_path: Path) -> None:
    generator = random.Random(0)
    lines = ["a,b,c,label"]
    for _ in range(100_050):
        a, b = generator.random(), generator.random()
        label = "high" if a + b + generator.gauss(0, 0.1) > 1 else "low"
        lines.append(f"{a:.4f},{b:.4f},{generator.randint(0, 9)},{label}")
    path = tmp_path / "large.csv"
    path.write_text("\n".join(lines) + "\n")
    upload = engine.upload(path)

    version = engine.start_build(
        "holdout", goal="predict the label", upload_id=upload, max_iterations=2
    )
    status = engine.wait_for("holdout", version)
    assert status["status"] == "completed", status
    described = engine.describe("holdout", version)
    assert "holdout of 20%" in described["validation"]
    assert described["validation_splits"] == 1
    assert "cross-validated" not in described["chosen_reason"]
    assert "holdout" in described["chosen_reason"]
    spreads = [approach["metric_std"] for approach in described["approaches"]]
    assert spreads == [None] * len(spreads)
    assert described["rows_used"] == 100_050
    assert status["result"]["metric_value"] > 0.9


def test_rare_classes(engine: EngineProcess, tmp_path: Path) -> None:
    counts = {"common": 30, "usual": 27, "rare": 2, "single": 1}
    lines = ["x,kind"]
    for index, (kind, count) in enumerate(counts.items()):
        lines.extend(f"{index * 10 + offset % 3},{kind}" for offset in range(count))
    path = tmp_path / "kinds.csv"
    path.write_text("\n".join(lines) + "\n")
    upload = engine.upload(path)

    version = engine.start_build(
        "kinds", goal="predict the kind", upload_id=upload, max_iterations=2
    )
    status = engine.wait_for("kinds", version)
    assert status["status"] == "completed", status
    described = engine.describe("kinds", version)
    assert described["classes"] == ["common", "rare", "usual"]
    assert described["rows_dropped"] == 1
    assert "2-fold" in described["validation"]
    assert "smallest class has 2 rows" in described["validation"]
