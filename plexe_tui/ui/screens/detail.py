"""Job detail: every field of one build, kept current while the screen is open."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, cast

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, ProgressBar, Static, TextArea

from plexe_tui.api import ApiError, is_terminal
from plexe_tui.api.errors import NotFoundError
from plexe_tui.store import Job
from plexe_tui.ui.description import render_description
from plexe_tui.ui.format import absolute_time, metric_text, status_text
from plexe_tui.ui.poller import Poller

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

log = logging.getLogger(__name__)

# Seconds between polls while the detail of an active local build is open.
LOCAL_DETAIL_INTERVAL = 1.0


class DetailScreen(Screen[None]):
    """One job's request, status, result and error."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Return to the job list"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Poll the server now"),
        Binding("s", "resubmit", "Resubmit", id="resubmit", tooltip="Build again"),
        Binding(
            "y",
            "copy_error",
            "Copy error",
            id="copy-error",
            show=False,
            tooltip="Copy the error text",
        ),
        Binding("q", "app.quit", "Quit", id="quit", tooltip="Quit plexe-tui"),
    ]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.poller: Poller | None = None
        self.described = False

    @property
    def plexe(self) -> PlexeApp:
        return cast("PlexeApp", self.app)

    @property
    def job(self) -> Job | None:
        return self.plexe.book.get(self.key)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(id="headline", markup=False)
            yield ProgressBar(id="progress", total=100, show_eta=False)
            yield Static(id="fields", markup=False)
            yield Label("How the model was built", id="description-label")
            yield Static(id="description", markup=False)
            yield Label("Error (y copies it)", id="error-label")
            yield TextArea(id="error", read_only=True, soft_wrap=True)
            yield Static(id="poll-line", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        job = self.job
        self.title = job.label if job else self.key
        self.plexe.jobs_changed.subscribe(self, self.on_jobs_changed)
        self.render_job()

        if job is not None and job.server == self.plexe.connection.server:
            interval = self.plexe.poller.interval
            if self.plexe.connection.is_local:
                interval = LOCAL_DETAIL_INTERVAL
            self.poller = Poller(
                self,
                self.poll,
                interval=interval,
                on_change=self.update_poll_line,
                name="poll-detail",
            )
            if not is_terminal(job.status):
                self.poller.start()
        # render_job ran before the poller existed, so the line was left empty.
        self.update_poll_line()
        self.set_interval(1.0, self.update_poll_line, name="clock")
        self.query_one("#description").display = False
        self.query_one("#description-label").display = False
        self.fetch_description()

    def fetch_description(self) -> None:
        """Ask the server once what a completed build chose and why."""
        job = self.job
        if (
            self.described
            or job is None
            or job.status != "completed"
            or job.server != self.plexe.connection.server
        ):
            return
        self.described = True
        self.run_worker(
            self.load_description(job), name="describe", exit_on_error=False
        )

    async def load_description(self, job: Job) -> None:
        try:
            client = await self.plexe.connection.client()
            body = await client.describe(job.model_name, job.model_version)
        except ApiError as exc:
            # 404 and 405 mean the server has no describe endpoint: hide the section.
            log.info("No description of %s: %s", job.label, exc.message)
            return
        self.query_one("#description", Static).update(render_description(body))
        self.query_one("#description").display = True
        self.query_one("#description-label").display = True

    def on_unmount(self) -> None:
        if self.poller is not None:
            self.poller.stop()

    async def poll(self) -> None:
        job = self.job
        if job is None:
            return
        client = await self.plexe.connection.client()
        try:
            status = await client.get_status(job.model_name, job.model_version)
        except NotFoundError as exc:
            if self.plexe.book.mark_missing(self.key, exc.message):
                self.plexe.jobs_updated({self.key})
            if self.poller is not None:
                self.poller.stop()
            return
        self.plexe.apply_status(self.key, status)
        if is_terminal(status.status) and self.poller is not None:
            self.poller.stop()

    def on_jobs_changed(self, keys: set[str]) -> None:
        if self.key in keys:
            self.render_job()
            self.fetch_description()

    def render_job(self) -> None:
        job = self.job
        if job is None:
            self.query_one("#headline", Static).update(f"Unknown job {self.key}")
            return

        self.query_one("#headline", Static).update(self.headline(job))
        bar = self.query_one("#progress", ProgressBar)
        bar.display = job.build_progress is not None
        if job.build_progress is not None:
            bar.update(progress=job.build_progress)
        self.query_one("#fields", Static).update(self.field_table(job))

        error = self.query_one("#error", TextArea)
        has_error = bool(job.error)
        error.display = has_error
        self.query_one("#error-label").display = has_error
        if has_error and error.text != job.error:
            error.text = job.error or ""
        self.update_poll_line()

    def headline(self, job: Job) -> Text:
        line = Text.assemble(
            (f"{job.label}  ", "bold"), status_text(job.status, self.app.current_theme)
        )
        active = not is_terminal(job.status)
        if job.phase and active:
            line.append(f"  phase: {job.phase}")
        total = job.planned_iterations or job.max_iterations
        if job.iteration is not None and total and active:
            line.append(f"  approach {job.iteration} of {total}")
        if job.metric_value is not None or job.best_metric_value is not None:
            line.append("  ")
            line.append_text(metric_text(job))
        return line

    def field_table(self, job: Job) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        server = (
            self.plexe.connection.label
            if job.server == self.plexe.connection.server
            else job.server
        )
        rows: list[tuple[str, Any]] = [
            ("Model", job.label),
            ("Server", server),
            ("Status", status_text(job.status, self.app.current_theme)),
            ("Phase", job.phase),
            ("Result", metric_text(job) if job.metric_value is not None else None),
            ("Goal", job.goal),
            ("Dataset", job.dataset),
            ("Upload id", job.upload_id),
            ("Input schema", _json(job.input_schema)),
            ("Output schema", _json(job.output_schema)),
            ("Metric", job.metric or "server default"),
            ("Max iterations", job.max_iterations or "server default"),
            ("Provider", job.provider or "server default"),
            ("Created", absolute_time(job.created_at)),
            ("Updated", absolute_time(job.updated_at)),
            ("Resubmitted from", _parent_label(job.parent)),
            ("Resubmitted as", self.children_text(job)),
        ]
        for name, value in rows:
            if value is None or value == "":
                value = "—"
            table.add_row(name, value if isinstance(value, Text) else Text(str(value)))
        return table

    def children_text(self, job: Job) -> str | None:
        """Return the labels of the builds resubmitted from this one."""
        children = [
            other.label
            for other in self.plexe.book.ordered()
            if other.parent == job.key
        ]
        return ", ".join(reversed(children)) or None

    def update_poll_line(self) -> None:
        job = self.job
        line = self.query_one("#poll-line", Static)
        if job is not None and job.server != self.plexe.connection.server:
            line.update(
                f"This build ran on {job.server}, and this app is connected to "
                f"{self.plexe.connection.label}, so it is not polled. Start "
                "plexe-tui with --base-url for that server to follow it."
            )
            return
        if job is None or self.poller is None:
            line.update("")
            return
        if job.key in self.plexe.book.missing:
            line.update("The server has no record of this build; it is not polled.")
            return
        if self.poller.failure:
            text = self.poller.retry_text()
            line.update(text[:1].upper() + text[1:])
        elif is_terminal(job.status):
            line.update("The build has ended; it is no longer polled.")
        elif self.poller.last_success is not None:
            age = round(time.monotonic() - self.poller.last_success)
            line.update(
                f"Updated {age} s ago; polling every {self.poller.interval:g} s."
            )

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        if self.poller is not None:
            self.poller.start()

    def action_resubmit(self) -> None:
        job = self.job
        if job is None:
            return
        from plexe_tui.ui.screens.build import BuildScreen

        self.app.push_screen(BuildScreen(source=job))

    def action_copy_error(self) -> None:
        job = self.job
        if job is not None and job.error:
            self.app.copy_to_clipboard(job.error)
            self.notify("Copied the error text.", markup=False)


def _json(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value) if value else None


def _parent_label(key: str | None) -> str | None:
    """Show a parent key (`name:version@server`) as `name:version`."""
    return key.rsplit("@", 1)[0] if key else None
