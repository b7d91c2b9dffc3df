"""Fixtures for Pilot and snapshot tests of the UI."""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.fake_platform import FakePlatform
from tests.ui.helpers import DATA_DIR

# The snapshot server's address appears on screen ("Server: http://..."), so it
# must be the same on every run. 127.0.0.77 keeps it apart from servers that
# other tests bind on 127.0.0.1.
SNAPSHOT_HOST = "127.0.0.77"
SNAPSHOT_PORT = 48765


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """The app's config folder, where it keeps jobs.toml."""
    folder = tmp_path / "config"
    folder.mkdir()
    return folder


@pytest.fixture
def dataset_file(tmp_path: Path) -> Path:
    """A copy of the breast cancer CSV in a folder of this test."""
    target = tmp_path / "data" / "breast_cancer.csv"
    target.parent.mkdir()
    shutil.copyfile(DATA_DIR / "breast_cancer.csv", target)
    return target


@pytest.fixture(scope="session")
def snapshot_server() -> Iterator[FakePlatform]:
    """A fake platform at a fixed address, for screens that show the server URL."""
    server = FakePlatform()
    server.start(host=SNAPSHOT_HOST, port=SNAPSHOT_PORT)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def snapshot_platform(snapshot_server: FakePlatform) -> Iterator[FakePlatform]:
    """The fixed-address fake platform, with no state from other tests."""
    snapshot_server.reset()
    yield snapshot_server
    snapshot_server.reset()


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    """The plugin's snap_compare, with every text cursor stopped before the capture.

    Inputs and text areas blink their cursor every half second, so a capture on a
    busy machine could catch either phase. Stopping the blink hides an Input's
    cursor and shows a focused TextArea's, the same on every run.
    """

    def compare(app: App[Any], *, run_before: Any = None, **options: Any) -> bool:
        async def steady(pilot: Pilot[Any]) -> None:
            if run_before is not None:
                outcome = run_before(pilot)
                if inspect.isawaitable(outcome):
                    await outcome
            for widget in pilot.app.screen.query("Input, TextArea"):
                assert isinstance(widget, (Input, TextArea))
                widget.cursor_blink = False
            await pilot.pause()

        return snap_compare(app, run_before=steady, **options)

    return compare
