"""Tests of dataset uploads from the build form: progress, cancel and reuse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button

from plexe_tui.api import PlexeClient
from plexe_tui.store.uploads import UploadCache
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.submission import Submission
from tests.fake_platform import FAKE_API_KEY, FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    enter_value,
    form_values,
    make_app,
    open_form,
    open_new_form,
    submit_status,
    wait_for_screen,
    wait_until,
)

GOAL = "predict the diagnosis"
# A generated CSV of LARGE_BLOCKS blocks of LARGE_BLOCK_ROWS rows of 100 bytes:
# 30 MB, so the upload takes many 1 MiB chunks.
LARGE_BLOCKS = 30
LARGE_BLOCK_ROWS = 10_000
# Seconds the fake platform delays the upload's response. The test cancels long
# before, and the platform's reset releases the response.
HELD_SECONDS = 30.0


def write_large_csv(path: Path) -> int:
    """Write the generated CSV and return its size in bytes."""
    rows = [f"{i:06d},{i % 7},{'x' * 90}\n" for i in range(LARGE_BLOCK_ROWS)]
    block = "".join(rows).encode("ascii")
    with path.open("wb") as handle:
        handle.write(b"id,group,text\n")
        for _ in range(LARGE_BLOCKS):
            handle.write(block)
    return path.stat().st_size


@pytest.fixture
async def client(platform: FakePlatform) -> AsyncIterator[PlexeClient]:
    """An API client of the fake platform, closed after the test."""
    api = PlexeClient(platform.url, FAKE_API_KEY)
    yield api
    await api.aclose()


async def submit_file(pilot: Pilot[Any], dataset: Path) -> DetailScreen:
    """Fill a new form with a goal and a dataset, submit it, wait for the detail."""
    await open_new_form(pilot)
    await enter_value(pilot, "goal", GOAL)
    await enter_value(pilot, "dataset", str(dataset))
    await pilot.press("ctrl+s")
    return await wait_for_screen(pilot, DetailScreen)


async def test_upload_reports_progress(
    platform: FakePlatform, client: PlexeClient, tmp_path: Path
) -> None:
    path = tmp_path / "large.csv"
    size = write_large_csv(path)
    progress: list[tuple[int, int]] = []
    statuses: list[str] = []
    submission = Submission(
        client,
        platform.url,
        UploadCache(tmp_path / "uploads.toml"),
        on_status=statuses.append,
        on_progress=lambda sent, total: progress.append((sent, total)),
    )
    upload_id = await submission.upload(path)
    sent = [done for done, _ in progress]
    transfer = [text for text in statuses if text.startswith("Uploading large.csv:")]
    last = transfer[-1]

    assert upload_id == "upl-1"
    assert len(progress) > 1
    assert sent == sorted(sent)
    assert progress[-1] == (size, size)
    assert {total for _, total in progress} == {size}
    assert last.startswith("Uploading large.csv: 30.0 of 30.0 MB at ")
    assert " MB/s, " in last
    assert last.endswith(" s left. Press escape to cancel.")
    assert len(platform.stored_upload("upl-1") or b"") == size


async def test_upload_recorded_in_cache(
    platform: FakePlatform, client: PlexeClient, dataset_file: Path, tmp_path: Path
) -> None:
    cache = UploadCache(tmp_path / "uploads.toml")
    statuses: list[str] = []
    submission = Submission(
        client,
        platform.url,
        cache,
        on_status=statuses.append,
        on_progress=lambda sent, total: None,
    )
    upload_id = await submission.upload(dataset_file)

    assert cache.find(platform.url, dataset_file) == upload_id
    assert cache.find("http://127.0.0.1:9", dataset_file) is None


async def test_upload_cancel_keeps_form(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    platform.respond("PUT", "/storage/upl-1", delay=HELD_SECONDS)
    async with open_form(platform.url, config_dir) as (pilot, screen):
        await enter_value(pilot, "goal", GOAL)
        await enter_value(pilot, "dataset", str(dataset_file))
        typed = form_values(pilot)
        cancel = screen.query_one("#cancel", Button)
        submit = screen.query_one("#submit", Button)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: platform.count("PUT", "/storage/upl-1") == 1,
            "the upload to reach the server",
        )
        assert screen.busy
        assert submit.disabled
        assert str(cancel.label) == "Cancel upload"
        assert submit_status(pilot).startswith("Uploading breast_cancer.csv: ")

        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.busy, "the upload to stop")
        await pilot.pause()

        assert pilot.app.screen is screen
        assert submit_status(pilot) == (
            "Cancelled: nothing was built, and the form is as it was."
        )
        assert form_values(pilot) == typed
        assert not submit.disabled
        assert str(cancel.label) == "Cancel"
        assert not screen.query_one("#upload-progress").display

    assert platform.count("POST", "/uploads/status") == 0
    assert platform.count("POST", "/models/breast-cancer") == 0


async def test_same_file_uploaded_once(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await submit_file(pilot, dataset_file)
        await pilot.press("escape")
        second = await submit_file(pilot, dataset_file)

    builds = platform.requests_to("POST", "/models/breast-cancer")
    assert second.key == f"breast-cancer:2@{platform.url}"
    assert platform.count("POST", "/uploads") == 1
    assert platform.count("PUT", "/storage/upl-1") == 1
    assert platform.count("GET", "/uploads/upl-1") == 1
    assert [build.json()["upload_id"] for build in builds] == ["upl-1", "upl-1"]


async def test_upload_again_when_gone(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await submit_file(pilot, dataset_file)
        await pilot.press("escape")
        platform.respond(
            "GET",
            "/uploads/upl-1",
            status=404,
            json={"error": {"code": "not_found", "message": "Upload expired."}},
        )
        await submit_file(pilot, dataset_file)

    builds = platform.requests_to("POST", "/models/breast-cancer")
    assert platform.count("GET", "/uploads/upl-1") == 1
    assert platform.count("PUT", "/storage/upl-1") == 1
    assert platform.count("PUT", "/storage/upl-2") == 1
    assert [build.json()["upload_id"] for build in builds] == ["upl-1", "upl-2"]
    assert app.uploads.find(platform.url, dataset_file) == "upl-2"
