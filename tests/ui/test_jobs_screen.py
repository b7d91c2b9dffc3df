"""Pilot tests of the jobs screen against the fake platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from plexe_tui.store import Job
from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.job_list import COLUMNS
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from plexe_tui.ui.widgets.footer import KeyFooter
from plexe_tui.ui.widgets.job_table import JobTable
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
    widget_text,
    write_jobs,
)

SECRET_KEY = "sk-plexe-secret-do-not-store-42"

# Column positions in the jobs table.
NAME, STATUS, METRIC, PROGRESS, SERVER, CREATED, DURATION = range(7)


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
        screen_text = widget_text(pilot.app.screen.query_one("#jobs", JobTable))

        assert row[STATUS] == "completed"
        assert row[METRIC] == "roc_auc = 0.91"
        assert row[PROGRESS] == "100%"
        # The row on screen is redrawn, not only the model behind it.
        churn_line = next(
            line for line in screen_text.splitlines() if "churn:2" in line
        )
        assert "completed" in churn_line
        assert "roc_auc = 0.91" in churn_line


async def test_refresh_reads_status_alias(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    platform.set_build("churn", "2", status="building")
    platform.set_build("prices", "1", status="pending")
    # Without a model list, each build's status endpoint is polled.
    platform.respond("GET", "/models", status=405, times=None)
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

    list_calls = platform.requests_to("GET", "/models")
    assert list_calls[-1].headers.get("x-api-key") == SECRET_KEY
    assert saved["churn"]["status"] == "completed"
    assert saved["churn"]["metric_name"] == "roc_auc"
    assert saved["churn"]["metric_value"] == 0.91
    assert saved["cancer"]["status"] == "completed"
    assert SECRET_KEY not in text
    assert "api_key" not in text


def header(pilot: Pilot[PlexeApp]) -> str:
    """Return the jobs table's header line."""
    table = pilot.app.screen.query_one("#jobs", JobTable)
    return widget_text(table).splitlines()[0]


def footer_descriptions(pilot: Pilot[PlexeApp]) -> set[str]:
    """Return the descriptions of the keys the footer shows."""
    return {
        active.binding.description
        for active in pilot.app.screen.active_bindings.values()
        if active.binding.show and active.enabled
    }


def filter_count(pilot: Pilot[PlexeApp]) -> str:
    return str(pilot.app.screen.query_one("#filter-count", Static).content)


def many_jobs(server: str, count: int) -> list[dict[str, object]]:
    """Return `count` jobs one minute apart, newest first, in mixed states."""
    states = ("completed", "failed", "building", "pending", "cancelled")
    start = datetime(2025, 3, 14, 11, 59, tzinfo=UTC)
    tables = []
    for index in range(count):
        created = (start - timedelta(minutes=index)).isoformat()
        tables.append(
            job_table(
                f"job-{index:04d}",
                "1",
                server,
                status=states[index % len(states)],
                created_at=created,
                updated_at=created,
            )
        )
    return tables


async def press_until_sorted(pilot: Pilot[PlexeApp], label: str) -> None:
    """Press `o` until the header marks `label` as the sort column."""
    for _ in range(len(COLUMNS)):
        if any(f"{label}{arrow}" in header(pilot) for arrow in "▲▼"):
            return
        await pilot.press("o")
    raise AssertionError(f"o never sorted by {label}: {header(pilot)}")


async def test_sort_cycles_and_reverses(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        newest_first = list(table_rows(pilot))
        assert "Created▼" in header(pilot)

        await press_until_sorted(pilot, "Name")
        by_name = list(table_rows(pilot))
        name_header = header(pilot)
        await pilot.press("O")
        reversed_names = list(table_rows(pilot))
        reversed_header = header(pilot)
        await press_until_sorted(pilot, "Status")
        by_status = [row[STATUS] for row in table_rows(pilot).values()]

    url = platform.url
    assert newest_first == [f"churn:2@{url}", f"prices:1@{url}", f"cancer:3@{url}"]
    assert by_name == [f"cancer:3@{url}", f"churn:2@{url}", f"prices:1@{url}"]
    assert "Name▲" in name_header
    assert reversed_names == by_name[::-1]
    assert "Name▼" in reversed_header
    assert by_status == ["building", "pending", "completed"]


async def test_filter_by_text(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        bar_opened = pilot.app.screen.query_one("#filter-bar").display
        keys_while_open = footer_descriptions(pilot)
        await pilot.press(*"prices")
        filtered = list(table_rows(pilot))
        count = filter_count(pilot)
        await pilot.press("escape")
        cleared = list(table_rows(pilot))
        bar_shown = pilot.app.screen.query_one("#filter-bar").display

    assert bar_opened
    assert "Clear filter" in keys_while_open
    assert filtered == [f"prices:1@{platform.url}"]
    assert count == "1 of 3"
    assert len(cleared) == 3
    assert not bar_shown


async def test_filter_without_match_says_so(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"zzz")
        empty = pilot.app.screen.query_one("#empty", Static)
        shown = empty.display
        text = " ".join(str(empty.content).split())
        await pilot.press("escape")
        shown_after = empty.display

    assert shown
    assert text == 'No jobs match "zzz". Press escape to clear the filter.'
    assert not shown_after


async def test_filter_by_goal_and_server(
    platform: FakePlatform, config_dir: Path
) -> None:
    jobs = three_jobs(platform.url)
    jobs[2]["goal"] = "Predict the diagnosis [malignant] of a tumour"
    write_jobs(config_dir, jobs)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"[malignant]")
        by_goal = list(table_rows(pilot))
        await pilot.press("escape", "slash", *"server:127.0.0")
        by_server = list(table_rows(pilot))
        await pilot.press("escape", "slash", *"server:example")
        no_server = list(table_rows(pilot))

    assert by_goal == [f"cancer:3@{platform.url}"]
    assert len(by_server) == 3
    assert no_server == []


async def test_filter_by_status(platform: FakePlatform, config_dir: Path) -> None:
    jobs = three_jobs(platform.url)
    jobs.append(job_table("penguins", "1", platform.url, status="failed"))
    write_jobs(config_dir, jobs)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"failed")
        failed = list(table_rows(pilot))
        await pilot.press("escape", "slash", *"status:building")
        building = list(table_rows(pilot))
        await pilot.press("escape", "slash", *"running")
        running = list(table_rows(pilot))
        await pilot.press("escape", "slash", *"status:pend")
        pending = list(table_rows(pilot))

    url = platform.url
    assert failed == [f"penguins:1@{url}"]
    assert building == [f"churn:2@{url}"]
    assert running == [f"churn:2@{url}"]
    assert pending == [f"prices:1@{url}"]


async def test_enter_keeps_filter(platform: FakePlatform, config_dir: Path) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"ur", "enter")
        table_focused = pilot.app.screen.query_one("#jobs", JobTable).has_focus
        count = filter_count(pilot)
        await pilot.press("enter")
        await pilot.pause()

        assert table_focused
        assert count == "1 of 3"
        assert isinstance(pilot.app.screen, DetailScreen)
        assert pilot.app.screen.key == f"churn:2@{platform.url}"


async def test_cursor_stays_on_sort_and_filter(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    selected = f"prices:1@{platform.url}"
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        assert cursor_key(pilot) == selected

        await press_until_sorted(pilot, "Name")
        after_sort = cursor_key(pilot)
        await pilot.press("O")
        after_reverse = cursor_key(pilot)
        await pilot.press("slash", *"pri")
        after_filter = cursor_key(pilot)
        await pilot.press("escape")
        after_clear = cursor_key(pilot)
        await pilot.press("slash", *"cancer")
        filtered_out = cursor_key(pilot)

    assert after_sort == selected
    assert after_reverse == selected
    assert after_filter == selected
    assert after_clear == selected
    assert filtered_out == f"cancer:3@{platform.url}"


async def test_refresh_keeps_cursor_and_scroll(
    platform: FakePlatform, config_dir: Path
) -> None:
    jobs = many_jobs(platform.url, 300)
    write_jobs(config_dir, jobs)
    for table_ in reversed(jobs):
        if table_["status"] in ("building", "pending"):
            platform.set_build(str(table_["model_name"]), "1", status=table_["status"])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("pagedown", "pagedown", "pagedown", "j", "j")
        await settle(pilot)
        table = pilot.app.screen.query_one("#jobs", JobTable)
        selected = cursor_key(pilot)
        scroll = table.scroll_offset.y
        assert scroll > 0

        changed = {}
        for table_ in jobs[:120:3]:
            name = str(table_["model_name"])
            if table_["status"] in ("building", "pending"):
                changed[name] = platform.set_build(name, "1", status="completed")
        await pilot.press("r")
        await settle(pilot)
        rows = table_rows(pilot)
        after_scroll = table.scroll_offset.y
        after_cursor = cursor_key(pilot)

    assert changed
    assert after_cursor == selected
    assert after_scroll == scroll
    for name in changed:
        assert rows[f"{name}:1@{platform.url}"][STATUS] == "completed"


async def test_five_thousand_jobs_open_and_scroll(
    platform: FakePlatform, config_dir: Path
) -> None:
    count = 5000
    write_jobs(config_dir, many_jobs(platform.url, count))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        first_screen = widget_text(pilot.app.screen.query_one("#jobs", JobTable))
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.query_one("#jobs", JobTable)
        unprepared = screen.jobs.prepare(0)

        await pilot.press("end")
        last = cursor_key(pilot)
        bottom = widget_text(table)
        await pilot.press("pageup", "k")
        above = cursor_key(pilot)
        await pilot.press("home")
        top = cursor_key(pilot)
        await pilot.press("slash", *"job-4321")
        found = list(table_rows(pilot))

    url = platform.url
    assert "job-0000:1" in first_screen
    assert unprepared == 0
    assert last == f"job-{count - 1:04d}:1@{url}"
    assert f"job-{count - 1:04d}:1" in bottom
    assert above is not None and above != last
    assert top == f"job-0000:1@{url}"
    assert found == [f"job-4321:1@{url}"]


async def test_server_key_cycles_servers(
    platform: FakePlatform, config_dir: Path
) -> None:
    other = "http://127.0.0.1:9"
    jobs = three_jobs(platform.url)
    jobs.append(job_table("elsewhere", "1", other, status="completed"))
    write_jobs(config_dir, jobs)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        shown_keys = [set(table_rows(pilot))]
        counts = []
        for _ in range(3):
            await pilot.press("v")
            shown_keys.append(set(table_rows(pilot)))
            counts.append(filter_count(pilot))
        bar_shown = pilot.app.screen.query_one("#filter-bar").display

    first_server_jobs = {
        key for key in shown_keys[0] if key.endswith(f"@{platform.url}")
    }
    other_server_jobs = {f"elsewhere:1@{other}"}
    first_label = platform.url.removeprefix("http://")
    # Servers come in the order of their labels.
    assert len(first_server_jobs) == 3
    assert shown_keys[1:3] == [first_server_jobs, other_server_jobs]
    assert counts[0] == f"3 of 4 · server {first_label}"
    assert counts[1] == "1 of 4 · server 127.0.0.1:9"
    assert shown_keys[3] == shown_keys[0]
    assert not bar_shown


async def test_server_key_hidden_with_one_server(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v")
        rows = list(table_rows(pilot))
        footer = footer_descriptions(pilot)

    assert len(rows) == 3
    assert "Server" not in footer
    assert "Filter" in footer
    assert "Sort" in footer


def test_bindings_have_ids() -> None:
    bindings = [*JobsScreen.BINDINGS, *JobTable.BINDINGS]
    ids = [binding.id for binding in bindings if isinstance(binding, Binding)]

    assert len(ids) == len(bindings)
    assert all(ids)
    assert len(set(ids)) == len(ids)
    assert all(
        binding.description for binding in bindings if isinstance(binding, Binding)
    )


async def test_status_word_in_theme_colour(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one("#jobs", JobTable)
        # Line 0 is the header and line 1 the cursor row; line 3 is cancer:3.
        segments = list(table.render_line(3))
        theme = pilot.app.current_theme

    completed = [segment for segment in segments if segment.text == "completed"]
    assert len(completed) == 1
    style = completed[0].style
    assert style is not None
    assert style.bold
    assert style.color is not None
    assert style.color.name.lower() == str(theme.success).lower()


async def test_narrow_terminal_shows_every_key(
    platform: FakePlatform, config_dir: Path
) -> None:
    """At 80 columns the footer drops padding and the palette key, not Quit."""
    write_jobs(config_dir, three_jobs(platform.url))
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = pilot.app.screen.query_one(KeyFooter)
        descriptions = [key.description for key in footer.query(FooterKey)]
        needed = footer.virtual_size.width
        header_line = header(pilot)

    assert "Quit" in descriptions
    assert "Help" in descriptions
    assert needed <= 80
    assert "Duration" in header_line
    assert "Server" not in header_line
