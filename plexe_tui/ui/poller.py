"""A polling loop that never overlaps itself and backs off when the server fails."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from textual.dom import DOMNode

from plexe_tui.api import ApiError

log = logging.getLogger(__name__)

# Seconds: the first retry after a failure, doubled per failure up to the cap.
BACKOFF_START = 2.0
BACKOFF_CAP = 60.0
JITTER = 0.2
"""Each delay varies by up to this fraction, so many clients do not retry in step."""


class TimerHandle(Protocol):
    """A scheduled call that can be cancelled, such as a Textual `Timer`."""

    def stop(self) -> None:
        """Cancel the call if it has not run yet."""


Scheduler = Callable[[float, Callable[[], None]], TimerHandle]
"""Runs a callback after a delay in seconds; tests pass one driven by hand."""

PollFunction = Callable[[], Awaitable[float | None]]
"""One round of polling; it may return a longer delay before the next round."""


class Poller:
    """Calls `poll` every `interval` seconds, one call in flight at a time.

    Each call schedules the next one when it ends, so a slow server slows the
    loop instead of piling up requests. A call that returns a number waits that
    many seconds instead of `interval`, if it is longer. A failed call is
    retried after an exponential back-off with jitter, or after the server's
    `Retry-After` when that is longer. The loop belongs to `owner`: its timers
    and workers end with it.

    `clock` (seconds, monotonic) and `scheduler` default to `time.monotonic`
    and the owner's timers; tests pass both to run the loop without waiting.
    """

    def __init__(
        self,
        owner: DOMNode,
        poll: PollFunction,
        *,
        interval: float,
        on_change: Callable[[], None] | None = None,
        name: str = "poll",
        clock: Callable[[], float] = time.monotonic,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.owner = owner
        self.interval = interval
        self.clock = clock
        self.last_success: float | None = None
        """`clock()` at the end of the last call that succeeded."""
        self.failure: ApiError | None = None
        """The last failure, cleared by the next success."""
        self.next_at: float | None = None
        """`clock()` at which the next call is due."""
        self._poll = poll
        self._on_change = on_change
        self._name = name
        self._scheduler = scheduler or self._textual_timer
        self._failures = 0
        self._timer: TimerHandle | None = None
        self._running = False
        self._again = False
        self._stopped = False

    @property
    def error(self) -> str | None:
        """Message of the last failure, if the last call failed."""
        return self.failure.message if self.failure else None

    @property
    def running(self) -> bool:
        """Whether a call is in flight."""
        return self._running

    @property
    def stopped(self) -> bool:
        """Whether `stop` was called and `start` was not called since."""
        return self._stopped

    def retry_wait(self) -> int:
        """Return the whole seconds until the next call, never below zero."""
        return max(0, round((self.next_at or 0) - self.clock()))

    def retry_text(self) -> str:
        """Describe the failure for a status line, with the wait until the retry."""
        if self.failure is None:
            return ""
        state = "offline" if self.failure.retryable else "failed"
        return f"{state}, retrying in {self.retry_wait()} s: {self.failure.message}"

    def start(self) -> None:
        """Poll now, and keep polling."""
        self._stopped = False
        self.poll_now()

    def stop(self) -> None:
        """Stop scheduling calls; a call in flight finishes on its own."""
        self._stopped = True
        self._cancel_timer()

    def poll_now(self) -> None:
        """Poll at once, or right after the call in flight."""
        if self._stopped:
            return
        if self._running:
            self._again = True
            return
        self._cancel_timer()
        self._running = True
        self.owner.run_worker(
            self._run(), name=self._name, group=self._name, exit_on_error=False
        )

    async def _run(self) -> None:
        delay = self.interval
        try:
            wanted = await self._poll()
        except ApiError as exc:
            delay = self._record_failure(exc)
        except Exception as exc:
            # A bug must not end the loop: log it with its traceback and go on.
            log.exception("%s raised an unexpected error", self._name)
            delay = self._record_failure(ApiError(f"Unexpected error: {exc!r}"))
        else:
            self._failures = 0
            self.failure = None
            self.last_success = self.clock()
            if wanted is not None:
                delay = max(delay, wanted)
        finally:
            self._running = False

        if self._again:
            self._again = False
            delay = 0.0
        self._schedule(delay)

    def _record_failure(self, exc: ApiError) -> float:
        self._failures += 1
        self.failure = exc
        backoff = min(BACKOFF_CAP, BACKOFF_START * 2 ** (self._failures - 1))
        backoff *= 1 + random.uniform(-JITTER, JITTER)
        delay = max(backoff, exc.retry_after or 0.0)
        log.warning(
            "%s failed (%s); retrying in %.1f s", self._name, exc.message, delay
        )
        return delay

    def _schedule(self, delay: float) -> None:
        if self._stopped:
            return
        self.next_at = self.clock() + delay
        if delay <= 0:
            # Textual 8.2's timer loop divides by the delay, so a zero-delay
            # timer raises ZeroDivisionError and the polling would end there.
            self.owner.call_later(self.poll_now)
        else:
            self._timer = self._scheduler(delay, self.poll_now)
        if self._on_change is not None:
            self._on_change()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _textual_timer(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.owner.set_timer(delay, callback, name=self._name)
