"""A clock and timer that tests advance by hand, so polling runs without waiting.

The app takes a monotonic clock and a scheduler in its settings. With these,
a test moves time forward and the poll loops' timers fire in order, each
followed by `settle`, so five simulated minutes take a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.pilot import Pilot

from tests.ui.helpers import settle

START = 1000.0
"""The clock's first reading, in seconds; any value works, as for time.monotonic."""
MAX_FIRINGS = 10_000
"""Bound of `run_for`, far above what minutes of polling schedule."""


@dataclass
class ScheduledCall:
    """A callback due at `due`, unless stopped."""

    due: float
    callback: Callable[[], None]
    stopped: bool = False

    def stop(self) -> None:
        """Cancel the call."""
        self.stopped = True


class ManualTime:
    """A monotonic clock and a scheduler that move only when a test advances them."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self._calls: list[ScheduledCall] = []

    def monotonic(self) -> float:
        """Return the current reading, in seconds."""
        return self.now

    def schedule(self, delay: float, callback: Callable[[], None]) -> ScheduledCall:
        """Run `callback` once the clock has moved `delay` seconds on."""
        call = ScheduledCall(self.now + delay, callback)
        self._calls.append(call)
        return call

    def pending(self) -> list[ScheduledCall]:
        """Return the calls not run or stopped yet, soonest first."""
        return sorted(
            (call for call in self._calls if not call.stopped),
            key=lambda call: call.due,
        )

    def next_delay(self) -> float | None:
        """Return the seconds until the soonest pending call, if any."""
        calls = self.pending()
        return calls[0].due - self.now if calls else None

    async def run_for(self, pilot: Pilot[Any], seconds: float) -> int:
        """Move the clock on by `seconds`, firing due calls in order; return how many.

        After each call the app runs until its workers end, so a poll that a
        call starts finishes, and schedules its successor, before time moves on.
        """
        end = self.now + seconds
        fired = 0
        for _ in range(MAX_FIRINGS):
            calls = [call for call in self.pending() if call.due <= end]
            if not calls:
                break
            call = calls[0]
            self.now = max(self.now, call.due)
            call.stopped = True
            call.callback()
            fired += 1
            await settle(pilot)
        else:
            raise AssertionError(f"More than {MAX_FIRINGS} timer calls in {seconds} s.")
        self.now = end
        return fired

    def advance(self, seconds: float) -> int:
        """Move the clock on and run every call due by then; return how many ran.

        Unlike `run_for`, the calls' workers are left running: the caller waits
        for what it expects to see.
        """
        self.now += seconds
        due = [call for call in self.pending() if call.due <= self.now]
        for call in due:
            call.stopped = True
            call.callback()
        return len(due)

    def advance_to_next(self) -> float:
        """Move the clock to the soonest pending call and run it; return the wait."""
        wait = self.next_delay()
        assert wait is not None, "no call is scheduled"
        self.advance(max(0.0, wait))
        return max(0.0, wait)
