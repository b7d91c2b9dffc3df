"""Pilot tests of keys pressed while a screen was still being built.

A key created before the screen in front became ready represents a key the
user pressed while the previous screen was still shown, and delivered late
because the app was busy building the new one.
"""

from __future__ import annotations

from pathlib import Path

from textual import events

from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.screens.detail import DetailScreen
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    form_values,
    job_table,
    make_app,
    settle,
    wait_for_screen,
    write_jobs,
)


def write_churn_job(config_dir: Path, server: str) -> str:
    """Write one completed job to the jobs file and return its key."""
    write_jobs(config_dir, [job_table("churn", "1", server, status="completed")])
    return f"churn:1@{server}"


async def test_key_before_form_ready_dropped(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_churn_job(config_dir, platform.url)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        pressed_again = events.Key("s", "s")
        await pilot.press("s")
        await wait_for_screen(pilot, BuildScreen)
        app.post_message(pressed_again)
        await pilot.pause()

        assert form_values(pilot)["model_name"] == "churn"


async def test_key_after_form_ready_typed(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_churn_job(config_dir, platform.url)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_for_screen(pilot, BuildScreen)
        await pilot.press("end", "2")

        assert form_values(pilot)["model_name"] == "churn2"


async def test_enter_before_question_dropped(
    platform: FakePlatform, config_dir: Path
) -> None:
    key = write_churn_job(config_dir, platform.url)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for_screen(pilot, DetailScreen)
        enter = events.Key("enter", "\r")
        await pilot.press("f")
        await wait_for_screen(pilot, ChoiceScreen)
        app.post_message(enter)
        await settle(pilot)

        assert isinstance(app.screen, ChoiceScreen)
        assert app.book.get(key) is not None
