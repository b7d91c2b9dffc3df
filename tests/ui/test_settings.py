"""Pilot tests of config.toml in the app: keys, help, palette, themes and servers."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.color import Color
from textual.command import CommandList, CommandPalette
from textual.notifications import Notification
from textual.widgets import Input

from plexe_tui.store.config import Settings
from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.keys import declared_bindings, known_binding_ids, own_node_classes
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.help import HelpScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from plexe_tui.ui.themes import readable_text_colours
from plexe_tui.ui.widgets.job_table import JobTable
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    open_new_form,
    settle,
    wait_for_screen,
    wait_until,
    widget_text,
    write_jobs,
)


def write_config(config_dir: Path, text: str) -> Path:
    path = config_dir / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def notifications(app: App[Any]) -> list[Notification]:
    """Return the toasts the app has shown and not yet expired."""
    # Textual keeps them in a private list; no public accessor exists in 8.2.
    return list(app._notifications)


def help_text(app: App[Any]) -> str:
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    return widget_text(screen.query_one("#help-table"))


def command_titles(app: PlexeApp) -> list[str]:
    return [command.title for command in app.get_system_commands(app.screen)]


# Every binding


def test_every_binding_has_id_and_tooltip() -> None:
    known_binding_ids(PlexeApp)  # Imports every screen and widget module.
    classes = [PlexeApp, *own_node_classes()]

    missing = []
    for cls in classes:
        for binding in declared_bindings(cls):
            if not (binding.id and binding.description and binding.tooltip):
                missing.append(f"{cls.__name__}: {binding.key} -> {binding.action}")

    assert missing == []


# Help


async def test_help_lists_screen_and_app(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for_screen(pilot, HelpScreen)

        text = help_text(app)
        for expected in ("This screen", "Everywhere", "New build", "Try a sample"):
            assert expected in text
        for expected in ("Describe a new build", "Poll the servers now"):
            assert expected in text
        for binding_id in ("new", "refresh", "quit-anywhere", "theme", "help"):
            assert binding_id in text

        await pilot.press("escape")
        await wait_for_screen(pilot, JobsScreen)


async def test_f1_help_from_form_field(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        form = await open_new_form(pilot)
        form.query_one("#model_name", Input).focus()
        await pilot.press("question_mark")
        await pilot.pause()

        assert form.query_one("#model_name", Input).value == "?"

        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        text = help_text(app)

        for expected in ("Submit", "Browse files", "Target", "Exclude", "Help"):
            assert expected in text
        assert "Try a sample" not in text


async def test_help_shows_remapped_key(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_config(config_dir, '[keys]\nrefresh = "f5"\n')
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)

        assert "f5 (was r)" in help_text(app)


# Remaps


async def test_remap_applied(platform: FakePlatform, config_dir: Path) -> None:
    write_config(config_dir, '[keys]\nnew = "ctrl+n"\n')
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

        assert isinstance(app.screen, JobsScreen)

        await pilot.press("ctrl+n")
        await wait_for_screen(pilot, BuildScreen)

    assert notifications(app) == []


async def test_remap_several_keys(platform: FakePlatform, config_dir: Path) -> None:
    write_config(config_dir, '[keys]\nhelp = "h,f1"\n')
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await wait_for_screen(pilot, HelpScreen)


async def test_bad_remaps_warned_once(platform: FakePlatform, config_dir: Path) -> None:
    write_config(
        config_dir,
        '[keys]\nrefesh = "f5"\nnew = "ctrl+bogus"\nsample = "f7"\n',
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)

        [toast] = notifications(app)
        assert toast.severity == "warning"
        assert "refesh" in toast.message
        assert "'ctrl+bogus'" in toast.message

        await pilot.press("f7")
        await wait_for_screen(pilot, BuildScreen)


async def test_remap_clash_warned(platform: FakePlatform, config_dir: Path) -> None:
    write_config(config_dir, '[keys]\nrefresh = "n"\n')
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

        assert isinstance(app.screen, JobsScreen)
        [toast] = notifications(app)
        assert "takes n from New build (new) on the job list" in toast.message


# Settings warnings


async def test_corrupt_config_warned_once(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_config(config_dir, "theme = [unclosed\n")
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)

        [toast] = notifications(app)
        assert toast.title == "Settings"
        assert "moved to config.toml.corrupt-" in toast.message
        assert app.theme == "textual-dark"


async def test_readable_config_warned(platform: FakePlatform, config_dir: Path) -> None:
    path = write_config(config_dir, 'theme = "dark"\n')
    path.chmod(0o644)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)

        [toast] = notifications(app)
        assert f"chmod 600 {path}" in toast.message


# Themes


async def test_theme_from_config(platform: FakePlatform, config_dir: Path) -> None:
    write_config(config_dir, 'theme = "light"\n')
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)

        assert app.theme == "textual-light"
        assert notifications(app) == []


async def test_unknown_theme_warned(platform: FakePlatform, config_dir: Path) -> None:
    path = write_config(config_dir, 'theme = "sepia"\n')
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)

        assert app.theme == "textual-dark"
        [toast] = notifications(app)
        assert "'sepia'" in toast.message

    # The app never rewrites a setting the user did not change.
    assert path.read_text(encoding="utf-8") == 'theme = "sepia"\n'


async def test_theme_toggle_saved(platform: FakePlatform, config_dir: Path) -> None:
    path = config_dir / "config.toml"

    def saved_theme() -> str | None:
        if not path.exists():
            return None
        return tomllib.loads(path.read_text(encoding="utf-8")).get("theme")

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)

        assert app.theme == "textual-light"
        await wait_until(pilot, lambda: saved_theme() == "light", "theme = light")

        await pilot.press("ctrl+t")
        await settle(pilot)

        assert app.theme == "textual-dark"
        await wait_until(pilot, lambda: saved_theme() == "dark", "theme = dark")

    assert path.stat().st_mode & 0o777 == 0o600
    reopened = make_app(platform.url, config_dir)
    assert isinstance(reopened.config, Settings)
    assert reopened.config.theme == "dark"


async def test_theme_change_recolours_rows(
    platform: FakePlatform, config_dir: Path
) -> None:
    # Pending is drawn in the primary colour, shaded to be readable, which
    # differs between the themes. Of two pending jobs, one is under the
    # cursor, drawn in the cursor's colours.
    write_jobs(
        config_dir,
        [
            job_table("cancer", "3", platform.url),
            job_table("cancer", "4", platform.url),
        ],
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        dark_primary = primary_text_colour(app)

        assert dark_primary in drawn_colours(app, "pending")

        await pilot.press("ctrl+t")
        await settle(pilot)

        light_colours = drawn_colours(app, "pending")
        assert primary_text_colour(app) in light_colours
        assert dark_primary not in light_colours


def primary_text_colour(app: PlexeApp) -> Color:
    """Return the theme's primary colour as the app draws it for text."""
    return Color.parse(readable_text_colours(app.current_theme)["primary"])


def drawn_colours(app: PlexeApp, word: str) -> list[Color]:
    """Return the colours the jobs table draws `word` in, line by line."""
    table = app.screen.query_one("#jobs", JobTable)
    colours = []
    for y in range(table.size.height):
        for segment in table.render_line(y):
            style = segment.style
            if segment.text.strip() == word and style and style.color:
                colours.append(Color.from_rich_color(style.color))
    return colours


# Command palette


async def test_palette_offers_actions(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        titles = command_titles(app)

        for expected in (
            "New build",
            "Open",
            "Refresh",
            "Resubmit",
            "Try a sample",
            "Help",
            "Light/dark",
            "Quit",
            "Switch server profile: local",
            "Switch server profile: hosted",
        ):
            assert expected in titles
        assert len(titles) == len(set(titles))


async def test_palette_runs_new_build(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_for_screen(pilot, CommandPalette)
        await pilot.press(*"new build")
        await pilot.pause()
        commands = app.screen.query_one(CommandList)
        await wait_until(
            pilot,
            lambda: (
                commands.option_count > 0
                and "New build" in str(commands.get_option_at_index(0).prompt)
            ),
            "New build at the top of the palette",
        )
        await pilot.press("enter")

        await wait_for_screen(pilot, BuildScreen)


@pytest.mark.parametrize("word", ["profile", "server", "hosted"])
async def test_palette_finds_profile_switch(
    platform: FakePlatform, config_dir: Path, word: str
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_for_screen(pilot, CommandPalette)
        await pilot.press(*word)
        commands = app.screen.query_one(CommandList)

        def prompts() -> list[str]:
            return [
                str(commands.get_option_at_index(index).prompt)
                for index in range(commands.option_count)
            ]

        await wait_until(
            pilot,
            lambda: any("profile: hosted" in prompt for prompt in prompts()),
            f"the hosted profile's command for {word!r}",
        )


@pytest.mark.parametrize(
    ("title", "check"),
    [
        ("Help", lambda app: isinstance(app.screen, HelpScreen)),
        ("Light/dark", lambda app: app.theme == "textual-light"),
        ("Refresh", None),
    ],
)
async def test_palette_command_runs_action(
    platform: FakePlatform, config_dir: Path, title: str, check: Any
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        before = len(platform.requests)
        [command] = [c for c in app.get_system_commands(app.screen) if c.title == title]

        app.call_later(command.callback)
        await settle(pilot)

        if check is None:
            assert len(platform.requests) > before
        else:
            assert check(app)


async def test_palette_switches_server(
    platform: FakePlatform, config_dir: Path
) -> None:
    with FakePlatform(api_key="second-server-key-314159") as second:
        second.set_build("churn", "4", status="building", build_progress=10)
        write_jobs(
            config_dir,
            [job_table("churn", "4", second.url, status="pending")],
        )
        write_config(
            config_dir,
            f"""
[profiles.second]
base_url = "{second.url}"
api_key_env = "SECOND_SERVER_KEY"
api_key = "second-server-key-314159"
""",
        )
        app = make_app(platform.url, config_dir)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await settle(pilot)
            [command] = [
                c
                for c in app.get_system_commands(app.screen)
                if c.title == "Switch server profile: second"
            ]

            app.call_later(command.callback)
            await wait_until(
                pilot,
                lambda: app.book.get(f"churn:4@{second.url}").status == "building",
                "the second server's status of churn 4",
            )
            await settle(pilot)

            assert app.connection.server == second.url
            assert app.profile == "second"
            assert app.book.get(f"churn:4@{second.url}").status == "building"
            titles = command_titles(app)
            assert "Switch server profile: second" not in titles
            assert any("Now using" in toast.message for toast in notifications(app))
