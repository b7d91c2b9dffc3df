"""The user's settings in the running app: theme, key remaps, help and warnings.

The app calls these from its handlers, so that app.py only wires them up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.theme import Theme

from plexe_tui.store.config import FILE_NAME, Settings, save_setting
from plexe_tui.ui.keys import (
    check_keymap,
    find_clashes,
    key_entries,
    known_binding_ids,
    screen_key_entries,
)
from plexe_tui.ui.themes import config_value, resolve_theme

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

log = logging.getLogger(__name__)

WARNING_SECONDS = 20
"""How long the settings warnings stay on screen: long enough to read a path."""


@dataclass
class UserSettingsCheck:
    """The theme and key remaps that apply, and a warning for each one that cannot."""

    theme: str
    keymap: dict[str, str]
    warnings: list[str]


def check_user_settings(
    config: Settings, available_themes: Collection[str]
) -> UserSettingsCheck:
    """Check the theme and the `[keys]` remaps of config.toml against this app.

    The config.toml reader checks only types; theme names and binding ids are
    known here, where the screens are. `plexe-tui config` runs this too.
    """
    from plexe_tui.ui.app import PlexeApp

    theme, theme_warning = resolve_theme(config.theme, available_themes)
    warnings = [theme_warning] if theme_warning else []
    keymap: dict[str, str] = {}
    if config.keys:
        check = check_keymap(config.keys, known_binding_ids(PlexeApp))
        warnings.extend(check.warnings)
        warnings.extend(find_clashes(PlexeApp, check.keymap))
        keymap = check.keymap
    return UserSettingsCheck(theme, keymap, warnings)


def apply_user_settings(app: PlexeApp) -> None:
    """Apply the theme and key remaps of config.toml; show its problems once."""
    check = check_user_settings(app.config, app.available_themes)
    warnings = [*app.settings.config_warnings, *check.warnings]

    app.theme = check.theme
    app.saved_theme = config_value(check.theme)
    app.theme_changed_signal.subscribe(app, app.theme_changed)

    if check.keymap:
        apply_keymap(app, check.keymap)

    for warning in warnings:
        log.warning("%s", warning)
    if warnings:
        app.notify(
            "\n".join(warnings),
            title="Settings",
            severity="warning",
            timeout=WARNING_SECONDS,
            markup=False,
        )


def apply_keymap(app: PlexeApp, keymap: dict[str, str]) -> None:
    """Remap keys by binding id, the command palette's key included."""
    app.keymap = keymap
    app.set_keymap(keymap)
    palette_keys = keymap.get("command-palette")
    if palette_keys:
        # The footer finds the palette's key under this name.
        app.COMMAND_PALETTE_BINDING = palette_keys.split(",")[0]


def open_help(app: PlexeApp) -> None:
    """Show the keys of the current screen and of the app."""
    from plexe_tui.ui.screens.help import HelpScreen

    screen = app.screen
    if isinstance(screen, HelpScreen):
        return
    # Bindings without an id are those every Textual screen inherits, such
    # as tab: they belong with the app's, which work everywhere too.
    screen_entries = screen_key_entries(screen, app.keymap)
    own = [entry for entry in screen_entries if entry.binding.id]
    inherited = [entry for entry in screen_entries if not entry.binding.id]
    sections = [
        ("This screen", own),
        ("Everywhere", key_entries(app, app.keymap) + inherited),
    ]
    app.push_screen(HelpScreen(sections))


def save_theme(app: PlexeApp, theme: Theme) -> None:
    """Write a newly chosen theme to config.toml in the background."""
    value = config_value(theme.name)
    if value == app.saved_theme:
        return
    app.saved_theme = value
    app.run_worker(
        _write_theme(app, value),
        name="save-theme",
        group="save-theme",
        exit_on_error=False,
    )
    log.info("Theme changed to %s", value)


async def _write_theme(app: PlexeApp, value: str) -> None:
    path = app.settings.config_dir / FILE_NAME
    try:
        await asyncio.to_thread(save_setting, path, "theme", value)
    except OSError as exc:
        log.error("Cannot save the theme to %s: %s", path, exc)
        app.notify(
            f"Cannot save the theme to {path}: {exc.strerror}. It applies until "
            "the app quits; check the folder's permissions and space.",
            title="Settings",
            severity="error",
            markup=False,
        )
