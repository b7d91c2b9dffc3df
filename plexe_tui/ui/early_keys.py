"""Dropping keys the user pressed before the screen in front was ready.

Textual queues a key pressed while a new screen is still being built and then
delivers it to that screen. The user pressed it while looking at the screen
before, so it would land somewhere they did not mean: pressing `s` twice on a
slow resubmit typed the second `s` over the form's model name. Such keys, and
pastes, are dropped instead.
"""

from __future__ import annotations

import logging
from typing import Any

from textual import events
from textual._time import get_time
from textual.app import App
from textual.screen import Screen

log = logging.getLogger(__name__)

# NOTE: `get_time` comes from a private Textual module, because event times use
# its clock. A Textual upgrade may move it.


class EarlyKeyFilter:
    """The time the screen in front became ready, used to drop keys pressed earlier."""

    def __init__(self) -> None:
        self._screen: Screen[Any] | None = None
        self._ready_at: float | None = None
        """When `_screen` finished its mount handlers, in Textual's event clock, or
        None before that."""

    def watch(self, app: App[Any]) -> None:
        """Follow the app's screen changes. Call it once the app is running."""
        app.screen_change_signal.subscribe(app, self._screen_changed, immediate=True)

    def _screen_changed(self, screen: Screen[Any]) -> None:
        self._screen = screen
        self._ready_at = None
        # The callback waits in the screen's queue behind its compose and mount
        # handlers, so it runs once the screen can show what the user types.
        if not screen.call_later(self._mark_ready, screen):
            self._ready_at = get_time()

    def _mark_ready(self, screen: Screen[Any]) -> None:
        if screen is self._screen:
            self._ready_at = get_time()

    def is_early(self, event: events.Event, app: App[Any]) -> bool:
        """Return whether `event` is a key or paste from before the screen was ready.

        A screen the filter has not seen change to, such as the first one
        before `watch`, lets every key through.
        """
        if not isinstance(event, (events.Key, events.Paste)) or event.is_forwarded:
            return False
        stack = app.screen_stack
        if self._screen is None or not stack or stack[-1] is not self._screen:
            return False
        early = self._ready_at is None or event.time < self._ready_at
        if early:
            log.debug("Dropped a key pressed before %s was ready", type(self._screen))
        return early
