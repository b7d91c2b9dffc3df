"""Renderables of the job detail: fields, progress and timeline.

Server text (names, goals, errors, paths) goes into `Text` objects, never
through markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.theme import Theme

from plexe_tui.api import is_terminal
from plexe_tui.store import Job
from plexe_tui.ui.format import (
    absolute_time,
    duration_text,
    metric_text,
    parse_time,
    status_text,
)
from plexe_tui.ui.path_text import PathText

# Width of the label column of the field grid and of the rows below it, so
# that the lineage rows line up with the grid.
LABEL_WIDTH = 16
EMPTY = "—"


@dataclass(frozen=True)
class ProgressState:
    """A progress bar's position and the words beside it."""

    total: float
    done: float
    label: str


def progress_state(job: Job) -> ProgressState | None:
    """Return the bar for a build: percent, else approach k of n; None to hide it.

    A failed or cancelled build has no bar, because its status and error
    explain more.
    """
    if job.status in ("failed", "cancelled"):
        return None
    notes = []
    active = not is_terminal(job.status)
    if job.phase and active:
        notes.append(f"phase: {job.phase}")
    total = job.planned_iterations or job.max_iterations
    if job.iteration is not None and total and active:
        notes.append(f"approach {job.iteration} of {total}")

    if job.build_progress is not None:
        percent = max(0.0, min(100.0, job.build_progress))
        label = "  ".join([f"{percent:.0f}%", *notes])
        return ProgressState(total=100, done=percent, label=label)
    if job.iteration is not None and total and active:
        return ProgressState(
            total=total, done=min(job.iteration, total), label="  ".join(notes)
        )
    if job.status == "completed":
        return ProgressState(total=100, done=100, label="done")
    return None


def headline(job: Job, theme: Theme) -> Text:
    """Return `name  status  metric`: the metric, or the best so far while it runs."""
    line = Text.assemble((job.label, "bold"), "  ", status_text(job.status, theme))
    metric = metric_text(job)
    if metric.plain:
        line.append("  ")
        line.append_text(metric)
    return line


@dataclass(frozen=True)
class ModelSchemas:
    """The input and output schemas of a finished model, from its server's record."""

    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None


def field_table(
    job: Job, server_label: str, theme: Theme, model: ModelSchemas | None = None
) -> Table:
    """Return the grid of the request's fields and the build's result.

    A schema the request left to the server is shown as the server chose it,
    once `model` contains the server's record.
    """
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=LABEL_WIDTH)
    table.add_column(overflow="fold")
    ended = is_terminal(job.status)
    rows: list[tuple[str, Any]] = [
        ("Model", job.label),
        ("Server", server_label),
        ("Status", status_text(job.status, theme)),
        # A job saved by an older version may keep the phase it had before it
        # ended. The engine clears the phase when a build ends.
        ("Phase", None if ended else job.phase),
        ("Result" if ended else "Best so far", _result_text(job)),
        ("Goal", job.goal),
        ("Dataset", PathText(job.dataset) if job.dataset else None),
        ("Upload id", job.upload_id),
        ("Input schema", _schema_text(job.input_schema, model, "input_schema")),
        ("Output schema", _schema_text(job.output_schema, model, "output_schema")),
        ("Metric", job.metric or "server default"),
        ("Max iterations", job.max_iterations or "server default"),
        ("Provider", job.provider or "server default"),
        ("Created", absolute_time(job.created_at)),
        ("Updated", absolute_time(job.updated_at)),
    ]
    for name, value in rows:
        if value is None or value == "" or (isinstance(value, Text) and not value):
            value = EMPTY
        if not isinstance(value, Text | PathText):
            value = Text(str(value))
        table.add_row(name, value)
    return table


def timeline_table(job: Job, theme: Theme) -> Table | Text:
    """Return each status change with its time and the time since the previous one."""
    if not job.history:
        return Text(
            f"Created {absolute_time(job.created_at)}. Status changes of this "
            "build were not recorded: an earlier version of plexe-tui saved it.",
            style="dim",
        )
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(style="dim")
    previous: str | None = None
    for change in job.history:
        table.add_row(
            Text(absolute_time(change.at)),
            status_text(change.status, theme),
            Text(_since(previous, change.at)),
        )
        previous = change.at
    return table


def _since(previous: str | None, current: str) -> str:
    start, end = parse_time(previous), parse_time(current)
    if start is None or end is None:
        return ""
    # The job list's Duration column writes durations the same way.
    return f"after {duration_text((end - start).total_seconds())}"


def _result_text(job: Job) -> Text | None:
    """Return the metric, or while the build runs the best one so far."""
    if job.metric_value is not None:
        return metric_text(job)
    if job.best_metric_value is not None and not is_terminal(job.status):
        name = job.best_metric_name or "metric"
        return Text(f"{name} = {job.best_metric_value:.4g}")
    return None


def _schema_text(
    requested: dict[str, Any] | None, model: ModelSchemas | None, name: str
) -> str | None:
    """Return the requested schema, else the one the server chose, else None."""
    if requested:
        return _schema_summary(requested)
    chosen = getattr(model, name) if model is not None else None
    if not chosen:
        return None
    columns = "1 column" if len(chosen) == 1 else f"{len(chosen)} columns"
    return f"chosen by the server, {columns}: {_schema_summary(chosen)}"


# Characters of schema JSON shown before the rest is counted instead: about
# four lines of the detail's value column. A wide dataset's schema would
# otherwise push the build's story off the screen.
SCHEMA_TEXT_LIMIT = 160


def _schema_summary(schema: dict[str, Any]) -> str:
    """Return a schema as JSON, its first columns only when it is long."""
    text = json.dumps(schema)
    if len(text) <= SCHEMA_TEXT_LIMIT:
        return text
    shown: dict[str, Any] = {}
    for column, kind in schema.items():
        if len(json.dumps({**shown, column: kind})) > SCHEMA_TEXT_LIMIT:
            break
        shown[column] = kind
    rest = len(schema) - len(shown)
    if not shown:
        return f"{{… {rest} columns}}"
    return f"{json.dumps(shown)[:-1]}, … {rest} more}}"
