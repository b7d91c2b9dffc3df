"""Commands of the palette (ctrl+p): every keyed action, plus the server profiles.

The palette reads the same bindings as the help screen, so a binding with a
description on a screen, on a widget of this package, or on the app is a
command without further work. Actions that have no key, such as switching to
another server profile, are added here.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

from plexe_tui.ui.keys import (
    KeyEntry,
    is_enabled,
    key_display,
    key_entries,
    screen_key_entries,
)

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

# Bindings that would make no sense as a command: opening the palette itself.
NOT_COMMANDS = frozenset({"command-palette"})


def palette_commands(app: PlexeApp, screen: Screen[object]) -> Iterator[SystemCommand]:
    """Yield a command per action of `screen` and of the app, then per server."""
    entries = screen_key_entries(screen, app.keymap) + key_entries(app, app.keymap)
    titles = set()
    for entry in entries:
        # Bindings without an id are Textual's own, such as tab for the next
        # field; the help screen lists them, but they make poor commands.
        binding_id = entry.binding.id
        if binding_id is None or binding_id in NOT_COMMANDS or not is_enabled(entry):
            continue
        # `q` on a screen and ctrl+q on the app both quit: offer one of them.
        if entry.binding.description in titles:
            continue
        titles.add(entry.binding.description)
        yield SystemCommand(
            entry.binding.description,
            command_help(app, entry),
            partial(app.run_action, entry.binding.action, entry.node),
        )

    for name, profile in app.config.profiles.items():
        if name == app.profile:
            continue
        where = "a local engine" if profile.is_local else profile.base_url
        yield SystemCommand(
            f"Switch server profile: {name}",
            f"Use {where}, as [profiles.{name}] of config.toml sets",
            partial(app.request_server_switch, name),
        )


def command_help(app: PlexeApp, entry: KeyEntry) -> str:
    """Return the tooltip and the keys of a binding, as the palette's second line."""
    keys = " or ".join(key_display(app, key) for key in entry.keys)
    tooltip = entry.binding.tooltip or entry.binding.description
    return f"{tooltip} ({keys})"
