"""Unit tests of the dataset preview, the schema model and the form's text helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from plexe_tui.ui.form_rules import FormValues, describe_changes, suggest_name
from plexe_tui.ui.preview import (
    PREVIEW_ROWS,
    SAMPLE_BYTES,
    SAMPLE_ROWS,
    Column,
    guess_type,
    preview_file,
    preview_summary,
)
from plexe_tui.ui.schema_model import (
    ROLE_EXCLUDED,
    ROLE_FEATURE,
    ROLE_TARGET,
    SchemaModel,
    column_named_in_goal,
)
from tests.ui.helpers import DATA_DIR

BREAST_CANCER = DATA_DIR / "breast_cancer.csv"


def write_file(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a file of text (UTF-8) or bytes into `folder` and return its path."""
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def penguin_model() -> SchemaModel:
    """Return a schema model of four columns with their guessed types."""
    return SchemaModel.from_columns(
        [
            Column("species", "str", distinct=3, missing=0),
            Column("island", "str", distinct=3, missing=0),
            Column("body_mass_g", "int", distinct=90, missing=2),
            Column("bill_length_mm", "float", distinct=160, missing=2),
        ]
    )


# preview_file


def test_preview_csv_columns() -> None:
    preview = preview_file(BREAST_CANCER)

    assert preview.error is None
    assert preview.file_format == "CSV"
    assert len(preview.columns) == 31
    assert preview.columns[0].name == "mean radius"
    assert preview.columns[-1].name == "diagnosis"


def test_preview_csv_guessed_types() -> None:
    preview = preview_file(BREAST_CANCER)
    diagnosis = preview.column("diagnosis")
    radius = preview.column("mean radius")

    assert diagnosis is not None
    assert diagnosis.type == "str"
    assert diagnosis.distinct == 2
    assert radius is not None
    assert radius.type == "float"


def test_preview_csv_sample_size() -> None:
    preview = preview_file(BREAST_CANCER)

    assert len(preview.rows) == PREVIEW_ROWS
    assert preview.sampled_rows == SAMPLE_ROWS
    assert preview.rows[0][0] == "17.99"
    assert preview.rows[0][-1] == "malignant"


def test_preview_tsv(tmp_path: Path) -> None:
    path = write_file(tmp_path, "flights.tsv", "carrier\tdelay\nAA\t12\nUA\t-3\n")
    preview = preview_file(path)

    assert preview.file_format == "TSV"
    assert [c.name for c in preview.columns] == ["carrier", "delay"]
    assert [c.type for c in preview.columns] == ["str", "int"]


def test_preview_semicolon_csv(tmp_path: Path) -> None:
    text = "city;price;sold\nLyon;1.5;yes\nNice;2;no\n"
    preview = preview_file(write_file(tmp_path, "houses.csv", text))

    assert preview.file_format == "CSV (semicolons)"
    assert [c.type for c in preview.columns] == ["str", "float", "bool"]


def test_preview_json_lines(tmp_path: Path) -> None:
    text = '{"age": 31, "vip": true}\n\n{"age": 45, "vip": false, "city": "Oslo"}\n'
    preview = preview_file(write_file(tmp_path, "people.jsonl", text))

    assert preview.file_format == "JSON lines"
    assert [c.name for c in preview.columns] == ["age", "vip", "city"]
    assert [c.type for c in preview.columns] == ["int", "bool", "str"]
    assert preview.rows == [["31", "true", ""], ["45", "false", "Oslo"]]


def test_preview_json_array(tmp_path: Path) -> None:
    text = '[{"x": 1.5, "y": null}, {"x": 2, "y": "b"}]'
    preview = preview_file(write_file(tmp_path, "points.json", text))

    assert preview.file_format == "JSON"
    assert preview.sampled_rows == 2
    y_column = preview.column("y")
    assert y_column is not None
    assert y_column.missing == 1


def test_preview_json_object_of_columns(tmp_path: Path) -> None:
    text = '{"x": [1.5, 2], "y": ["a", "b"]}'
    preview = preview_file(write_file(tmp_path, "columns.json", text))

    assert preview.error is None
    assert [c.name for c in preview.columns] == ["x", "y"]
    assert preview.rows == [["1.5", "a"], ["2", "b"]]


def test_preview_json_single_record(tmp_path: Path) -> None:
    preview = preview_file(write_file(tmp_path, "one.json", '{"a": 1, "b": "x"}'))

    assert preview.error is None
    assert preview.rows == [["1", "x"]]


def test_preview_json_lines_in_json_file(tmp_path: Path) -> None:
    text = '{"age": 31}\n{"age": 45}\n'
    preview = preview_file(write_file(tmp_path, "people.json", text))

    assert preview.file_format == "JSON lines"
    assert preview.rows == [["31"], ["45"]]


def test_csv_header_starting_with_bracket(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i * 2},{i % 2}\n" for i in range(20))
    path = write_file(tmp_path, "measurements.csv", "[id],size,target\n" + rows)

    preview = preview_file(path)

    assert preview.error is None
    assert [column.name for column in preview.columns] == ["[id]", "size", "target"]


def test_csv_header_starting_with_brace(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 2}\n" for i in range(20))
    path = write_file(tmp_path, "templated.csv", "{name},target\n" + rows)

    preview = preview_file(path)

    assert preview.error is None
    assert [column.name for column in preview.columns] == ["{name}", "target"]


def test_preview_unknown_suffix_json(tmp_path: Path) -> None:
    preview = preview_file(write_file(tmp_path, "export.data", '[{"a": 1}]'))

    assert preview.file_format == "JSON"


def test_preview_parquet_not_read(tmp_path: Path) -> None:
    content = b"PAR1\x15\x04\x15\x10\x00\x00PAR1"
    preview = preview_file(write_file(tmp_path, "table.parquet", content))

    assert preview.error is None
    assert preview.file_format == "Parquet"
    assert preview.columns == []


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (1, "CSV, 1 column. The file's only row, with the types guessed from it:"),
        (
            3,
            "CSV, 1 column. All 3 rows of the file, with the types guessed from them:",
        ),
        (
            SAMPLE_ROWS,
            f"CSV, 1 column. The first {PREVIEW_ROWS} rows, with the types guessed "
            f"from all {SAMPLE_ROWS} rows of the file:",
        ),
        (
            SAMPLE_ROWS + 1,
            f"CSV, 1 column. The first {PREVIEW_ROWS} rows, with the types guessed "
            f"from the first {SAMPLE_ROWS} rows of the file:",
        ),
    ],
)
def test_preview_summary_counts(tmp_path: Path, rows: int, expected: str) -> None:
    text = "size\n" + "".join(f"{i}\n" for i in range(rows))
    preview = preview_file(write_file(tmp_path, "sizes.csv", text))

    assert preview_summary(preview) == expected


def test_preview_ragged_row_rejected(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,3\n\n4,5,6,7\n"
    preview = preview_file(write_file(tmp_path, "ragged.csv", text))

    assert preview.error is not None
    assert preview.error.startswith(
        "ragged.csv is not valid CSV: line 4 has 4 fields, but the header has 3."
    )


def test_preview_short_row_warned(tmp_path: Path) -> None:
    preview = preview_file(write_file(tmp_path, "short.csv", "a,b\n1,2\n3\n"))

    assert preview.error is None
    assert preview.warning == (
        "Line 3 of short.csv has 1 field, but the header has 2: the server reads "
        "the missing fields as missing values."
    )


def test_preview_quoted_delimiter_not_ragged(tmp_path: Path) -> None:
    text = 'city,price\n"Lyon, France",2\n'
    preview = preview_file(write_file(tmp_path, "cities.csv", text))

    assert preview.error is None
    assert preview.warning is None


def test_preview_missing_words(tmp_path: Path) -> None:
    text = "score\n1\nNA\n?\n\n3\nnull\n"
    preview = preview_file(write_file(tmp_path, "scores.csv", text))
    score = preview.column("score")

    assert score is not None
    assert score.type == "int"
    assert score.missing == 3
    assert score.distinct == 2


def test_preview_latin1_text(tmp_path: Path) -> None:
    path = write_file(tmp_path, "cafes.csv", "name\ncaf\xe9\n".encode("latin-1"))
    preview = preview_file(path)

    assert preview.error is None
    assert preview.rows == [["café"]]


def test_preview_large_file_reads_start(tmp_path: Path) -> None:
    row = "12345," + "x" * 100 + "\n"
    rows = SAMPLE_BYTES // len(row) + 100
    path = write_file(tmp_path, "wide.csv", "id,text\n" + row * rows)
    preview = preview_file(path)

    assert preview.error is None
    assert preview.sampled_rows == SAMPLE_ROWS


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "blob.csv",
            b"a,b\n\x00\x01\x02",
            "blob.csv is a binary file, not CSV or JSON text.",
        ),
        ("empty.csv", b"", "empty.csv is empty."),
        ("blank.csv", b"  \n\n", "blank.csv is empty."),
        ("header.csv", b"a,b,c\n", "header.csv has a header but no rows."),
        (
            "repeats.csv",
            b"id,price,id,price\n1,2,3,4\n",
            "repeats.csv repeats column names: id, price. "
            "Rename them so each column has its own name.",
        ),
        (
            "number.json",
            b"5",
            "number.json must contain an array of records, not a single value.",
        ),
        (
            "broken.json",
            b'[{"a": 1},',
            "broken.json is not valid JSON: Expecting value at line 1.",
        ),
        ("none.json", b"[]", "none.json has no records."),
        (
            "numbers.jsonl",
            b"1\n2\n",
            "numbers.jsonl must contain JSON objects, one per record.",
        ),
    ],
)
def test_preview_file_error(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    preview = preview_file(write_file(tmp_path, name, content))

    assert preview.error == expected
    assert preview.columns == []


def test_preview_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.csv"

    assert preview_file(path).error == f"Cannot read {path}: No such file or directory."


# guess_type


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], "str"),
        (["1", "-2", "30"], "int"),
        (["0", "1"], "int"),
        (["1", "2.5"], "float"),
        (["1e3", "nan"], "float"),
        (["true", "False", "YES", "no"], "bool"),
        (["yes", "maybe"], "str"),
        (["1", "x"], "str"),
    ],
)
def test_guess_type(values: list[str], expected: str) -> None:
    assert guess_type(values) == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (Column("label", "str", distinct=500, missing=0), True),
        (Column("flag", "bool", distinct=2, missing=0), True),
        (Column("grade", "int", distinct=20, missing=0), True),
        (Column("count", "int", distinct=21, missing=0), False),
        (Column("price", "float", distinct=3, missing=0), False),
    ],
)
def test_column_looks_categorical(column: Column, expected: bool) -> None:
    assert column.looks_categorical is expected


# column_named_in_goal


@pytest.mark.parametrize(
    ("goal", "columns", "expected"),
    [
        ("predict body mass", ["body_mass_g"], None),
        ("predict body mass g", ["body_mass_g"], "body_mass_g"),
        ("Predict the DIAGNOSIS", ["mean radius", "diagnosis"], "diagnosis"),
        ("estimate the mean radius", ["mean radius", "radius"], "mean radius"),
        ("predict body mass g", ["mass", "body_mass_g"], "body_mass_g"),
        ("predict the price", ["rice"], None),
        (
            "guess worst concave points",
            ["worst concave points"],
            "worst concave points",
        ),
        ("predict a b c d e", ["a b c d e"], None),
        ("predict the churn", [], None),
    ],
)
def test_column_named_in_goal(
    goal: str, columns: list[str], expected: str | None
) -> None:
    assert column_named_in_goal(goal, columns) == expected


# SchemaModel


def test_schema_model_starts_unchosen() -> None:
    model = penguin_model()

    assert {model.role(c.name) for c in model.columns} == {ROLE_FEATURE}
    assert model.input_schema() is None
    assert model.output_schema() is None


def test_schema_model_target_schemas() -> None:
    model = penguin_model()
    model.set_target("species")

    assert model.role("species") == ROLE_TARGET
    assert model.output_schema() == {"species": "str"}
    assert model.input_schema() == {
        "island": "str",
        "body_mass_g": "int",
        "bill_length_mm": "float",
    }


def test_schema_model_target_toggles_off() -> None:
    model = penguin_model()
    model.set_target("species")
    model.set_target("species")

    assert model.target is None
    assert model.output_schema() is None


def test_schema_model_exclude_and_restore() -> None:
    model = penguin_model()
    model.toggle_excluded("island")

    assert model.role("island") == ROLE_EXCLUDED
    assert "island" not in (model.input_schema() or {})

    model.toggle_excluded("island")

    assert model.role("island") == ROLE_FEATURE


def test_schema_model_exclude_target() -> None:
    model = penguin_model()
    model.set_target("species")
    model.toggle_excluded("species")

    assert model.target is None
    assert model.role("species") == ROLE_EXCLUDED


def test_schema_model_cycle_type() -> None:
    model = penguin_model()
    seen = []
    for _ in range(4):
        model.cycle_type("body_mass_g")
        seen.append(model.types["body_mass_g"])

    assert seen == ["float", "str", "bool", "int"]


def test_schema_model_retype_writes_input() -> None:
    model = penguin_model()
    model.cycle_type("body_mass_g")

    assert model.input_schema() == {
        "species": "str",
        "island": "str",
        "body_mass_g": "float",
        "bill_length_mm": "float",
    }


def test_schema_model_round_trip() -> None:
    model = penguin_model()
    model.set_target("species")
    model.toggle_excluded("island")
    model.cycle_type("body_mass_g")
    rebuilt = penguin_model()
    rebuilt.apply_schemas(model.input_schema(), model.output_schema())

    assert rebuilt.target == "species"
    assert rebuilt.excluded == {"island"}
    assert rebuilt.types == model.types
    assert rebuilt.input_schema() == model.input_schema()


def test_schema_model_type_aliases() -> None:
    model = penguin_model()
    model.apply_schemas(
        {"island": "string", "body_mass_g": "number", "bill_length_mm": "integer"},
        {"species": "boolean"},
    )

    assert model.types == {
        "species": "bool",
        "island": "str",
        "body_mass_g": "float",
        "bill_length_mm": "int",
    }


def test_schema_model_ignores_unknown() -> None:
    model = penguin_model()
    model.apply_schemas({"island": "str", "wing": "float"}, {"colour": "str"})

    assert model.target is None
    assert model.excluded == {"species", "body_mass_g", "bill_length_mm"}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("species", "multiclass"),
        ("bill_length_mm", "regression"),
        ("body_mass_g", "regression"),
        ("wing", None),
        (None, None),
    ],
)
def test_schema_model_task_of(target: str | None, expected: str | None) -> None:
    assert penguin_model().task_of(target) == expected


def test_schema_model_binary_task() -> None:
    model = SchemaModel.from_columns([Column("sick", "int", distinct=2, missing=0)])

    assert model.task_of("sick") == "binary"


# describe_changes


def test_describe_changes_none() -> None:
    values = FormValues(model_name="churn", goal="predict churn", metric="f1")

    assert describe_changes(values, FormValues(**vars(values))) == []


def test_describe_changes_goal_and_metric() -> None:
    before = FormValues(model_name="churn", goal="predict churn", metric="f1")
    after = FormValues(model_name="churn", goal="predict churn soon", metric="mae")

    assert describe_changes(before, after) == [
        "Goal: 'predict churn' → 'predict churn soon'",
        "Metric: 'f1' → 'mae'",
    ]


def test_describe_changes_ignores_spacing() -> None:
    before = FormValues(goal="predict the churn")
    after = FormValues(goal="  predict\nthe   churn ")

    assert describe_changes(before, after) == []


def test_describe_changes_empty_value() -> None:
    before = FormValues(provider="openai/gpt-4o")

    assert describe_changes(before, FormValues()) == [
        "Provider: 'openai/gpt-4o' → (empty)"
    ]


def test_describe_changes_long_value() -> None:
    after = FormValues(goal="x" * 100)

    assert describe_changes(FormValues(), after) == [
        "Goal: (empty) → '" + "x" * 59 + "…'"
    ]


# suggest_name


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("breast_cancer.csv", "breast-cancer"),
        ("Sales Data 2024.tsv", "sales-data-2024"),
        ("predict the churn", "predict-the-churn"),
        ("???.csv", "model"),
        ("a" * 70 + ".csv", "a" * 64),
        ("x" * 63 + "_y.csv", "x" * 63),
    ],
)
def test_suggest_name(source: str, expected: str) -> None:
    assert suggest_name(source) == expected
