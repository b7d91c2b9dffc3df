"""The inference rules: features from schemas, typed values, example rows, bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plexe_tui.ui.inference import (
    Feature,
    example_row,
    features_from_schema,
    parse_value,
    request_body,
)

PENGUIN_FEATURES = [
    Feature("island", "str"),
    Feature("bill_length_mm", "float"),
    Feature("flipper_length_mm", "int"),
    Feature("sex", "str"),
    Feature("year", "int"),
]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"age": "int", "city": "str"},
            [Feature("age", "int"), Feature("city", "str")],
        ),
        (
            {"a": "integer", "b": "number", "c": "string", "d": "boolean"},
            [
                Feature("a", "int"),
                Feature("b", "float"),
                Feature("c", "str"),
                Feature("d", "bool"),
            ],
        ),
        (
            {"properties": {"x": {"type": "number"}, "y": {"type": "boolean"}}},
            [Feature("x", "float"), Feature("y", "bool")],
        ),
        (
            {"when": "datetime", "blob": None},
            [Feature("when", "str"), Feature("blob", "str")],
        ),
        (None, []),
        (["age"], []),
    ],
)
def test_features_from_schema(schema: Any, expected: list[Feature]) -> None:
    assert features_from_schema(schema) == expected


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("42", "int", 42),
        (" -7 ", "int", -7),
        ("181.0", "int", 181),
        ("3.5", "float", 3.5),
        ("1e3", "float", 1000.0),
        ("2", "float", 2.0),
        ("true", "bool", True),
        ("No", "bool", False),
        ("1", "bool", True),
        ("Torgersen", "str", "Torgersen"),
        (" spaced ", "str", " spaced "),
        ("NA", "str", "NA"),
        ("", "int", None),
        ("  ", "str", None),
        ("NA", "float", None),
        ("nan", "int", None),
        ("?", "bool", None),
    ],
)
def test_parse_value_valid(text: str, kind: str, expected: Any) -> None:
    value = parse_value(text, kind)

    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("4.5", "int", "must be a whole number, such as 42"),
        ("abc", "int", "must be a whole number, such as 42"),
        ("abc", "float", "must be a number, such as 3.5"),
        ("inf", "float", "must be a number, such as 3.5; infinity cannot be sent"),
        (
            "-Infinity",
            "int",
            "must be a whole number, such as 42; infinity cannot be sent",
        ),
        ("1e999", "float", "is out of range: numbers go up to about 1.8e+308"),
        ("-1e999", "int", "is out of range: numbers go up to about 1.8e+308"),
        ("maybe", "bool", "must be true or false (or yes, no, 1, 0)"),
    ],
)
def test_parse_value_invalid(text: str, kind: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_value(text, kind)

    assert str(caught.value) == message


def test_request_body_schema_keys_only() -> None:
    values = {"island": "Dream", "bill_length_mm": "40.1", "species": "Adelie"}
    features = [Feature("island", "str"), Feature("bill_length_mm", "float")]

    body = request_body(values, features)

    assert body == {"island": "Dream", "bill_length_mm": 40.1}


def test_request_body_missing_is_null() -> None:
    body = request_body({}, [Feature("year", "int")])

    assert body == {"year": None}


def test_request_body_names_invalid() -> None:
    with pytest.raises(ValueError, match=r"^year must be a whole number"):
        request_body({"year": "soon"}, [Feature("year", "int")])


def test_example_row_first_data_row(penguins_file: Path) -> None:
    row = example_row(str(penguins_file), PENGUIN_FEATURES)

    assert row == {
        "island": "Torgersen",
        "bill_length_mm": "39.1",
        "flipper_length_mm": "181.0",
        "sex": "male",
        "year": "2007",
    }


def test_example_row_missing_values_empty(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("island,bill_length_mm,sex\nDream,NA,NA\n", encoding="utf-8")
    features = [
        Feature("island", "str"),
        Feature("bill_length_mm", "float"),
        Feature("sex", "str"),
    ]

    row = example_row(str(path), features)

    assert row == {"island": "Dream", "bill_length_mm": "", "sex": "NA"}


@pytest.mark.parametrize(
    "dataset",
    [None, "", "upl_6e6ee8c8", "https://example.org/data.csv", "/no/such/file.csv"],
)
def test_example_row_not_local_file(dataset: str | None) -> None:
    assert example_row(dataset, PENGUIN_FEATURES) == {}


def test_example_row_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x00\x01\x02" * 100)

    assert example_row(str(path), PENGUIN_FEATURES) == {}
