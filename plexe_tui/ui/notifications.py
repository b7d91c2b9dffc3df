"""Telling the user that a build ended while they were looking at something else.

A build that completes, fails or is cancelled raises a toast (name, outcome
and metric) and rings the terminal bell, unless that build's detail screen is
the one in front: the user already sees the change there. Both signals can be
turned off through `NotifySettings`, which the app receives in its settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from textual.screen import ModalScreen

from plexe_tui.api import is_terminal
from plexe_tui.api.errors import one_line
from plexe_tui.store import Job

if TYPE_CHECKING:
    from textual.app import App

# Characters of a failed build's error shown in the toast; the detail screen
# shows all of it.
TOAST_ERROR_CHARS = 160
# Seconds a toast stays up: longer than Textual's default, because the user
# was looking elsewhere when it appeared.
TOAST_SECONDS = 10.0

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True)
class NotifySettings:
    """Signals of a build that ended while its detail was not in front."""

    toast: bool = True
    """Show a toast with the build's name, outcome and metric."""
    bell: bool = True
    """Ring the terminal bell (terminals show it as a sound or a flash)."""


class BuildNotifier:
    """Listens to status changes and signals the builds that just ended."""

    def __init__(self, app: App[Any], settings: NotifySettings) -> None:
        self.app = app
        self.settings = settings

    def status_changed(self, job: Job, previous: str) -> None:
        """Signal `job` if it has just ended and its detail screen is not in front."""
        if not is_terminal(job.status) or is_terminal(previous):
            return
        if self._detail_in_front(job.key):
            return
        if self.settings.toast:
            message, severity = outcome_message(job)
            self.app.notify(
                message,
                title="Build ended",
                severity=severity,
                timeout=TOAST_SECONDS,
                markup=False,
            )
        if self.settings.bell:
            self.app.bell()

    def _detail_in_front(self, key: str) -> bool:
        """Return whether the detail of `key` is the top screen under any modals."""
        from plexe_tui.ui.screens.detail import DetailScreen

        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, ModalScreen):
                continue
            return isinstance(screen, DetailScreen) and screen.key == key
        return False


def outcome_message(job: Job) -> tuple[str, Severity]:
    """Return the toast's text for an ended build and its severity."""
    if job.status == "completed":
        metric = ""
        if job.metric_value is not None:
            metric = f": {job.metric_name or 'metric'} = {job.metric_value:.4g}"
        return f"{job.label} completed{metric}.", "information"
    if job.status == "failed":
        reason = f": {one_line(job.error, TOAST_ERROR_CHARS)}" if job.error else "."
        return f"{job.label} failed{reason}", "error"
    return f"{job.label} was cancelled.", "warning"
