"""The key bar at the bottom of each screen, without the palette key when narrow."""

from __future__ import annotations

from textual import events, on
from textual.widgets import Footer

PALETTE_KEY_FROM_COLUMNS = 100
"""Narrower than this, the command palette's key leaves the bar, so that at 80
columns every key of the job list and of the detail fits. The help screen (?)
still lists it."""


class KeyFooter(Footer):
    """Textual's footer, without the command palette's key on narrow terminals."""

    @on(events.Resize)
    def fit_keys(self, event: events.Resize) -> None:
        self.show_command_palette = event.size.width >= PALETTE_KEY_FROM_COLUMNS
