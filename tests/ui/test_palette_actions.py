"""Every command the palette offers on each screen names an action that exists.

Textual ignores a binding whose action has no `action_` method, so a
misspelt action would be a palette entry that does nothing.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.actions import parse

from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.detail import DetailScreen
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    settle,
    wait_for_screen,
    write_jobs,
)


def missing_actions(app: PlexeApp) -> tuple[int, list[str]]:
    """Return how many palette commands of the screen in front run an action,
    and those whose action is missing."""
    checked = 0
    missing = []
    for command in app.get_system_commands(app.screen):
        callback = command.callback
        if not isinstance(callback, partial) or callback.func != app.run_action:
            continue  # A command of its own, such as switching servers.
        action, node = callback.args
        target, name, _ = parse(action)
        owner: Any = app if target == "app" else node or app.screen
        checked += 1
        if not callable(getattr(owner, f"action_{name}", None)):
            missing.append(f"{command.title}: {action} on {type(owner).__name__}")
    return checked, missing


@pytest.mark.parametrize(
    "keys", [(), ("n",), ("enter",)], ids=["jobs", "form", "detail"]
)
async def test_palette_actions_exist(
    platform: FakePlatform, config_dir: Path, keys: tuple[str, ...]
) -> None:
    write_jobs(
        config_dir,
        [job_table("cancer", "3", platform.url, status="completed", error="boom")],
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*keys)
        if keys == ("n",):
            await wait_for_screen(pilot, BuildScreen)
        elif keys == ("enter",):
            await wait_for_screen(pilot, DetailScreen)
        checked, missing = missing_actions(app)

    assert checked > 5
    assert not missing, "\n".join(missing)
