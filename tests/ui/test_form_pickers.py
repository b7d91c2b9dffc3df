"""Pilot tests of the pickers that fill the Dataset field: local files and uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from plexe_tui.api import PlexeClient
from plexe_tui.ui.format import size_text
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.pickers import (
    DataFileTree,
    FilePickerScreen,
    UploadPickerScreen,
)
from tests.engine.engine_harness import EngineProcess
from tests.fake_platform import FAKE_API_KEY, FakePlatform
from tests.ui.helpers import (
    enter_value,
    form_values,
    open_form,
    row_cells,
    settle,
    shown_content,
    submit_status,
    wait_for_screen,
    wait_until,
)


def data_folder(tmp_path: Path) -> Path:
    """Make a folder of two data files, a subfolder, a text file and a hidden CSV."""
    folder = tmp_path / "datasets"
    (folder / "archive").mkdir(parents=True)
    (folder / "archive" / "old.csv").write_text("a\n1\n", encoding="utf-8")
    (folder / "churn.csv").write_text("plan,churned\nbasic,no\n", encoding="utf-8")
    (folder / "prices.jsonl").write_text('{"price": 3}\n', encoding="utf-8")
    (folder / "notes.txt").write_text("not data\n", encoding="utf-8")
    (folder / ".hidden.csv").write_text("a\n1\n", encoding="utf-8")
    return folder


async def open_file_picker(pilot: Pilot[Any]) -> FilePickerScreen:
    """Press ctrl+o in the form and wait until the picker lists its folder.

    The tree keeps a loader worker running while it is shown, so `settle` would
    wait for it in vain.
    """
    await pilot.press("ctrl+o")
    await wait_until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, FilePickerScreen)
            and bool(pilot.app.screen.query_one(DataFileTree).root.children)
        ),
        "the file picker's folder",
    )
    screen = pilot.app.screen
    assert isinstance(screen, FilePickerScreen)
    return screen


async def upload_files(platform: FakePlatform, paths: list[Path]) -> None:
    """Upload files to the fake platform as an earlier session would have."""
    client = PlexeClient(platform.url, FAKE_API_KEY)
    try:
        for path in paths:
            await client.upload_file(path)
    finally:
        await client.aclose()


# Local files


async def test_browse_opens_dataset_folder(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    folder = data_folder(tmp_path)
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "dataset", str(folder / "churn.csv"))
        picker = await open_file_picker(pilot)
        tree = picker.query_one(DataFileTree)
        listed = [str(node.label) for node in tree.root.children]

        assert picker.start == folder
        assert shown_content(pilot, "#picker-folder") == str(folder)
        assert listed == ["archive", "churn.csv", "prices.jsonl"]


async def test_browse_keys_fill_dataset(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    folder = data_folder(tmp_path)
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "dataset", str(folder / "churn.csv"))
        await open_file_picker(pilot)
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()

        assert isinstance(pilot.app.screen, BuildScreen)
        assert form_values(pilot)["dataset"] == str(folder / "prices.jsonl")
        assert pilot.app.focused is pilot.app.screen.query_one("#dataset")


async def test_browse_escape_keeps_dataset(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    folder = data_folder(tmp_path)
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "dataset", str(folder / "churn.csv"))
        await open_file_picker(pilot)
        await pilot.press("down", "escape")
        await pilot.pause()

        assert isinstance(pilot.app.screen, BuildScreen)
        assert form_values(pilot)["dataset"] == str(folder / "churn.csv")


async def test_browse_backspace_goes_up(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    folder = data_folder(tmp_path)
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "dataset", str(folder / "archive"))
        picker = await open_file_picker(pilot)
        start = picker.start
        await pilot.press("backspace")
        await pilot.pause()

        assert start == folder / "archive"
        assert shown_content(pilot, "#picker-folder") == str(folder)


async def tree_names(pilot: Pilot[Any], expected: list[str]) -> list[str]:
    """Wait until the picker's tree lists `expected`; return what it lists."""
    tree = pilot.app.screen.query_one(DataFileTree)

    def names() -> list[str]:
        return [str(node.label) for node in tree.root.children]

    await wait_until(pilot, lambda: names() == expected, f"the tree to list {expected}")
    return names()


async def test_browse_typing_finds_files(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    """Letters typed in the tree go to the path field, which narrows the list."""
    folder = data_folder(tmp_path)
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "dataset", str(folder / "churn.csv"))
        picker = await open_file_picker(pilot)
        await pilot.press("p", "r")
        field = picker.query_one("#picker-path", Input)
        found = await tree_names(pilot, ["prices.jsonl"])
        await pilot.press("down", "enter")
        await pilot.pause()

        assert field.value == "pr"
        assert found == ["prices.jsonl"]
        assert form_values(pilot)["dataset"] == str(folder / "prices.jsonl")


async def test_browse_typed_path_chosen(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    folder = data_folder(tmp_path)
    async with open_form(platform.url, config_dir) as (pilot, _):
        await enter_value(pilot, "dataset", str(folder / "churn.csv"))
        picker = await open_file_picker(pilot)
        field = picker.query_one("#picker-path", Input)
        field.focus()
        field.value = str(folder / "archive") + "/"
        await tree_names(pilot, ["old.csv"])
        folder_line = shown_content(pilot, "#picker-folder")
        field.value = str(folder / "archive" / "old.csv")
        await pilot.press("enter")
        await pilot.pause()

        assert folder_line == str(folder / "archive")
        assert form_values(pilot)["dataset"] == str(folder / "archive" / "old.csv")


# Uploads on the server


async def test_upload_list_picks_upload(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    folder = data_folder(tmp_path)
    await upload_files(platform, [folder / "churn.csv", folder / "prices.jsonl"])
    async with open_form(platform.url, config_dir) as (pilot, _):
        await pilot.press("ctrl+l")
        await settle(pilot)
        picker = pilot.app.screen
        assert isinstance(picker, UploadPickerScreen)
        table = picker.query_one("#upload-table", DataTable)

        assert table.row_count == 2
        assert row_cells(table, "upl-1")[:4] == [
            "upl-1",
            "churn.csv",
            "22 B",
            "complete",
        ]
        assert row_cells(table, "upl-2")[1] == "prices.jsonl"

        await pilot.press("down", "enter")
        await pilot.pause()

        assert isinstance(pilot.app.screen, BuildScreen)
        assert form_values(pilot)["dataset"] == "upl-2"


async def test_upload_list_original_name(
    model_engine: EngineProcess, config_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "unicode_ñ_数据_🚀.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    upload_id = model_engine.upload(path)
    async with open_form(model_engine.base_url, config_dir, api_key=None) as (
        pilot,
        _,
    ):
        await pilot.press("ctrl+l")
        await wait_for_screen(pilot, UploadPickerScreen)
        table = pilot.app.screen.query_one("#upload-table", DataTable)

        assert row_cells(table, upload_id)[1:3] == ["unicode_ñ_数据_🚀.csv", "8 B"]


@pytest.mark.parametrize(
    ("size_bytes", "expected"),
    [
        (None, ""),
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (4_200, "4.2 kB"),
        (31_000_000, "31.0 MB"),
        (1_500_000_000, "1.5 GB"),
        (2_000_000_000_000, "2000.0 GB"),
    ],
)
def test_size_text(size_bytes: int | None, expected: str) -> None:
    assert size_text(size_bytes) == expected


async def test_upload_list_empty_status(
    platform: FakePlatform, config_dir: Path
) -> None:
    async with open_form(platform.url, config_dir) as (pilot, _):
        await pilot.press("ctrl+l")
        await settle(pilot)

        assert isinstance(pilot.app.screen, BuildScreen)
        assert submit_status(pilot) == (
            "The server has no uploads yet; choose a local file."
        )


async def test_upload_list_error_status(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.respond(
        "GET",
        "/uploads",
        status=500,
        json={"error": {"code": "internal", "message": "Upload index offline."}},
    )
    async with open_form(platform.url, config_dir) as (pilot, _):
        await pilot.press("ctrl+l")
        await settle(pilot)

        assert isinstance(pilot.app.screen, BuildScreen)
        assert submit_status(pilot) == (
            "Cannot list the uploads: Server error 500: Upload index offline."
        )
