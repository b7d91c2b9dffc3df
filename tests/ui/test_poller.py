"""The Poller in a bare Textual app: a poll asked for while another is in flight."""

from __future__ import annotations

import asyncio

from textual.app import App

from plexe_tui.ui.poller import Poller
from tests.ui.helpers import wait_until

# Seconds between polls: long, so that every call after the first is one the
# test asked for.
INTERVAL = 3600.0


class PollingApp(App[None]):
    """An app whose only work is a poll that waits until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.release = asyncio.Event()
        self.poller = Poller(self, self.poll, interval=INTERVAL)

    async def poll(self) -> None:
        self.calls += 1
        await self.release.wait()


async def test_poll_asked_during_call_runs() -> None:
    """A poll asked for while one runs follows it, and the app exits cleanly."""
    app = PollingApp()
    async with app.run_test() as pilot:
        app.poller.start()
        await wait_until(pilot, lambda: app.calls == 1, "the first poll")

        app.poller.poll_now()
        app.release.set()
        await wait_until(pilot, lambda: app.calls == 2, "the poll asked for")

    assert app.calls == 2
