"""Light and dark themes: the names config.toml accepts, the toggle between them,
and text colours that stay readable on either."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

from textual.color import BLACK, WHITE, Color, ColorParseError
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


# WCAG 2.1's minimum contrast for normal text (success criterion 1.4.3, AA).
MIN_TEXT_CONTRAST = 4.5
# Steps from a colour to black or white when looking for a readable shade.
BLEND_STEPS = 20


def readable_colour(colour: str, theme: Theme) -> str:
    """Return `colour`, darkened on a light theme or lightened on a dark one until
    its contrast with the theme's background, surface and panel is at least
    MIN_TEXT_CONTRAST. A colour that is already readable is returned unchanged.

    Textual's default themes draw success and warning in light colours that are
    hard to read on the light theme's grey, 1.5:1 for the warning orange.
    """
    return _readable_colour(colour, theme_backgrounds(theme), theme.dark)


_backgrounds: dict[str, tuple[str, ...]] = {}
"""Backgrounds by the theme's repr, which lists every field. A Theme is not
hashable, so lru_cache cannot key on it."""


def theme_backgrounds(theme: Theme) -> tuple[str, ...]:
    """Return the colours a theme draws text on, as Textual derives them."""
    key = repr(theme)
    if key not in _backgrounds:
        variables = theme.to_color_system().generate()
        names = ("background", "surface", "panel")
        _backgrounds[key] = tuple(variables[name] for name in names)
    return _backgrounds[key]


@lru_cache(maxsize=256)
def _readable_colour(colour: str, backgrounds: tuple[str, ...], dark: bool) -> str:
    try:
        start = Color.parse(colour)
        under = [Color.parse(background) for background in backgrounds]
    except ColorParseError:
        return colour
    # ANSI colours are the terminal's to choose, so they are left alone.
    if start.ansi is not None or any(b.ansi is not None for b in under):
        return colour

    target = WHITE if dark else BLACK
    for step in range(BLEND_STEPS + 1):
        candidate = start.blend(target, step / BLEND_STEPS)
        if all(contrast_ratio(candidate, b) >= MIN_TEXT_CONTRAST for b in under):
            return colour if step == 0 else candidate.hex
    return target.hex


def contrast_ratio(first: Color, second: Color) -> float:
    """Return the WCAG 2.1 contrast ratio of two colours, from 1 to 21."""
    lighter, darker = sorted(
        (relative_luminance(first), relative_luminance(second)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def relative_luminance(colour: Color) -> float:
    """Return the WCAG 2.1 relative luminance of a colour, from 0 to 1."""
    red, green, blue = (
        channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4
        for channel in colour.normalized
    )
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def readable_text_colours(theme: Theme) -> dict[str, str]:
    """Return the theme's primary, warning, error, success and accent colours, by
    name, each shaded by `readable_colour`.

    A theme may leave all but the primary colour unset, and Textual's fallbacks
    fill them in.
    """
    key = repr(theme)
    if key not in _text_colours:
        secondary = theme.secondary or theme.primary
        colours = {
            "primary": theme.primary,
            "warning": theme.warning or theme.primary,
            "error": theme.error or secondary,
            "success": theme.success or secondary,
            "accent": theme.accent or theme.primary,
        }
        _text_colours[key] = {
            name: readable_colour(colour, theme) for name, colour in colours.items()
        }
    return _text_colours[key]


_text_colours: dict[str, dict[str, str]] = {}
"""Readable text colours by the theme's repr, as `_backgrounds` is keyed."""


def readable_text_variables(theme: Theme) -> dict[str, str]:
    """Return the CSS variables `$readable-primary`, `-warning`, `-error`,
    `-success` and `-accent`, from `readable_text_colours`.

    Textual's `$text-warning` and `$text-accent` are 3.3:1 on the light theme.
    """
    colours = readable_text_colours(theme)
    return {f"readable-{name}": colour for name, colour in colours.items()}
