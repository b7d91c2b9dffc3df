"""Pilot tests of the job detail screen and its poll loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, ProgressBar, TextArea

from plexe_tui.store import Job
from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    job_table,
    make_app,
    read_jobs,
    settle,
    static_text,
    wait_for_screen,
    wait_until,
    widget_text,
    write_jobs,
)

# Seconds between polls in the tests that watch the poll loop run on its own.
FAST_POLL_INTERVAL = 0.1
# Seconds to watch for polls that should not happen: many poll intervals.
QUIET_WATCH_SECONDS = 1.0

GOAL_WITH_MARKUP = "Predict [bold]churn[/bold] from [usage] and [red]tenure"

LONG_ERROR = (
    "Training failed for every approach. [step 3] The target column 'diagnosis' "
    "has a single class in the training split, so no classifier can be fitted. "
    "Check that the dataset has at least two classes, or give the target column "
    "in output_schema. Columns seen: mean radius, mean texture, mean perimeter, "
    "mean area, mean smoothness, worst radius, worst texture, worst perimeter, "
    "worst area, worst smoothness. Rows read: 569. Rows kept after dropping "
    "missing values: 569. The last approach tried was a histogram gradient "
    "boosting classifier with 200 iterations and a learning rate of 0.1. "
    "END-OF-ERROR"
)


def full_job(server: str, **fields: Any) -> dict[str, Any]:
    """Return a completed job with every optional field set."""
    table = job_table(
        "churn",
        "4",
        server,
        status="completed",
        goal=GOAL_WITH_MARKUP,
        dataset="/home/user/data/[2024]/churn.csv",
        upload_id="upl-42",
        input_schema={"age": "int", "plan": "str"},
        output_schema={"churned": "bool"},
        metric="roc_auc",
        max_iterations=7,
        provider="openai/gpt-4o-mini",
        metric_name="roc_auc",
        metric_value=0.8731,
        parent=f"churn:3@{server}",
        created_at="2025-03-14T09:30:00+00:00",
        updated_at="2025-03-14T10:45:10+00:00",
    )
    table.update(fields)
    return table


def field_rows(text: str) -> dict[str, str]:
    """Read the detail's field grid into label → value.

    Wrapped lines are joined with a space, because the grid wraps at spaces.
    """
    rows: dict[str, str] = {}
    label = ""
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith(" ") and label:
            rows[label] += " " + line.strip()
            continue
        label, _, value = line.partition("  ")
        rows[label] = value.strip()
    return rows


def lineage_text(pilot: Pilot[PlexeApp], row_id: str) -> str:
    """Return the links of a lineage row as text, one space between them."""
    links = pilot.app.screen.query_one(f"{row_id} .lineage-links")
    parts = [
        str(child.label) if isinstance(child, Button) else str(child.content)
        for child in links.children
    ]
    return " ".join(parts)


def poll_line(pilot: Pilot[PlexeApp]) -> str:
    """Return the line under the detail that tells how the build is polled."""
    return static_text(pilot, "#poll-line").strip()


async def open_detail(pilot: Pilot[PlexeApp]) -> DetailScreen:
    """Press enter on the first job and return its detail screen."""
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DetailScreen)
    return screen


async def test_detail_shows_every_field(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, [full_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        await settle(pilot)
        fields = static_text(pilot, "#fields")
        headline = static_text(pilot, "#headline")
        lineage = lineage_text(pilot, "#lineage-from")

    assert headline.startswith("churn:4  completed")
    assert headline.endswith("roc_auc = 0.8731")
    rows = field_rows(fields)
    assert rows["Model"] == "churn:4"
    assert rows["Server"] == platform.url
    assert rows["Status"] == "completed"
    assert rows["Result"] == "roc_auc = 0.8731"
    assert rows["Goal"] == GOAL_WITH_MARKUP
    assert rows["Dataset"] == "/home/user/data/[2024]/churn.csv"
    assert rows["Upload id"] == "upl-42"
    assert rows["Input schema"] == '{"age": "int", "plan": "str"}'
    assert rows["Output schema"] == '{"churned": "bool"}'
    assert rows["Metric"] == "roc_auc"
    assert rows["Max iterations"] == "7"
    assert rows["Provider"] == "openai/gpt-4o-mini"
    assert rows["Created"] == "2025-03-14 09:30:00 UTC"
    assert rows["Updated"] == "2025-03-14 10:45:10 UTC"
    assert lineage == "churn:3 (not in this app's list)"


async def test_detail_shows_server_schemas(
    platform: FakePlatform, config_dir: Path
) -> None:
    """Schemas the request left out are shown as the finished model has them."""
    platform.set_build("churn", "4", status="completed")
    platform.respond(
        "GET",
        "/models/churn/4",
        json={"input_schema": {"age": "int", "plan": "str"}, "output_schema": {}},
        times=None,
    )
    write_jobs(config_dir, [full_job(platform.url, input_schema={}, output_schema={})])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        await settle(pilot)
        rows = field_rows(static_text(pilot, "#fields"))

    assert rows["Input schema"] == (
        'chosen by the server, 2 columns: {"age": "int", "plan": "str"}'
    )
    assert rows["Output schema"] == "—"


async def test_detail_defaults_shown(platform: FakePlatform, config_dir: Path) -> None:
    job = job_table("bare", "1", platform.url, status="cancelled")
    write_jobs(config_dir, [job])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        fields = field_rows(static_text(pilot, "#fields"))
        error_shown = pilot.app.screen.query_one("#error", TextArea).display
        parent = lineage_text(pilot, "#lineage-from")
        children = lineage_text(pilot, "#lineage-as")

    assert fields["Result"] == "—"
    assert fields["Metric"] == "server default"
    assert fields["Max iterations"] == "server default"
    assert fields["Dataset"] == "—"
    assert parent == "—"
    assert children == "—"
    assert not error_shown


async def test_failed_detail_shows_error(
    platform: FakePlatform, config_dir: Path
) -> None:
    job = job_table("cancer", "2", platform.url, status="failed", error=LONG_ERROR)
    write_jobs(config_dir, [job])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_detail(pilot)
        error = screen.query_one("#error", TextArea)
        label = screen.query_one("#error-label")

        assert error.display
        assert label.display
        assert error.text == LONG_ERROR
        rendered = " ".join(widget_text(error).split())
        assert "Training failed for every approach. [step 3]" in rendered
        assert "END-OF-ERROR" in rendered
        assert poll_line(pilot) == "The build has ended; it is no longer polled."


async def test_detail_refresh_updates_status(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, [job_table("churn", "1", platform.url)])
    platform.set_build("churn", "1", status="pending")
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        screen = await open_detail(pilot)
        await settle(pilot)
        assert "pending" in static_text(pilot, "#headline")

        platform.set_build(
            "churn",
            "1",
            status="building",
            build_progress=60,
            phase="search",
            iteration=3,
            max_iterations=5,
        )
        await pilot.press("r")
        await settle(pilot)
        headline = static_text(pilot, "#headline")
        progress = static_text(pilot, "#progress-label").strip()

        assert headline.startswith("churn:1  building")
        assert progress == "60%  phase: search  approach 3 of 5"
        assert screen.query_one("#progress-row").display
        assert screen.query_one("#progress", ProgressBar).progress == 60

        platform.set_build(
            "churn",
            "1",
            status="completed",
            build_progress=100,
            result={"metric_name": "rmse", "metric_value": 3.25},
        )
        await pilot.press("r")
        await settle(pilot)
        headline = static_text(pilot, "#headline")

        assert headline.startswith("churn:1  completed")
        assert headline.endswith("rmse = 3.25")


async def test_detail_poll_stops_at_end(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, [job_table("churn", "1", platform.url)])
    platform.set_build("churn", "1", status="building", build_progress=10)
    status_path = "/models/churn/1/status"
    app = make_app(platform.url, config_dir, poll_interval=FAST_POLL_INTERVAL)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        opened_at = platform.count("GET", status_path)
        await wait_until(
            pilot,
            lambda: platform.count("GET", status_path) >= opened_at + 4,
            "the detail screen to keep polling",
        )

        platform.set_build(
            "churn",
            "1",
            status="failed",
            error="Out of memory while fitting the model.",
        )
        await wait_until(
            pilot,
            lambda: "failed" in static_text(pilot, "#headline"),
            "the failed status on the detail screen",
        )
        await settle(pilot)
        ended_at = platform.count("GET", status_path)
        await pilot.pause(QUIET_WATCH_SECONDS)
        await settle(pilot)

        assert platform.count("GET", status_path) == ended_at
        assert poll_line(pilot) == "The build has ended; it is no longer polled."
        assert pilot.app.screen.query_one("#error", TextArea).text == (
            "Out of memory while fitting the model."
        )


async def test_detail_unknown_status_polled(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, [job_table("churn", "1", platform.url)])
    platform.set_build("churn", "1", status="paused_awaiting_feedback")
    status_path = "/models/churn/1/status"
    app = make_app(platform.url, config_dir, poll_interval=FAST_POLL_INTERVAL)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        await wait_until(
            pilot,
            lambda: "paused_awaiting_feedback" in static_text(pilot, "#headline"),
            "the unknown status word on the detail screen",
        )
        seen = platform.count("GET", status_path)
        await wait_until(
            pilot,
            lambda: platform.count("GET", status_path) >= seen + 2,
            "more polls of a build in an unknown state",
        )

        assert poll_line(pilot).startswith("Updated ")


async def test_detail_escape_and_resubmit(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, [full_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        await pilot.press("s")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, BuildScreen)
        assert form.source is not None
        assert form.source.label == "churn:4"

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, DetailScreen)

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, JobsScreen)


async def test_escape_after_resubmit_goes_to_list(
    platform: FakePlatform, config_dir: Path
) -> None:
    """The new build's detail replaces the one it was resubmitted from."""
    write_jobs(config_dir, [full_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        await pilot.press("s")
        await wait_for_screen(pilot, BuildScreen)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, DetailScreen)
                and app.screen.key != f"churn:4@{platform.url}"
            ),
            "the detail of the new build",
        )
        stack = [type(screen).__name__ for screen in app.screen_stack]
        await pilot.press("escape")
        await pilot.pause()
        after_escape = app.screen

    assert stack == ["Screen", "JobsScreen", "DetailScreen"]
    assert isinstance(after_escape, JobsScreen)


# Status changes, progress, approaches and lineage


async def test_timeline_recorded_and_saved(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, [job_table("churn", "1", platform.url)])
    platform.set_build("churn", "1", status="pending")
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await open_detail(pilot)
        await settle(pilot)
        before = static_text(pilot, "#timeline")

        changes = [
            ("building", "2025-03-14T12:00:05Z"),
            ("completed", "2025-03-14T12:02:17.250Z"),
        ]
        for status, at in changes:
            platform.respond(
                "GET",
                "/models/churn/1/status",
                json={
                    "model_name": "churn",
                    "model_version": "1",
                    "status": status,
                    "updated_at": at,
                },
            )
            await pilot.press("r")
            await settle(pilot)
        after = static_text(pilot, "#timeline")

    assert "were not recorded" in " ".join(before.split())
    assert [line.split() for line in after.strip().splitlines()] == [
        ["2025-03-14", "12:00:05", "UTC", "building"],
        ["2025-03-14", "12:02:17", "UTC", "completed", "after", "2m", "12s"],
    ]
    saved = read_jobs(config_dir)[0]["history"]
    assert saved == [
        {"status": "building", "at": "2025-03-14T12:00:05Z"},
        {"status": "completed", "at": "2025-03-14T12:02:17.250Z"},
    ]

    reopened = make_app(platform.url, config_dir)
    async with reopened.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await open_detail(pilot)
        shown_again = static_text(pilot, "#timeline")

    assert shown_again == after


async def test_timeline_of_new_build(platform: FakePlatform, config_dir: Path) -> None:
    """A build submitted in this app starts its timeline at submission."""
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        app.add_job(
            Job(
                model_name="churn",
                model_version="2",
                server=platform.url,
                goal="predict churn",
                created_at="2025-03-14T11:58:00+00:00",
            )
        )
        await settle(pilot)
        await open_detail(pilot)
        timeline = static_text(pilot, "#timeline")

    assert timeline.split() == ["2025-03-14", "11:58:00", "UTC", "pending"]


@pytest.mark.parametrize(
    ("fields", "shown", "total", "done", "label"),
    [
        (
            {"status": "building", "build_progress": 40.0, "phase": "search"},
            True,
            100,
            40,
            "40%  phase: search",
        ),
        (
            {"status": "building", "iteration": 2, "max_iterations": 5},
            True,
            5,
            2,
            "approach 2 of 5",
        ),
        ({"status": "completed"}, True, 100, 100, "done"),
        ({"status": "pending"}, False, None, None, None),
        ({"status": "building"}, False, None, None, None),
        ({"status": "failed", "build_progress": 60.0}, False, None, None, None),
    ],
)
async def test_progress_bar_states(
    platform: FakePlatform,
    config_dir: Path,
    fields: dict[str, Any],
    shown: bool,
    total: float | None,
    done: float | None,
    label: str | None,
) -> None:
    platform.set_build("churn", "1", **fields)
    write_jobs(config_dir, [job_table("churn", "1", platform.url, **fields)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_detail(pilot)
        await settle(pilot)
        row_shown = screen.query_one("#progress-row").display
        bar = screen.query_one("#progress", ProgressBar)
        text = static_text(pilot, "#progress-label").strip()

    assert row_shown is shown
    if shown:
        assert bar.total == total
        assert bar.progress == done
        assert text == label


async def test_approaches_table(platform: FakePlatform, config_dir: Path) -> None:
    platform.set_build("churn", "4", status="completed")
    platform.respond(
        "GET",
        "/models/churn/4/describe",
        json={
            "metric": {"name": "roc_auc"},
            "chosen": "boosting",
            "approaches": [
                {"name": "baseline", "metric_value": 0.5, "seconds": 0.1},
                {
                    "name": "boosting",
                    "metric_value": 0.91234,
                    "metric_std": 0.012,
                    "seconds": 3.456,
                },
                {"name": "[forest]", "seconds": 0.2, "error": "ValueError: [nan]"},
            ],
        },
    )
    write_jobs(config_dir, [full_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_detail(pilot)
        await settle(pilot)
        shown = screen.query_one("#description").display
        text = static_text(pilot, "#description")

    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().split("│")[1:-1]]
        if len(cells) == 5:
            rows[cells[0]] = cells[1:]
    assert shown
    assert "Approaches tried, scored by cross-validation" in text
    assert rows["boosting (chosen)"] == ["0.9123", "0.0120", "3.46", ""]
    assert rows["baseline"] == ["0.5000", "—", "0.10", ""]
    assert rows["[forest]"] == ["—", "—", "0.20", "ValueError: [nan]"]


async def test_description_hidden_without_route(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.respond("GET", "/models/churn/4/describe", status=404, json={})
    write_jobs(config_dir, [full_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_detail(pilot)
        await settle(pilot)
        shown = screen.query_one("#description").display

    assert not shown


async def test_lineage_links_open_jobs(
    platform: FakePlatform, config_dir: Path
) -> None:
    parent = job_table(
        "churn", "3", platform.url, status="failed", created_at="2025-03-14T09:00:00Z"
    )
    child = job_table(
        "churn",
        "5",
        platform.url,
        status="pending",
        parent=f"churn:4@{platform.url}",
        created_at="2025-03-14T11:00:00+00:00",
    )
    write_jobs(config_dir, [full_job(platform.url), parent, child])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        app.push_screen(DetailScreen(f"churn:4@{platform.url}"))
        await settle(pilot)
        from_text = lineage_text(pilot, "#lineage-from")
        as_text = lineage_text(pilot, "#lineage-as")

        await pilot.click("#lineage-from .job-link")
        await settle(pilot)
        opened_parent = app.screen
        await pilot.press("escape")
        await settle(pilot)
        await pilot.click("#lineage-as .job-link")
        await settle(pilot)
        opened_child = app.screen

    assert from_text == "churn:3"
    assert as_text == "churn:5"
    assert isinstance(opened_parent, DetailScreen)
    assert opened_parent.key == f"churn:3@{platform.url}"
    assert isinstance(opened_child, DetailScreen)
    assert opened_child.key == f"churn:5@{platform.url}"


async def test_lineage_follows_new_resubmission(
    platform: FakePlatform, config_dir: Path
) -> None:
    """A resubmission recorded while the detail is open appears as a link."""
    write_jobs(config_dir, [full_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        await settle(pilot)
        app.add_job(
            Job(
                model_name="churn",
                model_version="9",
                server=platform.url,
                goal="predict churn",
                parent=f"churn:4@{platform.url}",
            )
        )
        await settle(pilot)
        as_text = lineage_text(pilot, "#lineage-as")

    assert as_text == "churn:9"


async def test_copy_error_text(platform: FakePlatform, config_dir: Path) -> None:
    job = job_table("cancer", "2", platform.url, status="failed", error=LONG_ERROR)
    write_jobs(config_dir, [job])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_detail(pilot)
        await pilot.press("y")
        await settle(pilot)

    assert app.clipboard == LONG_ERROR


async def test_status_changes_beside_fields_when_wide(
    platform: FakePlatform, config_dir: Path
) -> None:
    """At 200 columns the status changes follow the fields, not the right edge."""
    write_jobs(config_dir, [full_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=(200, 40)) as pilot:
        await open_detail(pilot)
        await settle(pilot)
        history = pilot.app.screen.query_one("#history").region

    assert history.x <= 120
