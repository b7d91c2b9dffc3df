"""Builds on the local engine across quits: the quit question and the resume notice.

The local engine is a child process of the app and stops when the app quits.
A build it was training stops too, and the engine queues it again at its next
start. So quitting shows a confirmation first while such builds run, and the
next start names the builds that resumed. Builds on any other server keep
running without the app.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from textual.widgets import Static

from plexe_tui.store import Job
from plexe_tui.ui.connection import LOCAL_SERVER
from plexe_tui.ui.screens.confirm import ChoiceScreen

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

log = logging.getLogger(__name__)

# Builds named in a message; more are counted, so the message stays short.
NAMED_BUILDS = 3
# Seconds the resume notice stays: it names builds to look for.
RESUME_NOTICE_SECONDS = 10.0


class QuitQuestion(ChoiceScreen):
    """A question shown before quitting while the local engine trains builds.

    When those builds end while the question is open, its text changes to
    report it, so it never names builds that no longer run.
    """

    def on_mount(self) -> None:
        super().on_mount()
        app = cast("PlexeApp", self.app)
        app.jobs_changed.subscribe(self, self.jobs_changed)

    def jobs_changed(self, keys: set[str]) -> None:
        if not running_local_builds(cast("PlexeApp", self.app)):
            question = self.query_one(".choice-question", Static)
            question.update("The builds on the local engine have ended. Quit now?")


def running_local_builds(app: PlexeApp) -> list[Job]:
    """Return the unfinished builds of the engine this app runs, newest first."""
    if not app.connection.is_local:
        return []
    active = app.book.active(LOCAL_SERVER)
    return sorted(active, key=lambda job: job.created_at, reverse=True)


def build_names(jobs: list[Job]) -> str:
    """Return `a:1, b:2 and 3 more`: the first few labels and a count of the rest."""
    named = ", ".join(job.label for job in jobs[:NAMED_BUILDS])
    rest = len(jobs) - NAMED_BUILDS
    return f"{named} and {rest} more" if rest > 0 else named


def request_quit(app: PlexeApp) -> None:
    """Quit, or first ask when quitting would stop builds on the local engine.

    A second quit key while the question is open quits.
    """
    running = running_local_builds(app)
    if not running or isinstance(app.screen, QuitQuestion):
        app.exit()
        return

    count = len(running)
    builds, resume = (
        ("build is", "it resumes") if count == 1 else ("builds are", "they resume")
    )
    question = (
        f"{count} {builds} running on the local engine: {build_names(running)}. "
        f"The engine stops when plexe-tui quits, and {resume} at its next "
        "start. Quit now?"
    )

    def answered(choice: str | None) -> None:
        if choice == "quit":
            log.info("Quit with %d builds running on the local engine", count)
            app.exit()

    app.push_screen(
        QuitQuestion(
            question,
            [("quit", "Quit"), ("cancel", "Keep running")],
            focus="cancel",
        ),
        answered,
    )


def announce_resumed(app: PlexeApp) -> None:
    """Tell the user which unfinished builds the local engine took up at start.

    The engine queues every unfinished build again when it starts, so each
    unfinished local job of the history is running or waiting again.
    """
    running = running_local_builds(app)
    if not running or app.connection.error:
        return
    count = len(running)
    builds = "build" if count == 1 else "builds"
    log.info("The local engine resumed %d unfinished builds", count)
    app.notify(
        f"The local engine resumed {count} unfinished {builds}: "
        f"{build_names(running)}.",
        title="Builds",
        timeout=RESUME_NOTICE_SECONDS,
        markup=False,
    )
