"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_platform import FakePlatform


@pytest.fixture(scope="session")
def platform_server() -> Iterator[FakePlatform]:
    """One fake platform server for the whole session; use `platform` in tests."""
    with FakePlatform() as server:
        yield server


@pytest.fixture
def platform(platform_server: FakePlatform) -> Iterator[FakePlatform]:
    """The fake Plexe platform, with no requests, scripts or builds from other tests."""
    platform_server.reset()
    yield platform_server
    platform_server.reset()


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FakePlatform]:
    """A fake platform of its own for fault tests, which stop and restart it."""
    with FakePlatform() as server:
        yield server


@pytest.fixture
def fault_platform(fault_server: FakePlatform) -> Iterator[FakePlatform]:
    """The fault tests' fake platform: serving, with no fault and no state."""
    fault_server.reset()
    yield fault_server
    fault_server.reset()
