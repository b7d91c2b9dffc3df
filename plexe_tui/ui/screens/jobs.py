"""Home screen: the table of recent jobs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from plexe_tui.store import Job
from plexe_tui.ui.format import metric_text, progress_text, relative_time, status_text

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

# (key, label, width). A width of None sizes a column to its content. Relative
# times get a fixed width because they change every second and would make the
# table jitter.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "Name", None),
    ("status", "Status", None),
    ("metric", "Metric", None),
    ("progress", "Progress", None),
    ("created", "Created", 12),
    ("updated", "Updated", 12),
)

EMPTY_LOCAL = """\
No jobs yet.

This app is using its local engine: models train on this machine with
scikit-learn, and nothing leaves it. To use the hosted Plexe platform instead,
quit and start plexe-tui with PLEXE_API_KEY set.

Press t to try a sample: a build on 569 breast tumour biopsies that predicts
the diagnosis. It takes under a minute.
Press n to describe a build of your own: a goal in plain words and a CSV or
JSON file."""

EMPTY_REMOTE = """\
No jobs yet on {server}.

Press n to describe a build: a goal in plain words, and a CSV or JSON file, an
upload id or a URL. The hosted platform can also generate data from the goal.
Press t to try a sample: a build on 569 breast tumour biopsies that predicts
the diagnosis."""

# Seconds between redraws of relative times ("5 s ago") and the status line.
CLOCK_TICK = 1.0


class JobsScreen(Screen[None]):
    """Recent jobs, newest first, refreshed in the background."""

    TITLE = "Jobs"
    BINDINGS = [
        Binding(
            "n", "new_build", "New build", id="new", tooltip="Describe a new build"
        ),
        Binding(
            "enter", "open_job", "Open", id="open", tooltip="Show the job's detail"
        ),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Poll the server now"),
        Binding("s", "resubmit", "Resubmit", id="resubmit", tooltip="Build again"),
        Binding(
            "t", "try_sample", "Try a sample", id="sample", tooltip="Build a sample"
        ),
        Binding("q", "app.quit", "Quit", id="quit", tooltip="Quit plexe-tui"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    @property
    def plexe(self) -> PlexeApp:
        return cast("PlexeApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="server-line", markup=False)
        yield DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="empty", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#jobs", DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.fill_table()
        self.plexe.jobs_changed.subscribe(self, self.on_jobs_changed)
        self.plexe.server_changed.subscribe(self, lambda _: self.update_server_line())
        self.set_interval(CLOCK_TICK, self.tick, name="clock")
        self.update_server_line()

    def fill_table(self, select: str | None = None) -> None:
        """Rebuild every row; the cursor stays on the same job while it exists."""
        table = self.query_one("#jobs", DataTable)
        current = select or self.selected_key()
        jobs = self.plexe.book.ordered()

        with self.app.batch_update():
            table.clear()
            for job in jobs:
                table.add_row(*self.row_cells(job), key=job.key)
            if current is not None and current in {job.key for job in jobs}:
                table.move_cursor(row=table.get_row_index(current))

        empty = self.query_one("#empty", Static)
        empty.display = not jobs
        table.display = bool(jobs)
        if not jobs:
            connection = self.plexe.connection
            text = EMPTY_LOCAL if connection.is_local else EMPTY_REMOTE
            empty.update(text.format(server=connection.label))

    def row_cells(self, job: Job) -> list[Text]:
        now = self.plexe.clock()
        return [
            Text(job.label),
            status_text(job.status, self.app.current_theme),
            metric_text(job),
            Text(progress_text(job)),
            Text(relative_time(job.created_at, now)),
            Text(relative_time(job.updated_at, now)),
        ]

    def on_jobs_changed(self, keys: set[str]) -> None:
        """Change only the cells of the jobs that changed; add new jobs in order."""
        self.update_server_line()
        table = self.query_one("#jobs", DataTable)
        book = self.plexe.book
        if any(key not in table.rows or book.get(key) is None for key in keys):
            self.fill_table()
            return

        with self.app.batch_update():
            for key in keys:
                job = self.plexe.book.get(key)
                if job is None:
                    continue
                cells = zip(COLUMNS, self.row_cells(job), strict=True)
                for (column, _, _), cell in cells:
                    table.update_cell(key, column, cell, update_width=True)

    def tick(self) -> None:
        self.update_server_line()
        table = self.query_one("#jobs", DataTable)
        now = self.plexe.clock()
        with self.app.batch_update():
            for job in self.plexe.book.ordered():
                if job.key not in table.rows:
                    continue
                table.update_cell(
                    job.key, "created", Text(relative_time(job.created_at, now))
                )
                table.update_cell(
                    job.key, "updated", Text(relative_time(job.updated_at, now))
                )

    def update_server_line(self) -> None:
        connection = self.plexe.connection
        poller = self.plexe.poller
        parts = [f"Server: {connection.label}"]

        if connection.starting:
            parts.append("starting…")
        elif connection.error:
            parts.append(f"unavailable: {connection.error}")
        elif poller.failure:
            parts.append(poller.retry_text())
        elif poller.last_success is not None:
            age = round(time.monotonic() - poller.last_success)
            parts.append(f"updated {age} s ago")

        active = len(self.plexe.book.active(connection.server))
        total = len(self.plexe.book)
        parts.append(f"{total} {'job' if total == 1 else 'jobs'}, {active} active")
        self.query_one("#server-line", Static).update(" · ".join(parts))

    def selected_key(self) -> str | None:
        """Return the key of the job under the cursor, if any."""
        table = self.query_one("#jobs", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def selected_job(self) -> Job | None:
        key = self.selected_key()
        return self.plexe.book.get(key) if key else None

    def action_new_build(self) -> None:
        from plexe_tui.ui.screens.build import BuildScreen

        self.app.push_screen(BuildScreen())

    def action_open_job(self) -> None:
        job = self.selected_job()
        if job is None:
            self.notify("No job selected. Press n to start a build.", markup=False)
            return
        from plexe_tui.ui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(job.key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_job()

    def action_refresh(self) -> None:
        self.plexe.poller.poll_now()
        self.update_server_line()

    def action_resubmit(self) -> None:
        job = self.selected_job()
        if job is None:
            self.notify("No job selected to resubmit.", markup=False)
            return
        from plexe_tui.ui.screens.build import BuildScreen

        self.app.push_screen(BuildScreen(source=job))

    def action_try_sample(self) -> None:
        from plexe_tui.samples import SAMPLE_DATASET, SAMPLE_GOAL, SAMPLE_NAME
        from plexe_tui.ui.form_rules import FormValues
        from plexe_tui.ui.screens.build import BuildScreen

        values = FormValues(
            model_name=SAMPLE_NAME, goal=SAMPLE_GOAL, dataset=str(SAMPLE_DATASET)
        )
        self.app.push_screen(BuildScreen(values=values))

    def action_cursor_down(self) -> None:
        self.query_one("#jobs", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#jobs", DataTable).action_cursor_up()
