"""Tests of the job list's filter grammar, sort order and updates, without a screen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.theme import BUILTIN_THEMES

from plexe_tui.store import ORIGIN_LISTED, Job
from plexe_tui.ui.format import duration_text, status_style
from plexe_tui.ui.job_list import COLUMN_KEYS, JobList, Query, narrows, parse_query
from plexe_tui.ui.servers import server_label

NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)
SERVER = "http://127.0.0.1:8765"
OTHER = "https://api.plexe.ai"


def job(name: str, status: str, created: str, **fields: object) -> Job:
    """Return a job on SERVER created at `created` (HH:MM on the day of NOW)."""
    stamp = f"2025-03-14T{created}:00+00:00"
    values: dict[str, object] = {
        "model_name": name,
        "model_version": "1",
        "server": SERVER,
        "goal": f"predict the {name}",
        "status": status,
        "created_at": stamp,
        "updated_at": stamp,
    }
    values.update(fields)
    return Job(**values)  # type: ignore[arg-type]


def names(jobs: JobList) -> list[str]:
    return [key.split(":")[0] for key in jobs.order]


def job_list(*items: Job) -> JobList:
    jobs = JobList(server_label)
    jobs.set_jobs(items)
    jobs.recompute(NOW)
    return jobs


@pytest.fixture
def jobs() -> JobList:
    return job_list(
        job("churn", "building", "11:00", build_progress=40.0),
        job("prices", "pending", "10:00"),
        job("cancer", "completed", "09:00", metric_name="roc_auc", metric_value=0.9),
        job("penguins", "failed", "08:00", server=OTHER),
        job("diabetes", "completed", "07:00", metric_name="roc_auc", metric_value=0.7),
        job("console", "completed", "06:00", origin=ORIGIN_LISTED),
    )


def test_query_grammar() -> None:
    query = parse_query("  Churn status:FAILED server:plexe status:pend  ")

    assert query == Query(
        words=("churn",), statuses=("failed", "pend"), servers=("plexe",)
    )
    assert not parse_query("   ")
    assert parse_query("status:").words == ("status:",)


def test_default_order_newest_first(jobs: JobList) -> None:
    assert names(jobs) == [
        "churn",
        "prices",
        "cancer",
        "penguins",
        "diabetes",
        "console",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", ["churn"]),
        ("PREDICT THE PRI", ["prices"]),
        ("failed", ["penguins"]),
        ("running", ["churn"]),
        ("ready", ["cancer", "diabetes", "console"]),
        ("status:comp", ["cancer", "diabetes", "console"]),
        ("status:failed status:pending", ["prices", "penguins"]),
        ("server:api.plexe", ["penguins"]),
        ("external", ["console"]),
        ("completed canc", ["cancer"]),
        ("nothing-matches", []),
    ],
)
def test_filter(jobs: JobList, text: str, expected: list[str]) -> None:
    jobs.set_query(text)
    jobs.recompute(NOW)

    assert names(jobs) == expected


def test_server_filter(jobs: JobList) -> None:
    jobs.server_filter = OTHER
    jobs.recompute(NOW)

    assert names(jobs) == ["penguins"]
    assert jobs.servers() == [SERVER, OTHER]


def test_sort_missing_values_last(jobs: JobList) -> None:
    jobs.set_sort("metric", descending=True)
    jobs.recompute(NOW)
    descending = names(jobs)
    jobs.set_sort("metric", descending=False)
    jobs.recompute(NOW)
    ascending = names(jobs)

    assert descending[:2] == ["cancer", "diabetes"]
    assert ascending[:2] == ["diabetes", "cancer"]
    # Jobs without a metric keep the newest-first order, in both directions.
    assert descending[2:] == ascending[2:] == ["churn", "prices", "penguins", "console"]


def test_sort_by_status_rank(jobs: JobList) -> None:
    jobs.set_sort("status", descending=False)
    jobs.recompute(NOW)

    assert names(jobs) == [
        "churn",
        "prices",
        "penguins",
        "cancer",
        "diabetes",
        "console",
    ]


def test_sort_by_name_numeric_versions() -> None:
    jobs = job_list(
        job("b", "completed", "09:00", model_version="10"),
        job("b", "completed", "08:00", model_version="9"),
        job("A", "completed", "07:00"),
    )
    jobs.set_sort("name", descending=False)
    jobs.recompute(NOW)

    assert jobs.order == [f"A:1@{SERVER}", f"b:9@{SERVER}", f"b:10@{SERVER}"]


def test_sort_by_duration_ticks_running() -> None:
    jobs = job_list(
        job("short", "completed", "11:00", updated_at="2025-03-14T11:01:00+00:00"),
        job("running", "building", "11:30"),
    )
    jobs.set_sort("duration", descending=True)
    jobs.recompute(NOW)

    assert names(jobs) == ["running", "short"]


def test_update_places_new_and_changed(jobs: JobList) -> None:
    jobs.set_query("status:completed")
    jobs.recompute(NOW)
    churn = jobs.get(f"churn:1@{SERVER}")
    assert churn is not None
    churn.status = "completed"
    newest = job("fresh", "completed", "11:59")

    jobs.update([churn, newest])
    jobs.recompute(NOW)

    assert names(jobs) == ["fresh", "churn", "cancer", "diabetes", "console"]
    assert jobs.order.index(f"churn:1@{SERVER}") == 1


def test_prepare_in_steps(jobs: JobList) -> None:
    fresh = JobList(server_label)
    fresh.set_jobs(jobs.get(key) for key in jobs.order)  # type: ignore[misc]

    assert fresh.prepare(4) == 2
    assert fresh.prepare(4) == 0


def test_prepare_covers_added_jobs(jobs: JobList) -> None:
    jobs.prepare(len(jobs))
    churn = jobs.get(f"churn:1@{SERVER}")
    assert churn is not None
    churn.status = "failed"

    jobs.update([churn, job("fresh", "building", "11:59")])
    jobs.prepare(len(jobs))

    assert jobs.prepared_count == len(jobs)


def test_cells_plain_text(jobs: JobList) -> None:
    theme = BUILTIN_THEMES["textual-dark"]

    churn = [cell.plain for cell in jobs.cells(f"churn:1@{SERVER}", NOW, theme, 20)]
    console = jobs.cells(f"console:1@{SERVER}", NOW, theme, 20)[0]

    assert churn == [
        "churn:1",
        "building",
        "",
        "40%",
        "127.0.0.1:8765",
        "1 h ago",
        "1h 00m",
    ]
    assert console.plain == "console:1 external"


def test_external_note_stays_in_narrow_cell(jobs: JobList) -> None:
    theme = BUILTIN_THEMES["textual-dark"]

    name = jobs.cells(f"console:1@{SERVER}", NOW, theme, 12)[0]

    assert name.plain == "co… external"
    assert server_label(OTHER) == "api.plexe.ai"
    assert server_label("local") == "local"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("", "c", True),
        ("c", "ch", True),
        ("ch", "c", False),
        ("churn", "churn price", True),
        ("run", "running", False),
        ("running", "running x", True),
        ("c status:failed", "ch status:failed", True),
        ("c", "c status:failed", False),
        ("c server:a", "c server:ab", False),
    ],
)
def test_query_narrows(old: str, new: str, expected: bool) -> None:
    assert narrows(parse_query(old), parse_query(new)) is expected


def test_narrowed_filter_matches_full(jobs: JobList) -> None:
    every_job = [jobs.get(key) for key in jobs.order]
    for text in ("c", "ca", "can", "canc"):
        jobs.set_query(text)
        jobs.recompute(NOW)
        fresh = job_list(*every_job)  # type: ignore[arg-type]
        fresh.set_query(text)
        fresh.recompute(NOW)

        assert jobs.order == fresh.order
    assert names(jobs) == ["cancer"]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (None, ""),
        (-3.0, "0s"),
        (42.9, "42s"),
        (185.0, "3m 05s"),
        (3720.0, "1h 02m"),
        (183600.0, "2d 03h"),
    ],
)
def test_duration_text(seconds: float | None, expected: str) -> None:
    assert duration_text(seconds) == expected


def test_name_column_takes_rest(jobs: JobList) -> None:
    widths = jobs.column_widths(120, padding=1)
    narrow = jobs.column_widths(40, padding=1)
    shown = [width for width in narrow if width]

    assert sum(widths) + 2 * len(widths) == 120
    assert narrow[0] == 12
    assert narrow[COLUMN_KEYS.index("server")] == 0
    assert narrow[COLUMN_KEYS.index("progress")] == 0
    assert narrow[COLUMN_KEYS.index("metric")] == 17
    assert sum(shown) + 2 * len(shown) > 40


@pytest.mark.parametrize("width", [78, 80, 100])
def test_narrow_table_keeps_name_and_times(jobs: JobList, width: int) -> None:
    """At 80 columns the name, Created and Duration stay whole."""
    widths = dict(zip(COLUMN_KEYS, jobs.column_widths(width, padding=1), strict=True))
    shown = [value for value in widths.values() if value]

    assert sum(shown) + 2 * len(shown) == width
    assert widths["name"] >= 20
    assert widths["created"] >= len("14 min ago")
    assert widths["duration"] >= len("Duration")


@pytest.mark.parametrize("status", ["completed", "failed", "building", "pending"])
def test_status_keeps_text_colour_without_colour(
    status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under NO_COLOR the theme colours would turn into greys on a light background."""
    light = BUILTIN_THEMES["textual-light"]
    coloured = status_style(status, light)
    monkeypatch.setenv("NO_COLOR", "1")

    assert status_style(status, light) == "bold"
    assert coloured != "bold"
