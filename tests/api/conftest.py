"""Fixtures for client tests: a PlexeClient pointed at the fake platform."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from plexe_tui.api import PlexeClient
from tests.fake_platform import FAKE_API_KEY, FakePlatform

# Seconds. Short, so that a test of a slow server fails fast. Loopback calls
# take milliseconds, so they stay far below it.
TEST_TIMEOUT = httpx.Timeout(2.0)


@pytest.fixture
async def client(platform: FakePlatform) -> AsyncIterator[PlexeClient]:
    """A client with the fake platform's API key."""
    client = PlexeClient(platform.url, api_key=FAKE_API_KEY, timeout=TEST_TIMEOUT)
    yield client
    await client.aclose()
