"""The detail's renderables that need no screen: progress states and the field grid."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from textual.theme import BUILTIN_THEMES

from plexe_tui.store import Job
from plexe_tui.ui.detail_view import (
    ProgressState,
    field_table,
    progress_state,
)


def job_with(**fields: Any) -> Job:
    return Job(
        model_name="churn", model_version="1", server="local", goal="g", **fields
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"status": "building", "build_progress": 40.0, "iteration": 2},
            ProgressState(100, 40.0, "40%"),
        ),
        (
            {
                "status": "building",
                "build_progress": 40.0,
                "phase": "search",
                "iteration": 2,
                "planned_iterations": 5,
                "max_iterations": 9,
            },
            ProgressState(100, 40.0, "40%  phase: search  approach 2 of 5"),
        ),
        (
            {"status": "building", "iteration": 7, "max_iterations": 5},
            ProgressState(5, 5, "approach 7 of 5"),
        ),
        (
            {"status": "building", "build_progress": 140.0},
            ProgressState(100, 100.0, "100%"),
        ),
        ({"status": "completed", "phase": "done"}, ProgressState(100, 100, "done")),
        (
            {"status": "completed", "build_progress": 100.0, "iteration": 5},
            ProgressState(100, 100.0, "100%"),
        ),
        ({"status": "building", "iteration": 2}, None),
        ({"status": "pending"}, None),
        ({"status": "cancelled", "build_progress": 30.0}, None),
        ({"status": "paused_awaiting_feedback"}, None),
    ],
)
def test_progress_state(fields: dict[str, Any], expected: ProgressState | None) -> None:
    assert progress_state(job_with(**fields)) == expected


def table_text(job: Job) -> str:
    console = Console(width=100, no_color=True)
    with console.capture() as capture:
        console.print(field_table(job, "local engine", BUILTIN_THEMES["textual-dark"]))
    return capture.get()


@pytest.mark.parametrize(
    ("status", "shown"), [("building", True), ("completed", False)]
)
def test_phase_row_only_while_active(status: str, shown: bool) -> None:
    text = table_text(job_with(status=status, phase="starting"))

    assert ("starting" in text) is shown


def test_dataset_path_wraps_after_slash() -> None:
    path = "/home/analyst/projects/customer-churn/data/customers_2024_q3.csv"
    job = job_with(status="completed", dataset=path)
    console = Console(width=50, no_color=True)
    with console.capture() as capture:
        console.print(field_table(job, "local engine", BUILTIN_THEMES["textual-dark"]))
    lines = [line.rstrip() for line in capture.get().splitlines()]
    start = next(index for index, line in enumerate(lines) if "Dataset" in line)
    pieces = [lines[start].split("Dataset", 1)[1].strip()]
    for line in lines[start + 1 :]:
        if line[:18].strip():
            break
        pieces.append(line.strip())

    assert "".join(pieces) == path
    assert all(piece.endswith("/") for piece in pieces[:-1])


def test_wide_schema_shows_first_columns() -> None:
    """A 30-column schema is cut to its first columns and a count of the rest."""
    schema = {f"feature number {n}": "float" for n in range(30)}
    text = " ".join(table_text(job_with(input_schema=schema)).split())

    assert '{"feature number 0": "float", "feature number 1": "float",' in text
    assert "feature number 29" not in text
    assert "more}" in text


def test_short_schema_printed_whole() -> None:
    text = " ".join(table_text(job_with(output_schema={"diagnosis": "str"})).split())

    assert '{"diagnosis": "str"}' in text
