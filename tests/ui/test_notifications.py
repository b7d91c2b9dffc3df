"""A toast and the terminal bell when a build ends while its detail is not in front."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from plexe_tui.ui.app import AppSettings, PlexeApp, create_app
from plexe_tui.ui.notifications import NotifySettings
from plexe_tui.ui.screens.detail import DetailScreen
from tests.fake_platform import FAKE_API_KEY, FakePlatform
from tests.ui.helpers import (
    QUIET_POLL_INTERVAL,
    TERMINAL_SIZE,
    fixed_clock,
    job_table,
    make_app,
    settle,
    toasts,
    write_jobs,
)

CHURN = ("churn", "1")
PRICES = ("prices", "2")


def write_building(platform: FakePlatform, config_dir: Path) -> None:
    """Two building jobs, known to the platform in the same state."""
    jobs = []
    for name, version in (CHURN, PRICES):
        platform.set_build(name, version, status="building")
        jobs.append(job_table(name, version, platform.url, status="building"))
    write_jobs(config_dir, jobs)


def count_bells(app: PlexeApp, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each ring of the terminal bell; the headless driver cannot ring."""
    rings: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))
    return rings


async def poll_now(pilot: Pilot[PlexeApp]) -> None:
    """Run the app's poll of active builds, whichever screen is in front."""
    pilot.app.poller.poll_now()
    await settle(pilot)


async def test_completed_elsewhere_toast_and_bell(
    platform: FakePlatform, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_building(platform, config_dir)
    app = make_app(platform.url, config_dir)
    rings = count_bells(app, monkeypatch)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        platform.set_build(
            *CHURN,
            status="completed",
            result={"metric_name": "roc_auc", "metric_value": 0.91234},
        )
        await poll_now(pilot)
        shown = toasts(pilot)

    assert shown == [
        ("Build ended", "churn:1 completed: roc_auc = 0.9123.", "information")
    ]
    assert rings == [1]


async def test_failed_elsewhere_names_error(
    platform: FakePlatform, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_building(platform, config_dir)
    app = make_app(platform.url, config_dir)
    rings = count_bells(app, monkeypatch)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        platform.set_build(*PRICES, status="failed", error="Out of [memory].")
        platform.set_build(*CHURN, status="cancelled")
        await poll_now(pilot)
        shown = sorted(toasts(pilot))

    assert shown == [
        ("Build ended", "churn:1 was cancelled.", "warning"),
        ("Build ended", "prices:2 failed: Out of [memory].", "error"),
    ]
    assert rings == [1, 1]


async def test_quiet_on_own_detail(
    platform: FakePlatform, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detail in front shows the change itself; another build still rings."""
    write_building(platform, config_dir)
    app = make_app(platform.url, config_dir)
    rings = count_bells(app, monkeypatch)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        app.push_screen(DetailScreen(f"churn:1@{platform.url}"))
        await settle(pilot)
        platform.set_build(*CHURN, status="completed")
        await pilot.press("r")
        await settle(pilot)
        on_detail = toasts(pilot)
        rings_on_detail = len(rings)

        platform.set_build(*PRICES, status="completed")
        await poll_now(pilot)
        later = toasts(pilot)

    assert on_detail == []
    assert rings_on_detail == 0
    assert [message for _, message, _ in later] == ["prices:2 completed."]
    assert rings == [1]


async def test_no_signal_for_old_end(
    platform: FakePlatform, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs that had ended before the app started raise nothing."""
    write_jobs(config_dir, [job_table(*CHURN, platform.url, status="completed")])
    platform.set_build(*CHURN, status="completed")
    app = make_app(platform.url, config_dir)
    rings = count_bells(app, monkeypatch)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await poll_now(pilot)
        shown = toasts(pilot)

    assert shown == []
    assert rings == []


@pytest.mark.parametrize(
    ("settings", "expect_toast", "expect_bell"),
    [
        (NotifySettings(toast=False, bell=False), False, False),
        (NotifySettings(toast=True, bell=False), True, False),
        (NotifySettings(toast=False, bell=True), False, True),
    ],
)
async def test_signals_switchable(
    platform: FakePlatform,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: NotifySettings,
    expect_toast: bool,
    expect_bell: bool,
) -> None:
    write_building(platform, config_dir)
    app = create_app(
        AppSettings(
            base_url=platform.url,
            api_key=FAKE_API_KEY,
            config_dir=config_dir,
            poll_interval=QUIET_POLL_INTERVAL,
            clock=fixed_clock,
            notify=settings,
        )
    )
    rings = count_bells(app, monkeypatch)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        platform.set_build(*CHURN, status="completed")
        await poll_now(pilot)
        shown = toasts(pilot)

    assert bool(shown) is expect_toast
    assert bool(rings) is expect_bell
