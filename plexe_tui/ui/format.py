"""Text shown for jobs: status words and colours, metrics and times.

Server text (names, goals, errors) may contain `[` and `]`, so everything here
returns plain `rich.text.Text` and never goes through markup.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from rich.text import Text
from textual.theme import Theme

from plexe_tui.api.status import BuildState, is_terminal
from plexe_tui.store import Job
from plexe_tui.ui.themes import readable_text_colours


def status_style(status: str, theme: Theme) -> str:
    """Return a Rich style for a status word: a theme colour, never the only cue.

    The colour is the theme's, shaded until it is readable on the theme.
    With NO_COLOR set (no-color.org), Textual turns every colour into a grey of
    the same lightness, and the theme colours turn into greys close to a light
    background. The words then keep the text colour, in bold.
    """
    if "NO_COLOR" in os.environ:
        return "bold"
    colours = {
        name: rich_colour_name(colour)
        for name, colour in readable_text_colours(theme).items()
    }
    try:
        state = BuildState(status)
    except ValueError:
        return f"italic {colours['accent']}"  # A word outside the contract's table.

    colour = {
        BuildState.COMPLETED: colours["success"],
        BuildState.FAILED: colours["error"],
        BuildState.BUILDING: colours["warning"],
        BuildState.PENDING: colours["primary"],
        BuildState.CANCELLED: None,
    }[state]
    return f"bold {colour}" if colour else "dim"


def rich_colour_name(colour: str) -> str:
    """Return a Textual colour as Rich writes it: `ansi_green` is `green` there."""
    return colour.removeprefix("ansi_")


def status_text(status: str, theme: Theme) -> Text:
    """Return the status word, coloured; an unknown word is shown as it came."""
    return Text(status or "unknown", style=status_style(status, theme))


def metric_text(job: Job) -> Text:
    """Return `name = value`; while a build runs, its best so far, dimmed."""
    if job.metric_value is not None:
        return Text(f"{job.metric_name or 'metric'} = {job.metric_value:.4g}")
    if job.best_metric_value is not None and not is_terminal(job.status):
        name = job.best_metric_name or "metric"
        return Text(f"{name} = {job.best_metric_value:.4g} so far", style="dim")
    return Text("")


def progress_text(job: Job) -> str:
    """Return the build's progress as a percent or `k/n`, when the server sends it."""
    if job.build_progress is not None:
        return f"{job.build_progress:.0f}%"
    total = job.planned_iterations or job.max_iterations
    if job.iteration is not None and total:
        return f"{job.iteration}/{total}"
    return ""


def parse_time(value: str | None) -> datetime | None:
    """Read an ISO 8601 time; a time without a zone is taken as UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relative_time(value: str | None, now: datetime) -> str:
    """Return `5 s ago`, `3 min ago`, `2 h ago`, or a date for older times."""
    moment = parse_time(value)
    if moment is None:
        return value or ""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return moment.strftime("%Y-%m-%d")


def absolute_time(value: str | None) -> str:
    """Return a time as `YYYY-MM-DD HH:MM:SS UTC`."""
    moment = parse_time(value)
    if moment is None:
        return value or "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_text(seconds: float | None) -> str:
    """Return a duration as `42s`, `3m 05s`, `1h 02m` or `2d 03h`."""
    if seconds is None:
        return ""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def size_text(size_bytes: int | None) -> str:
    """Return a file size in decimal units: `512 B`, `4.2 kB`, `31.0 MB`, `1.5 GB`."""
    if size_bytes is None:
        return ""
    if size_bytes < 1000:
        return f"{size_bytes} B"
    size = size_bytes / 1000
    for unit in ("kB", "MB"):
        if size < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
