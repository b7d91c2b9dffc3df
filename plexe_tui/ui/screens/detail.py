"""Job detail: one build's request, progress, history and result, and its actions.

The screen polls its own build while it is open, shows what the server tried
(from `describe`), and, once the build has completed, calls the model for one
row or for every row of a CSV file. Every request goes to the job's own server,
which may not be the app's: see `DetailScreen.connection`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import (
    Button,
    Header,
    Input,
    Label,
    ProgressBar,
    Static,
    TextArea,
)

from plexe_tui.api import ApiError, is_terminal
from plexe_tui.api.errors import NetworkError, NotFoundError
from plexe_tui.store import Job
from plexe_tui.ui.connection import LOCAL_SERVER, Connection
from plexe_tui.ui.description import render_description
from plexe_tui.ui.detail_view import (
    ModelSchemas,
    field_table,
    headline,
    progress_state,
    timeline_table,
)
from plexe_tui.ui.job_actions import JobActions
from plexe_tui.ui.poller import Poller
from plexe_tui.ui.prediction import Predictions
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.servers import server_label
from plexe_tui.ui.widgets.batch_panel import BatchPanel
from plexe_tui.ui.widgets.footer import KeyFooter
from plexe_tui.ui.widgets.inference_form import InferenceForm

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

log = logging.getLogger(__name__)

# Seconds between polls while the detail of an active local build is open.
LOCAL_DETAIL_INTERVAL = 1.0

WIDE_COLUMNS = 110

# Actions that need a completed build.
PREDICT_ACTIONS = frozenset({"predict", "predict_file"})


def open_over_list(app: App[object], key: str) -> None:
    """Open a job's detail right above the job list, so escape returns there.

    Every screen above the list goes, such as the form that started the build
    and the detail it was resubmitted from. A detail that is predicting a file
    stays, with the new one above it, because leaving it would stop the batch.
    """
    from plexe_tui.ui.screens.jobs import JobsScreen

    stack = app.screen_stack
    keep = len(stack) - 1
    while keep > 0:
        screen = stack[keep]
        if isinstance(screen, JobsScreen):
            break
        if isinstance(screen, DetailScreen) and screen.predictions.batch_running:
            break
        keep -= 1
    for _ in range(len(stack) - 1 - keep):
        app.pop_screen()
    app.push_screen(DetailScreen(key))


class JobLink(Button):
    """A button that opens the detail of another job."""

    # Without a minimum width the label starts where the other field values do,
    # instead of centred in a 16-cell button.
    DEFAULT_CSS = "JobLink { min-width: 0; }"

    def __init__(self, job: Job, text: str) -> None:
        super().__init__(Content(text), classes="job-link", compact=True)
        self.key = job.key


def lineage_text(job: Job, other: Job) -> str:
    """Name a related job, with its server when it differs from `job`'s.

    A build resubmitted to another server gets the same name:version there.
    """
    if other.server == job.server:
        return other.label
    return f"{other.label} on {server_label(other.server)}"


class DetailScreen(Screen[None]):
    """One job's request, status, timeline, result and error, and its actions."""

    # From this many columns on, the request and the status changes sit side by
    # side (app.tcss styles the `-wide` class).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_COLUMNS, "-wide")]

    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Return to the job list"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Poll the server now"),
        Binding(
            "s",
            "resubmit",
            "Resubmit",
            id="resubmit",
            tooltip="Build again, with or without changes",
        ),
        Binding(
            "i",
            "predict",
            "Predict",
            id="predict",
            tooltip="Fill in the features and call the model",
        ),
        Binding(
            "b",
            "predict_file",
            "Predict file",
            id="predict-file",
            tooltip="Predict every row of a CSV file into a new CSV file",
        ),
        Binding(
            "x",
            "stop_batch",
            "Stop",
            id="stop-batch",
            tooltip="Stop the prediction of the file",
        ),
        Binding(
            "y",
            "copy_error",
            "Copy error",
            id="copy-error",
            tooltip="Copy the error text",
        ),
        Binding(
            "d",
            "delete",
            "Delete",
            id="delete",
            tooltip="Delete the model on the server",
        ),
        Binding(
            "d",
            "cancel_build",
            "Cancel build",
            id="cancel-build",
            tooltip="Ask the server to stop this build",
        ),
        Binding(
            "f",
            "forget",
            "Forget",
            id="forget",
            tooltip="Remove the job from this app's list; the server keeps it",
        ),
        Binding(
            "c",
            "copy_id",
            "Copy id",
            id="copy-id",
            show=False,
            tooltip="Copy the model id, name:version",
        ),
        Binding(
            "u",
            "copy_curl",
            "Copy curl",
            id="copy-curl",
            show=False,
            tooltip="Copy the build request as a curl command, without the key",
        ),
        Binding(
            "q", "app.quit", "Quit", id="quit", show=False, tooltip="Quit plexe-tui"
        ),
    ]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.poller: Poller | None = None
        self.described = False
        self.lineage: tuple[str | None, tuple[str, ...]] | None = None
        self.actions = JobActions(self)
        self.predictions = Predictions(self)
        self.model_schemas: ModelSchemas | None = None
        """The finished model's schemas from its server, once fetched."""

    @property
    def plexe(self) -> PlexeApp:
        return cast("PlexeApp", self.app)

    @property
    def job(self) -> Job | None:
        return self.plexe.book.get(self.key)

    def connection(self, job: Job) -> Connection:
        """Return the connection to the job's server, opening one if needed.

        For a local job while the app uses another server, that starts the
        local engine, which keeps the job's model.
        """
        return self.plexe.servers.connection_for(job.server)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(id="headline", markup=False)
            with Horizontal(id="progress-row"):
                yield ProgressBar(
                    id="progress", total=100, show_eta=False, show_percentage=False
                )
                yield Static(id="progress-label", markup=False)
            yield Label("Error (y copies it)", id="error-label", classes="section")
            yield TextArea(id="error", read_only=True, soft_wrap=True)
            # Side by side on wide terminals (see WIDE_COLUMNS), else stacked.
            with Horizontal(id="overview"):
                with Vertical(id="request"):
                    yield Static(id="fields", markup=False)
                    with Horizontal(id="lineage-from", classes="lineage"):
                        yield Label("Resubmitted from", classes="lineage-label")
                        yield Horizontal(classes="lineage-links")
                    with Horizontal(id="lineage-as", classes="lineage"):
                        yield Label("Resubmitted as", classes="lineage-label")
                        yield Horizontal(classes="lineage-links")
                with Vertical(id="history"):
                    yield Label("Status changes", id="timeline-label")
                    yield Static(id="timeline", markup=False)
            yield Label(
                "How the model was built", id="description-label", classes="section"
            )
            yield Static(id="description", markup=False)
            yield Label("Predict one row (i)", id="inference-label", classes="section")
            yield InferenceForm(self.predictions.infer, id="inference")
            yield Label("Predict a file (b)", id="batch-label", classes="section")
            yield BatchPanel(id="batch")
        yield Static(id="poll-line", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        job = self.job
        self.title = job.label if job else self.key
        for selector in (
            "#description",
            "#description-label",
            "#inference",
            "#inference-label",
            "#batch",
            "#batch-label",
        ):
            self.query_one(selector).display = False
        self.plexe.jobs_changed.subscribe(self, self.on_jobs_changed)
        self.render_job()

        if job is not None:
            interval = self.plexe.servers.poll_interval(job.server)
            if job.server == LOCAL_SERVER:
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
        self.load_completed_parts()

    def load_completed_parts(self) -> None:
        """Fetch the description and the model's inputs once the build completed."""
        job = self.job
        if job is None:
            return
        self.fetch_description()
        self.predictions.load(job)

    def fetch_description(self) -> None:
        """Ask the server once what a completed build chose and why."""
        job = self.job
        if self.described or job is None or job.status != "completed":
            return
        self.described = True
        self.run_worker(
            self.load_description(job), name="describe", exit_on_error=False
        )

    async def load_description(self, job: Job) -> None:
        try:
            client = await self.connection(job).client()
            body = await client.describe(job.model_name, job.model_version)
        except ApiError as exc:
            # 404 and 405 mean the server has no describe endpoint: hide the section.
            log.info("No description of %s: %s", job.label, exc.message)
            return
        self.query_one("#description", Static).update(render_description(body))
        self.query_one("#description").display = True
        self.query_one("#description-label").display = True

    def show_model_schemas(self, schemas: ModelSchemas) -> None:
        """Show the schemas the server chose where the request left them out."""
        self.model_schemas = schemas
        self.render_job()

    def show_predictions(self, available: bool) -> None:
        """Show the inference form once the model's features are known."""
        self.query_one("#inference").display = True
        self.query_one("#inference-label").display = True
        if not available:
            self.query_one("#inference-buttons").display = False
        self.refresh_bindings()

    def on_unmount(self) -> None:
        if self.poller is not None:
            self.poller.stop()

    async def poll(self) -> None:
        job = self.job
        if job is None:
            return
        link = self.plexe.servers.get(job.server)
        if link is not None:
            await link.restart_engine_if_exited()
        connection = self.connection(job)
        client = await connection.client()
        try:
            status = await client.get_status(job.model_name, job.model_version)
        except (NetworkError, RuntimeError):
            # A closed client raises RuntimeError. When the engine died, the
            # advice of either error (check the URL) is wrong: the next poll,
            # of this screen or of the app, starts it again and shows a notice.
            if connection.lost_engine(client):
                return
            raise
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
        job = self.job
        if self.key in keys or (job is not None and self.lineage_changed(job)):
            self.render_job()
            self.load_completed_parts()

    def render_job(self) -> None:
        job = self.job
        if job is None:
            self.query_one("#headline", Static).update(f"Unknown job {self.key}")
            return

        theme = self.app.current_theme
        self.query_one("#headline", Static).update(headline(job, theme))
        self.render_progress(job)
        self.query_one("#fields", Static).update(
            field_table(job, self.server_label(job), theme, self.model_schemas)
        )
        self.render_lineage(job)
        self.query_one("#timeline", Static).update(timeline_table(job, theme))

        error = self.query_one("#error", TextArea)
        has_error = bool(job.error)
        error.display = has_error
        self.query_one("#error-label").display = has_error
        if has_error and error.text != job.error:
            error.text = job.error or ""
        self.update_poll_line()
        self.refresh_bindings()

    def render_progress(self, job: Job) -> None:
        state = progress_state(job)
        self.query_one("#progress-row").display = state is not None
        if state is not None:
            bar = self.query_one("#progress", ProgressBar)
            bar.update(total=state.total, progress=state.done)
            self.query_one("#progress-label", Static).update(state.label)

    def server_label(self, job: Job) -> str:
        connection = self.plexe.servers.existing_connection(job.server)
        return connection.label if connection is not None else job.server

    def lineage_of(self, job: Job) -> tuple[str | None, tuple[str, ...]]:
        """Return the key of the parent and of the jobs resubmitted from this one."""
        children = tuple(
            other.key
            for other in reversed(self.plexe.book.ordered())
            if other.parent == job.key
        )
        return job.parent, children

    def lineage_changed(self, job: Job) -> bool:
        return self.lineage_of(job) != self.lineage

    def render_lineage(self, job: Job) -> None:
        """Show the parent and the resubmitted builds as links; rebuild on change."""
        lineage = self.lineage_of(job)
        if lineage == self.lineage:
            return
        self.lineage = lineage
        parent, children = lineage
        self.fill_links(job, "#lineage-from", [parent] if parent else [])
        self.fill_links(job, "#lineage-as", list(children))

    def fill_links(self, job: Job, row_id: str, keys: list[str]) -> None:
        links = self.query_one(f"{row_id} .lineage-links", Horizontal)
        links.remove_children()
        widgets: list[Static | JobLink] = []
        for key in keys:
            other = self.plexe.book.get(key)
            if other is None:
                label = key.rsplit("@", 1)[0]
                widgets.append(
                    Static(
                        Text(f"{label} (not in this app's list)", style="dim"),
                        classes="lineage-missing",
                    )
                )
            else:
                widgets.append(JobLink(other, lineage_text(job, other)))
        if not widgets:
            widgets.append(Static("—", classes="lineage-missing"))
        links.mount_all(widgets)

    @on(Button.Pressed, ".job-link")
    def open_link(self, event: Button.Pressed) -> None:
        event.stop()
        if isinstance(event.button, JobLink):
            self.app.push_screen(DetailScreen(event.button.key))

    def update_poll_line(self) -> None:
        job = self.job
        line = self.query_one("#poll-line", Static)
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the actions that do not apply to this job now."""
        job = self.job
        if job is None:
            return action in ("back", "quit")
        if action == "refresh":
            return not is_terminal(job.status)
        if action in PREDICT_ACTIONS:
            usable = job.status == "completed" and bool(self.predictions.features)
            return usable and not self.predictions.batch_running
        if action == "stop_batch":
            return self.predictions.batch_running
        if action == "copy_error":
            return bool(job.error)
        if action in ("delete", "cancel_build"):
            features = self.plexe.servers.features_for(job.server)
            offered = features.delete_models is not False
            ended = is_terminal(job.status)
            return offered and (ended if action == "delete" else not ended)
        return True

    def action_back(self) -> None:
        focused = self.focused
        if isinstance(focused, Input) and focused.has_class("feature-input"):
            # Escape leaves the form's field first, so typed values stay.
            self.set_focus(None)
            return
        if self.predictions.batch_running:
            self.ask_to_leave()
            return
        self.dismiss()

    def ask_to_leave(self) -> None:
        def answered(choice: str | None) -> None:
            if choice == "leave":
                self.predictions.stop_batch()
                self.dismiss()

        self.app.push_screen(
            ChoiceScreen(
                "A file is being predicted. Stop it and leave? The rows done so "
                "far stay in the output file.",
                [("stay", "Keep predicting"), ("leave", "Stop and leave")],
                focus="stay",
            ),
            answered,
        )

    def action_refresh(self) -> None:
        if self.poller is not None:
            self.poller.start()

    def action_resubmit(self) -> None:
        job = self.job
        if job is None:
            return
        from plexe_tui.ui.screens.build import BuildScreen

        self.app.push_screen(BuildScreen(source=job))

    def action_predict(self) -> None:
        self.query_one(InferenceForm).focus_first()

    def action_predict_file(self) -> None:
        job = self.job
        if job is not None:
            self.predictions.pick_file(job)

    def action_stop_batch(self) -> None:
        self.predictions.stop_batch()

    def action_copy_error(self) -> None:
        job = self.job
        if job is not None and job.error:
            self.app.copy_to_clipboard(job.error)
            self.notify("Copied the error text.", markup=False)

    def action_copy_id(self) -> None:
        if (job := self.job) is not None:
            self.actions.copy_id(job)

    def action_copy_curl(self) -> None:
        if (job := self.job) is not None:
            self.actions.copy_curl(job)

    def action_forget(self) -> None:
        if (job := self.job) is not None:
            self.actions.forget(job)

    def action_delete(self) -> None:
        if (job := self.job) is not None:
            self.actions.delete(job)

    def action_cancel_build(self) -> None:
        self.action_delete()
