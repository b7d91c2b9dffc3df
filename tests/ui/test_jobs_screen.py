"""Pilot tests of the jobs screen against the fake platform."""

from __future__ import annotations

from pathlib import Path

from plexe_tui.store import Job
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    cursor_key,
    job_table,
    make_app,
    read_jobs,
    settle,
    static_text,
    table_rows,
    write_jobs,
)

SECRET_KEY = "sk-plexe-secret-do-not-store-42"

# Column positions in the jobs table.
NAME, STATUS, METRIC, PROGRESS, CREATED, UPDATED = range(6)


def three_jobs(server: str) -> list[dict[str, object]]:
    """Return three jobs on `server`, newest first: building, pending, completed."""
    return [
        job_table(
            "churn",
            "2",
            server,
            status="building",
            build_progress=40.0,
            created_at="2025-03-14T11:58:00+00:00",
        ),
        job_table(
            "prices",
            "1",
            server,
            status="pending",
            created_at="2025-03-14T10:00:00+00:00",
        ),
        job_table(
            "cancer",
            "3",
            server,
            status="completed",
            metric_name="accuracy",
            metric_value=0.95,
            created_at="2025-03-10T09:00:00+00:00",
        ),
    ]


async def test_jobs_file_rows_before_answer(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    # Hold every status response, so the rows can only come from the file.
    for name, version in (("churn", "2"), ("prices", "1")):
        path = f"/models/{name}/{version}/status"
        platform.respond("GET", path, json={"status": "failed"}, delay=30.0)

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        rows = table_rows(pilot)

        assert list(rows) == [
            f"churn:2@{platform.url}",
            f"prices:1@{platform.url}",
            f"cancer:3@{platform.url}",
        ]
        assert rows[f"churn:2@{platform.url}"][STATUS] == "building"
        assert rows[f"churn:2@{platform.url}"][PROGRESS] == "40%"
        assert rows[f"cancer:3@{platform.url}"][METRIC] == "accuracy = 0.95"
        assert rows[f"prices:1@{platform.url}"][CREATED] == "2 h ago"
        assert rows[f"cancer:3@{platform.url}"][CREATED] == "2025-03-10"


async def test_jobs_empty_state(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        empty = pilot.app.screen.query_one("#empty")
        table = pilot.app.screen.query_one("#jobs")

        assert empty.display
        assert not table.display
        text = " ".join(static_text(pilot, "#empty").split())
        assert text.startswith(f"No jobs yet on {platform.url}.")
        assert "Press n to describe a build" in text
        assert "Press t to try a sample" in text


async def test_refresh_shows_new_status(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    platform.set_build("churn", "2", status="building", build_progress=40)
    platform.set_build("prices", "1", status="pending")
    key = f"churn:2@{platform.url}"

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        assert table_rows(pilot)[key][STATUS] == "building"

        platform.set_build(
            "churn",
            "2",
            status="completed",
            build_progress=100,
            result={"metric_name": "roc_auc", "metric_value": 0.91},
        )
        await pilot.press("r")
        await settle(pilot)
        row = table_rows(pilot)[key]

        assert row[STATUS] == "completed"
        assert row[METRIC] == "roc_auc = 0.91"
        assert row[PROGRESS] == "100%"


async def test_refresh_reads_status_alias(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    platform.set_build("churn", "2", status="building")
    platform.set_build("prices", "1", status="pending")
    platform.respond(
        "GET", "/models/prices/1/status", json={"status": "READY"}, times=None
    )

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)

        assert table_rows(pilot)[f"prices:1@{platform.url}"][STATUS] == "completed"


async def test_cursor_stays_across_refresh(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    platform.set_build("churn", "2", status="building", build_progress=40)
    platform.set_build("prices", "1", status="pending")
    selected = f"prices:1@{platform.url}"

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        assert cursor_key(pilot) == selected

        platform.set_build("churn", "2", status="building", build_progress=80)
        platform.set_build("prices", "1", status="building", build_progress=5)
        await pilot.press("r")
        await settle(pilot)

        assert table_rows(pilot)[selected][STATUS] == "building"
        assert cursor_key(pilot) == selected


async def test_cursor_follows_job_on_insert(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    selected = f"cancer:3@{platform.url}"

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        assert cursor_key(pilot) == selected

        app.add_job(
            Job(
                model_name="fresh",
                model_version="1",
                server=platform.url,
                goal="predict fresh things",
                created_at="2025-03-14T11:59:59+00:00",
            )
        )
        await settle(pilot)

        assert next(iter(table_rows(pilot))) == f"fresh:1@{platform.url}"
        assert cursor_key(pilot) == selected


async def test_n_opens_build_form(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()

        assert isinstance(pilot.app.screen, BuildScreen)
        assert pilot.app.screen.source is None


async def test_enter_opens_detail(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press("j", "enter")
        await pilot.pause()
        screen = pilot.app.screen

        assert isinstance(screen, DetailScreen)
        assert screen.key == f"prices:1@{platform.url}"


async def test_enter_on_empty_list(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()

        assert isinstance(pilot.app.screen, JobsScreen)


async def test_s_opens_resubmit_form(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press("j", "j", "s")
        await pilot.pause()
        screen = pilot.app.screen

        assert isinstance(screen, BuildScreen)
        assert static_text(pilot, "#resubmit-note").startswith("Resubmitting cancer:3")


async def test_q_quits(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")

    assert app.return_code == 0
    assert not app.is_running


async def test_status_change_saves_jobs_file(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.api_key = SECRET_KEY
    write_jobs(config_dir, three_jobs(platform.url))
    platform.set_build("churn", "2", status="building", build_progress=40)
    platform.set_build("prices", "1", status="pending")

    app = make_app(platform.url, config_dir, api_key=SECRET_KEY)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        platform.set_build(
            "churn",
            "2",
            status="completed",
            result={"metric_name": "roc_auc", "metric_value": 0.91},
        )
        await pilot.press("r")
        await settle(pilot)
        saved = {job["model_name"]: job for job in read_jobs(config_dir)}
        text = (config_dir / "jobs.toml").read_text(encoding="utf-8")

    status_calls = platform.requests_to("GET", "/models/churn/2/status")
    assert status_calls[-1].headers.get("x-api-key") == SECRET_KEY
    assert saved["churn"]["status"] == "completed"
    assert saved["churn"]["metric_name"] == "roc_auc"
    assert saved["churn"]["metric_value"] == 0.91
    assert saved["cancer"]["status"] == "completed"
    assert SECRET_KEY not in text
    assert "api_key" not in text
