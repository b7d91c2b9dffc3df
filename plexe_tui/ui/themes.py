"""Light and dark themes: the names config.toml accepts, and the toggle between them."""

from __future__ import annotations

from collections.abc import Collection

from textual.theme import Theme

from plexe_tui.store.config import DARK, LIGHT

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
ALIASES = {DARK: DARK_THEME, LIGHT: LIGHT_THEME}
"""Short names config.toml accepts for the default themes."""


def resolve_theme(name: str, available: Collection[str]) -> tuple[str, str | None]:
    """Return the Textual theme for a config value, and a warning if it is unknown."""
    theme = ALIASES.get(name, name)
    if theme in available:
        return theme, None
    return DARK_THEME, (
        f"Ignored theme = {name!r} in config.toml: no theme has that name. Use "
        f"dark, light or a Textual theme ({', '.join(sorted(available))})."
    )


def toggled_theme(current: Theme) -> str:
    """Return the default theme of the other kind: light after dark, else dark."""
    return LIGHT_THEME if current.dark else DARK_THEME


def config_value(theme: str) -> str:
    """Return the name to write in config.toml: `dark`/`light` for the defaults."""
    for alias, name in ALIASES.items():
        if name == theme:
            return alias
    return theme
