"""Lines the app writes to its log about builds, read as a user reading the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    enter_value,
    make_app,
    open_new_form,
    settle,
)


async def test_rejected_build_logged(
    platform: FakePlatform,
    config_dir: Path,
    dataset_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = "The goal names no column of the dataset; name the column to predict."
    platform.respond(
        "POST",
        "/models/cancer",
        status=422,
        json={"error": {"code": "invalid", "message": message, "field": "goal"}},
    )
    caplog.set_level(logging.INFO, logger="plexe_tui")
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await enter_value(pilot, "model_name", "cancer")
        await enter_value(pilot, "goal", "predict the diagnosis")
        await enter_value(pilot, "dataset", str(dataset_file))
        await pilot.press("ctrl+s")
        await settle(pilot)

    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING
    ]
    assert f"The build of cancer on {platform.url} was not started: {message}" in (
        warnings
    )
