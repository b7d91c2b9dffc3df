"""Pilot tests of the build form's checks, shown beside each field as it changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Button

from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    enter_value,
    field_error,
    open_form,
)

ITERATIONS = "Enter a whole number from 1 to 50."
NOT_AN_OBJECT = 'Expected a JSON object such as {"age": "int", "city": "str"}.'
NAME_CHARACTERS = (
    "Use only ASCII letters (a-z, A-Z), digits, '-' and '_': no spaces, "
    "'/' or accented letters."
)


@pytest.mark.parametrize(
    ("field_id", "edits", "expected"),
    [
        (
            "model_name",
            ["c", ""],
            "Required: a name for the model, e.g. churn-predictor.",
        ),
        ("model_name", ["churn.v2"], NAME_CHARACTERS),
        ("model_name", ["café"], NAME_CHARACTERS),
        (
            "model_name",
            ["c" * 65],
            "Too long: 65 characters; use at most 64.",
        ),
        (
            "goal",
            ["p", "  "],
            "Required: say what the model should predict, e.g. 'predict the churn'.",
        ),
        (
            "goal",
            ["predict"],
            "Too short to act on: say what to predict in a few words, e.g. "
            "'predict the churn' (at least 2 words).",
        ),
        (
            "goal",
            ["do it"],
            "Too short to act on: say what to predict in a few words, e.g. "
            "'predict the churn' (at least 2 words).",
        ),
        (
            "input_schema",
            ["{age: int}"],
            "Invalid JSON at column 2: Expecting property name enclosed in "
            "double quotes.",
        ),
        (
            "output_schema",
            ['{"y": "decimal"}'],
            "Unknown type 'decimal' for 'y'; use one of bool, boolean, float, int, "
            "integer, number, str, string.",
        ),
        ("input_schema", ['["age"]'], NOT_AN_OBJECT),
        ("output_schema", ["{}"], NOT_AN_OBJECT),
        ("max_iterations", ["51"], ITERATIONS),
    ],
)
async def test_field_rule_shown(
    platform: FakePlatform,
    config_dir: Path,
    field_id: str,
    edits: list[str],
    expected: str,
) -> None:
    async with open_form(platform.url, config_dir) as (pilot, _):
        for text in edits:
            await enter_value(pilot, field_id, text)

        assert field_error(pilot, field_id) == expected


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "scan.csv",
            b"id,image\n1,\x00\xff\xd8\xff",
            "scan.csv is a binary file, not CSV or JSON text.",
        ),
        ("empty.csv", b"", "empty.csv is empty."),
        ("header.csv", b"id,price\n", "header.csv has a header but no rows."),
        (
            "repeats.csv",
            b"id,price,price\n1,2,3\n",
            "repeats.csv repeats column names: price. "
            "Rename them so each column has its own name.",
        ),
    ],
)
async def test_dataset_preview_rule_shown(
    platform: FakePlatform,
    config_dir: Path,
    tmp_path: Path,
    name: str,
    content: bytes,
    expected: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    async with open_form(platform.url, config_dir, path) as (pilot, screen):
        assert field_error(pilot, "dataset") == expected
        assert not screen.query_one("#preview").display


async def test_dataset_missing_file_shown(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "gone" / "churn.csv"
    async with open_form(platform.url, config_dir, path) as (pilot, _):
        assert (
            field_error(pilot, "dataset") == f"File not found: {path}. Check the path."
        )


async def test_dataset_folder_shown(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "dataset", f"{tmp_path}/")

        assert field_error(pilot, "dataset") == (
            f"{tmp_path} is a folder; choose a file inside it."
        )


async def test_dataset_not_regular_file(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "stream.csv"
    os.mkfifo(fifo)
    async with open_form(platform.url, config_dir, fifo) as (pilot, _):
        assert field_error(pilot, "dataset") == (
            f"{fifo} is not a regular file; choose a CSV or JSON file."
        )


async def test_submit_follows_validity(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_bytes(b"")
    async with open_form(platform.url, config_dir) as (pilot, screen):
        submit = screen.query_one("#submit", Button)
        assert submit.disabled

        await enter_value(pilot, "model_name", "churn")
        await enter_value(pilot, "goal", "predict the churn")
        assert not submit.disabled

        await enter_value(pilot, "max_iterations", "51")
        assert submit.disabled

        await enter_value(pilot, "max_iterations", "50")
        assert not submit.disabled

        await enter_value(pilot, "dataset", str(empty_csv))
        assert submit.disabled

        await enter_value(pilot, "dataset", "")
        assert not submit.disabled
