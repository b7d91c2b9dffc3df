"""Target choice, task rules, schemas, metrics and data loading, with no server."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engine_harness import data_file

from plexe_tui.engine.data import load_column, load_sample, load_table, table_shape
from plexe_tui.engine.errors import InvalidRequest
from plexe_tui.engine.features import choose_features
from plexe_tui.engine.metrics import find_metric, metric_for_task
from plexe_tui.engine.planning import plan_from_file
from plexe_tui.engine.records import BuildRequest
from plexe_tui.engine.schema import normalise_schema
from plexe_tui.engine.storage import sanitise_filename
from plexe_tui.engine.target import choose_target, decide_task


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return load_table(data_file("penguins.csv"), "penguins.csv")


def target_of(
    table: pd.DataFrame, goal: str, schema: dict[str, str] | None = None
) -> str:
    return choose_target(table, goal, schema, "data.csv").column


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        ("predict the species", "species"),
        ("Predict body mass", "body_mass_g"),
        ("estimate BILL-LENGTH in mm", "bill_length_mm"),
        ("use the island to predict the sex of a penguin", "sex"),
        ("predict species from island and body mass", "species"),
        ("which penguins are Gentoo?", "species"),
    ],
)
def test_target_from_goal(penguins: pd.DataFrame, goal: str, expected: str) -> None:
    assert target_of(penguins, goal) == expected


def test_target_never_inside_a_word() -> None:
    table = pd.DataFrame({"age": [1, 2], "price": [3, 4]})
    assert target_of(table, "forecast the average price") == "price"


def test_target_from_output_schema(penguins: pd.DataFrame) -> None:
    choice = choose_target(penguins, "anything", {"Body Mass G": "float"}, "p.csv")
    assert choice.column == "body_mass_g"
    assert choice.output_key == "Body Mass G"
    assert choice.output_type == "float"


def test_output_schema_key_without_column(penguins: pd.DataFrame) -> None:
    schema = {"prediction": "str", "probability": "float"}
    choice = choose_target(penguins, "predict the species", schema, "p.csv")
    assert choice.column == "species"
    assert choice.output_key == "prediction"


def test_target_not_found_lists_columns(penguins: pd.DataFrame) -> None:
    with pytest.raises(InvalidRequest) as raised:
        target_of(penguins, "make something useful")
    assert raised.value.field == "goal"
    assert "bill_depth_mm" in raised.value.message
    assert "output_schema" in raised.value.message


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a", "b"] * 10, "binary"),
        ([0, 1, 2] * 40, "multiclass"),
        ([True, False] * 5, "binary"),
        (list(range(100)), "regression"),
        ([0.5, 1.5] * 20, "regression"),
    ],
)
def test_task_rules(values: list[object], expected: str) -> None:
    task, reason = decide_task(pd.Series(values, name="y"), None)
    assert task == expected
    assert reason


def test_task_follows_output_type() -> None:
    task, _ = decide_task(pd.Series([0, 1, 2] * 40, name="y"), "float")
    assert task == "regression"


def test_float_output_type_needs_numbers() -> None:
    with pytest.raises(InvalidRequest) as raised:
        decide_task(pd.Series(["a", "b"] * 10, name="y"), "float")
    assert raised.value.field == "output_schema"


def test_schema_forms_normalise() -> None:
    plain = normalise_schema({"a": "integer", "b": "number", "c": "string"}, "x")
    json_schema = normalise_schema(
        {"type": "object", "properties": {"d": {"type": ["boolean", "null"]}}}, "x"
    )
    assert plain == {"a": "int", "b": "float", "c": "str"}
    assert json_schema == {"d": "bool"}


def test_schema_unknown_type_names_key() -> None:
    with pytest.raises(InvalidRequest) as raised:
        normalise_schema({"age": "timestamp"}, "input_schema")
    assert raised.value.field == "input_schema"
    assert "'age'" in raised.value.message


def test_metric_aliases() -> None:
    assert find_metric("F1-Score").name == "f1"
    assert find_metric("root_mean_squared_error").name == "rmse"
    assert find_metric("AUC").name == "roc_auc"


def test_metric_must_fit_task() -> None:
    with pytest.raises(InvalidRequest) as raised:
        metric_for_task("rmse", "binary")
    assert "accuracy" in raised.value.message


def test_identifier_columns_dropped() -> None:
    table = pd.DataFrame(
        {
            "id": range(50),
            "code": [f"c{i}" for i in range(50)],
            "x": [i % 7 for i in range(50)],
            "constant": [1] * 50,
            "y": [i % 2 for i in range(50)],
        }
    )
    choice = choose_features(table, "y", None)
    reasons = {dropped.column: dropped.reason for dropped in choice.dropped}
    assert choice.features == ["x"]
    assert "identifier" in reasons["id"]
    assert "identifier" in reasons["code"]
    assert "same value" in reasons["constant"]


def test_penguin_plan_keeps_missing_rows() -> None:
    request = BuildRequest(goal="predict the species", upload_id="u", max_iterations=1)
    plan = plan_from_file(data_file("penguins.csv"), "penguins.csv", request)
    assert plan.task == "multiclass"
    assert plan.metric == "log_loss"
    assert plan.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert plan.feature_types["island"] == "str"
    assert plan.rows == 344


@pytest.mark.parametrize(
    "text", ["a;b\n1;2\n3;4\n", "a\tb\n1\t2\n3\t4\n"], ids=["semicolon", "tab"]
)
def test_csv_delimiter_detected(tmp_path: Path, text: str) -> None:
    path = tmp_path / "data.csv"
    path.write_text(text)
    table = load_table(path, "data.csv")
    assert list(table.columns) == ["a", "b"]
    assert table["b"].tolist() == [2, 4]


def test_unreadable_json_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"a": 1},')
    with pytest.raises(InvalidRequest) as raised:
        load_table(path, "broken.json")
    assert "broken.json" in raised.value.message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\data\\my file.csv", "my_file.csv"),
        ("..", "data"),
        (".hidden.csv", "hidden.csv"),
    ],
)
def test_sanitise_filename(name: str, expected: str) -> None:
    assert sanitise_filename(name) == expected


MEMORY_PROBE = """
import json, sys
from pathlib import Path
from plexe_tui.engine.planning import plan_from_file
from plexe_tui.engine.records import BuildRequest

def peak_bytes():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) * 1024

small = BuildRequest(goal="predict progression", upload_id="u", max_iterations=1)
plan_from_file(Path(sys.argv[2]), "diabetes.csv", small)
before = peak_bytes()
request = BuildRequest(goal="predict y", upload_id="u", max_iterations=1)
plan = plan_from_file(Path(sys.argv[1]), "large.csv", request, sample_rows=1000)
print(json.dumps({"growth": peak_bytes() - before, "rows": plan.rows}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_planning_reads_little_of_a_large_file(tmp_path: Path) -> None:
    generator = np.random.default_rng(0)
    rows = 400_000
    table = pd.DataFrame(
        generator.normal(size=(rows, 10)).round(4),
        columns=[f"x{index}" for index in range(10)],
    )
    table["y"] = generator.integers(0, 2, rows)
    path = tmp_path / "large.csv"
    table.to_csv(path, index=False)
    del table

    completed = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(path), str(data_file("diabetes.csv"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["rows"] == rows
    # Reading the whole file takes about three times its size; planning reads
    # 1,000 rows and one column.
    assert result["growth"] < path.stat().st_size / 3


def test_latin1_after_utf8_start(tmp_path: Path) -> None:
    # The first 64 KiB decide the encoding; a Latin-1 byte after them is read
    # again as Latin-1 instead of failing.
    start = "name,value\n" + "plain,1\n" * 10_000
    path = tmp_path / "late.csv"
    path.write_bytes(start.encode() + "café,2\n".encode("latin-1"))
    table = load_table(path, "late.csv")
    assert table["name"].iloc[-1] == "café"
    assert len(table) == 10_001


def test_sample_and_column_reads(tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(100)))
    sample = load_sample(path, "numbers.csv", 10)
    assert len(sample.table) == 10
    assert not sample.complete
    assert load_sample(path, "numbers.csv", 100).complete
    column = load_column(path, "numbers.csv", "b")
    assert column.tolist() == [i * 2 for i in range(100)]
    assert table_shape(path, "numbers.csv") == (100, ["a", "b"])
