"""Pilot tests of the columns table, the schema fields it writes, and the notes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from plexe_tui.ui.widgets.schema_editor import SchemaEditor
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    enter_value,
    field_error,
    field_note,
    form_values,
    job_table,
    open_form,
    row_cells,
    write_jobs,
)

NO_TARGET_NOTE = (
    "The goal names none of the dataset's columns: name one, or press t on a row "
    "of the columns table."
)


async def focus_columns(pilot: Pilot[Any]) -> SchemaEditor:
    """Move the keyboard focus to the columns table, on its first row."""
    editor = pilot.app.screen.query_one("#schema", SchemaEditor)
    editor.focus()
    editor.scroll_visible(animate=False)
    await pilot.pause()
    return editor


def role_of(editor: SchemaEditor, name: str) -> str:
    """Return the Role cell of one column's row."""
    return row_cells(editor, name)[2]


def schema_field(pilot: Pilot[Any], field_id: str) -> dict[str, str]:
    """Parse the JSON in a schema field."""
    schema: dict[str, str] = json.loads(form_values(pilot)[field_id])
    return schema


# The columns table, driven with the keyboard


async def test_target_key_writes_schemas(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        editor = await focus_columns(pilot)
        await pilot.press("ctrl+end", "t")
        input_schema = schema_field(pilot, "input_schema")

        assert role_of(editor, "diagnosis") == "target"
        assert form_values(pilot)["output_schema"] == '{"diagnosis": "str"}'
        assert len(input_schema) == 30
        assert "diagnosis" not in input_schema
        assert input_schema["mean radius"] == "float"
        assert field_note(pilot, "goal") == (
            "Target: diagnosis (chosen in the columns table)."
        )


async def test_target_key_twice_unsets(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        editor = await focus_columns(pilot)
        await pilot.press("ctrl+end", "t", "t")
        values = form_values(pilot)

        assert role_of(editor, "diagnosis") == "feature"
        assert values["output_schema"] == ""
        assert values["input_schema"] == ""


async def test_exclude_key_drops_column(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        editor = await focus_columns(pilot)
        await pilot.press("down", "x")
        input_schema = schema_field(pilot, "input_schema")

        assert role_of(editor, "mean texture") == "left out"
        assert "mean texture" not in input_schema
        assert len(input_schema) == 30
        assert form_values(pilot)["output_schema"] == ""


async def test_type_key_cycles_type(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        editor = await focus_columns(pilot)
        await pilot.press("c")
        after_one = row_cells(editor, "mean radius")[1]
        input_schema = schema_field(pilot, "input_schema")
        await pilot.press("c", "c", "c")
        after_four = row_cells(editor, "mean radius")[1]

        assert after_one == "str"
        assert input_schema["mean radius"] == "str"
        assert input_schema["mean texture"] == "float"
        assert after_four == "float"


async def test_typed_schemas_set_roles(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, screen):
        await enter_value(pilot, "output_schema", '{"diagnosis": "bool"}')
        await enter_value(
            pilot, "input_schema", '{"mean radius": "int", "mean texture": "float"}'
        )
        editor = screen.query_one("#schema", SchemaEditor)

        assert row_cells(editor, "diagnosis") == ["diagnosis", "bool", "target"]
        assert row_cells(editor, "mean radius") == ["mean radius", "int", "feature"]
        assert role_of(editor, "mean texture") == "feature"
        assert role_of(editor, "worst area") == "left out"


async def test_invalid_schema_keeps_table(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        editor = await focus_columns(pilot)
        await pilot.press("ctrl+end", "t")
        before = [row_cells(editor, c.name) for c in editor.model.columns]
        await enter_value(pilot, "output_schema", '{"diagnosis": "str"')
        after = [row_cells(editor, c.name) for c in editor.model.columns]

        assert after == before
        assert field_error(pilot, "output_schema") == (
            "Invalid JSON at column 20: Expecting ',' delimiter."
        )


# Notes beside the fields


async def test_name_suggested_from_file(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        assert form_values(pilot)["model_name"] == "breast-cancer"
        assert field_note(pilot, "model_name") == "Suggested from the file name."


async def test_name_note_gone_after_edit(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        await enter_value(pilot, "model_name", "tumours")

        assert field_note(pilot, "model_name") is None


async def test_typed_name_not_replaced(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "model_name", "tumours")
        await enter_value(pilot, "dataset", str(dataset_file))

        assert form_values(pilot)["model_name"] == "tumours"
        assert field_note(pilot, "model_name") is None


async def test_name_in_job_list_note(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    write_jobs(
        config_dir,
        [
            job_table("breast-cancer", "1", platform.url, status="completed"),
            job_table("breast-cancer", "2", platform.url, status="failed"),
            job_table("breast-cancer", "1", "http://127.0.0.1:9", status="failed"),
        ],
    )
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        assert field_note(pilot, "model_name") == (
            "breast-cancer is already in the job list (2 builds); this build "
            "becomes a new version of it."
        )


async def test_goal_note_names_target(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, screen):
        await enter_value(pilot, "goal", "Predict the diagnosis of each tumour")
        editor = screen.query_one("#schema", SchemaEditor)

        assert field_note(pilot, "goal") == (
            "The goal names the column diagnosis: the server will probably predict "
            "it. Press t on its row in the columns table to be sure."
        )
        assert role_of(editor, "diagnosis") == "target? (named in the goal)"


async def test_goal_note_no_match(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        await enter_value(pilot, "goal", "predict whether the tumour is cancerous")

        assert field_note(pilot, "goal") == NO_TARGET_NOTE


async def test_goal_note_gone_without_dataset(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "goal", "predict the diagnosis")
        await enter_value(pilot, "dataset", str(dataset_file))
        await enter_value(pilot, "dataset", "")

        assert field_note(pilot, "goal") is None


async def test_goal_note_gone_for_bad_file(
    platform: FakePlatform, config_dir: Path, dataset_file: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "goal", "predict the diagnosis")
        await enter_value(pilot, "dataset", str(dataset_file))
        await enter_value(pilot, "dataset", str(empty))

        assert field_note(pilot, "goal") is None


async def test_metric_filled_for_target(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        await enter_value(pilot, "goal", "Predict the diagnosis of each tumour")

        assert form_values(pilot)["metric"] == "roc_auc"
        assert field_note(pilot, "metric") == (
            "Chosen for a binary target; type another to change it."
        )


async def test_metric_follows_target(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        await enter_value(pilot, "goal", "Predict the diagnosis of each tumour")
        await enter_value(pilot, "goal", "Estimate the mean area of each tumour")

        assert form_values(pilot)["metric"] == "rmse"

        await enter_value(pilot, "goal", "Estimate the size of each tumour")

        assert form_values(pilot)["metric"] == ""
        assert field_note(pilot, "metric") is None


async def test_typed_metric_kept(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "metric", "accuracy")
        await enter_value(pilot, "dataset", str(dataset_file))
        await enter_value(pilot, "goal", "Predict the diagnosis of each tumour")

        assert form_values(pilot)["metric"] == "accuracy"
        assert field_note(pilot, "metric") is None


async def test_metric_typed_after_clearing(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        await enter_value(pilot, "goal", "Predict the diagnosis of each tumour")
        assert form_values(pilot)["metric"] == "roc_auc"

        pilot.app.screen.query_one("#metric", Input).focus()
        await pilot.press("end", "ctrl+u")

        assert form_values(pilot)["metric"] == ""

        await pilot.press("m", "a", "e")

        assert form_values(pilot)["metric"] == "mae"
        assert field_note(pilot, "metric") is None


async def test_cleared_metric_stays_empty(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, _):
        await enter_value(pilot, "goal", "Predict the diagnosis of each tumour")
        await enter_value(pilot, "metric", "")
        await enter_value(pilot, "goal", "Estimate the mean area of each tumour")

        assert form_values(pilot)["metric"] == ""
