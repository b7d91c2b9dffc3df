"""A clock and timers that move only when a test moves them, for the app's poller."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from plexe_tui.ui.poller import Poller


@dataclass
class ManualTimer:
    """One scheduled call; `stop` calls it off."""

    due: float
    callback: Callable[[], None]
    stopped: bool = False

    def stop(self) -> None:
        self.stopped = True


@dataclass
class ManualTime:
    """Time that does not pass until `advance`, which runs the calls that fall due.

    It starts at the real `time.monotonic()`, because screens compare the
    poller's timestamps with that clock.
    """

    now: float = field(default_factory=time.monotonic)
    timers: list[ManualTimer] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def schedule(self, delay: float, callback: Callable[[], None]) -> ManualTimer:
        timer = ManualTimer(self.now + delay, callback)
        self.timers.append(timer)
        return timer

    def attach(self, poller: Poller) -> None:
        """Make `poller` use this clock and these timers."""
        poller.clock = self.clock
        poller.schedule = self.schedule

    def pending(self) -> list[ManualTimer]:
        return [timer for timer in self.timers if not timer.stopped]

    def advance(self, seconds: float) -> int:
        """Move time forward; run every call due by then, and return how many ran."""
        self.now += seconds
        due = [timer for timer in self.pending() if timer.due <= self.now]
        for timer in due:
            timer.stopped = True
            timer.callback()
        return len(due)

    def advance_to_next(self) -> float:
        """Move time to the next pending call and run it; return the wait in seconds."""
        pending = self.pending()
        assert pending, "no call is scheduled"
        wait = max(0.0, min(timer.due for timer in pending) - self.now)
        self.advance(wait)
        return wait
