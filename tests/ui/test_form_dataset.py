"""Pilot tests of the dataset preview in the build form, and of the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from plexe_tui.samples import SAMPLE_GOAL, SAMPLE_NAME
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.widgets.schema_editor import SchemaEditor
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    enter_value,
    field_error,
    field_note,
    focus_field,
    form_values,
    make_app,
    open_form,
    open_new_form,
    row_cells,
    settle,
    shown_content,
    wait_until,
    widget_text,
)

SUMMARY = (
    "CSV, 31 columns. The first 8 rows, with the types guessed from the first "
    "200 rows of the file:"
)


async def test_preview_summary_line(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, screen):
        assert screen.query_one("#preview").display
        assert shown_content(pilot, "#preview-summary") == SUMMARY
        assert field_error(pilot, "dataset") is None


async def test_preview_first_rows(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (_, screen):
        table = screen.query_one("#preview-rows", DataTable)
        first_row = [str(cell) for cell in table.get_row_at(0)]
        headers = [str(column.label) for column in table.ordered_columns]

        assert table.row_count == 8
        assert len(headers) == 31
        assert headers[0] == "mean radius\nfloat"
        assert headers[-1] == "diagnosis\nstr"
        assert first_row[0] == "17.99"
        assert first_row[-1] == "malignant"


async def test_preview_header_shows_types(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (_, screen):
        lines = widget_text(screen.query_one("#preview-rows", DataTable)).splitlines()

        assert lines[0].split()[:2] == ["mean", "radius"]
        assert lines[1].split()[:2] == ["float", "float"]
        assert lines[2].split()[:2] == ["17.99", "10.38"]


async def test_preview_columns_table(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (_, screen):
        editor = screen.query_one("#schema", SchemaEditor)

        assert editor.row_count == 31
        assert row_cells(editor, "diagnosis") == ["diagnosis", "str", "feature"]
        assert row_cells(editor, "mean radius") == ["mean radius", "float", "feature"]


@pytest.mark.parametrize(
    ("name", "text", "summary"),
    [
        (
            "flights.tsv",
            "carrier\tdelay\tdistance\nAA\t12\t1.5\nUA\t-3\t2.25\n",
            "TSV, 3 columns. All 2 rows of the file",
        ),
        (
            "houses.csv",
            "city;price;sold\nLyon;1.5;yes\nNice;2;no\nOslo;3.25;yes\n",
            "CSV (semicolons), 3 columns. All 3 rows of the file",
        ),
        (
            "people.jsonl",
            '{"age": 31, "vip": true, "city": "Oslo"}\n'
            '{"age": 45, "vip": false, "city": "Lima"}\n',
            "JSON lines, 3 columns. All 2 rows of the file",
        ),
    ],
)
async def test_preview_other_formats(
    platform: FakePlatform,
    config_dir: Path,
    tmp_path: Path,
    name: str,
    text: str,
    summary: str,
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    async with open_form(platform.url, config_dir, path) as (pilot, screen):
        summary_text = shown_content(pilot, "#preview-summary") or ""
        editor = screen.query_one("#schema", SchemaEditor)

        assert summary_text.startswith(summary)
        assert editor.row_count == 3


async def test_preview_follows_new_file(
    platform: FakePlatform, config_dir: Path, dataset_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "flights.tsv"
    other.write_text("carrier\tdelay\nAA\t12\n", encoding="utf-8")
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, screen):
        await enter_value(pilot, "dataset", str(other))
        editor = screen.query_one("#schema", SchemaEditor)

        assert editor.row_count == 2
        assert row_cells(editor, "delay") == ["delay", "int", "feature"]


async def test_preview_hidden_without_file(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    async with open_form(platform.url, config_dir, dataset_file) as (pilot, screen):
        await enter_value(pilot, "dataset", "upl-42")

        assert not screen.query_one("#preview").display
        assert screen.query_one("#schema", SchemaEditor).row_count == 0


async def test_ragged_csv_blocked(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6,7\n", encoding="utf-8")
    async with open_form(platform.url, config_dir, path) as (pilot, _):
        assert field_error(pilot, "dataset") == (
            "ragged.csv is not valid CSV: line 3 has 4 fields, but the header has "
            "3. Quote the fields that contain the delimiter, or remove the extra "
            "fields."
        )


async def test_short_csv_row_noted(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "short.csv"
    path.write_text("a,b,c\n1,2\n4,5,6\n", encoding="utf-8")
    async with open_form(platform.url, config_dir, path) as (pilot, _):
        assert field_error(pilot, "dataset") is None
        assert field_note(pilot, "dataset") == (
            "Line 2 of short.csv has 2 fields, but the header has 3: the server "
            "reads the missing fields as missing values."
        )


async def test_parquet_file_accepted(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "table.parquet"
    path.write_bytes(b"PAR1\x15\x04\x15\x10\x00\x00PAR1")
    async with open_form(platform.url, config_dir, path) as (pilot, screen):
        summary = shown_content(pilot, "#preview-summary") or ""

        assert field_error(pilot, "dataset") is None
        assert summary.startswith("Parquet: the form shows no preview")
        assert not screen.query_one("#preview-rows", DataTable).display
        assert not screen.query_one("#schema", SchemaEditor).display


async def test_sample_prefills_form(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        screen = pilot.app.screen
        values = form_values(pilot)

        assert isinstance(screen, BuildScreen)
        assert Path(values["dataset"]).is_file()
        assert values["goal"] == SAMPLE_GOAL
        assert values["model_name"] == SAMPLE_NAME
        assert screen.query_one("#schema", SchemaEditor).row_count == 31
        assert field_note(pilot, "goal") == (
            "The goal names the column diagnosis: the server will probably predict "
            "it. Press t on its row in the columns table to be sure."
        )


async def test_tab_completes_dataset_path(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "churn.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    typed = str(folder / "chu")

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await focus_field(pilot, "#dataset")
        dataset = pilot.app.screen.query_one("#dataset", Input)
        dataset.value = typed[:-1]
        dataset.cursor_position = len(dataset.value)
        await pilot.press(typed[-1])
        await wait_until(
            pilot, lambda: "churn.csv" in widget_text(dataset), "the completion"
        )
        await pilot.press("tab")

        assert dataset.value == str(folder / "churn.csv")
        assert pilot.app.focused is dataset


async def test_tab_completes_metric(platform: FakePlatform, config_dir: Path) -> None:
    async with open_form(platform.url, config_dir) as (pilot, screen):
        metric = screen.query_one("#metric", Input)
        metric.focus()
        await pilot.press("r", "o")
        await wait_until(
            pilot, lambda: "roc_auc" in widget_text(metric), "the completion"
        )
        await pilot.press("tab")

        assert metric.value == "roc_auc"
        assert pilot.app.focused is metric


async def test_tab_without_completion_moves_on(
    platform: FakePlatform, config_dir: Path
) -> None:
    async with open_form(platform.url, config_dir) as (pilot, screen):
        dataset = screen.query_one("#dataset", Input)
        dataset.focus()
        await pilot.press("u", "p", "l", "tab")

        assert dataset.value == "upl"
        assert pilot.app.focused is not dataset
