"""Home screen: every job in the history, sortable and filterable from the keyboard."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, Input, Label, Static
from textual.worker import Worker

from plexe_tui.store import Job
from plexe_tui.ui.job_list import COLUMNS, JobList
from plexe_tui.ui.servers import server_label
from plexe_tui.ui.widgets.footer import KeyFooter
from plexe_tui.ui.widgets.job_table import JobTable

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

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

FILTER_PLACEHOLDER = "name, goal or server; failed; status:building; server:HOST"

# Seconds between redraws of relative times ("5 s ago") and the status line.
CLOCK_TICK = 1.0
TIME_COLUMNS = ("created", "duration")

# Rows prepared per step after the first frame, between which the app handles
# keys and redraws. A step of tests/benchmarks/job_list.py's history took
# about 1 ms on a shared 2-core machine.
PREPARE_STEP_ROWS = 250


class JobsScreen(Screen[None]):
    """Every job, newest first by default, refreshed in the background."""

    TITLE = "Jobs"
    BINDINGS = [
        Binding(
            "n", "new_build", "New build", id="new", tooltip="Describe a new build"
        ),
        Binding(
            "enter", "open_job", "Open", id="open", tooltip="Show the job's detail"
        ),
        Binding(
            "slash",
            "open_filter",
            "Filter",
            id="filter",
            tooltip="Show only jobs whose name, goal, server or status match",
        ),
        Binding(
            "o",
            "next_sort",
            "Sort",
            id="sort",
            tooltip="Sort by the next column",
        ),
        Binding(
            "O",
            "reverse_sort",
            "Reverse",
            id="sort-reverse",
            show=False,
            tooltip="Reverse the sort order",
        ),
        Binding(
            "v",
            "next_server",
            "Server",
            id="server-filter",
            tooltip="Show the jobs of one server, then the next, then all",
        ),
        Binding(
            "r", "refresh", "Refresh", id="refresh", tooltip="Poll the servers now"
        ),
        Binding("s", "resubmit", "Resubmit", id="resubmit", tooltip="Build again"),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id="clear-filter",
            tooltip="Show every job again",
        ),
        Binding(
            "t",
            "try_sample",
            "Try a sample",
            id="sample",
            show=False,
            tooltip="Build a sample",
        ),
        Binding("q", "app.quit", "Quit", id="quit", tooltip="Quit plexe-tui"),
        Binding("j", "cursor_down", "Down", id="down", show=False, tooltip="Next job"),
        Binding("k", "cursor_up", "Up", id="up", show=False, tooltip="Previous job"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.jobs = JobList(server_label)
        """The shown jobs, their order and their cell text."""
        self.filter_open = False
        """Whether the filter bar stays open, even with no filter text."""
        self._row_worker: Worker[None] | None = None

    @property
    def plexe(self) -> PlexeApp:
        return cast("PlexeApp", self.app)

    @property
    def table(self) -> JobTable:
        return self.query_one("#jobs", JobTable)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="server-line", markup=False)
        yield JobTable(self.jobs, self.plexe.clock, id="jobs")
        yield Static("", id="empty", markup=False)
        with Horizontal(id="filter-bar"):
            yield Label("/", id="filter-prompt")
            yield Input(placeholder=FILTER_PLACEHOLDER, id="filter")
            yield Static("", id="filter-count", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#filter-bar").display = False
        self.jobs.set_jobs(self.plexe.book.ordered())
        self.show_jobs(keep=None)
        self.table.focus()
        self.plexe.jobs_changed.subscribe(self, self.on_jobs_changed)
        self.plexe.server_changed.subscribe(self, lambda _: self.update_server_line())
        self.set_interval(CLOCK_TICK, self.tick, name="clock")
        self.update_server_line()
        # The first frame draws the rows in view; the rest are prepared for
        # filtering and sorting in small steps after it.
        self.start_preparing_rows()

    def start_preparing_rows(self) -> None:
        """Prepare the queued rows in steps, unless a worker is doing so already.

        A running worker also takes the rows queued after it started.
        """
        worker = self._row_worker
        if worker is not None and not worker.is_finished:
            return
        self._row_worker = self.run_worker(
            self.prepare_rows(), name="prepare-rows", exit_on_error=False
        )

    async def prepare_rows(self) -> None:
        while self.jobs.prepare(PREPARE_STEP_ROWS):
            await asyncio.sleep(0)
        self.plexe.history_rows_prepared()

    # Showing jobs

    def show_jobs(self, keep: str | None) -> None:
        """Recompute the shown jobs; the cursor stays on job `keep` if it is shown."""
        self.jobs.recompute(self.plexe.clock())
        self.table.show_order(keep)
        self.update_empty()
        self.update_filter_count()

    def on_jobs_changed(self, keys: set[str]) -> None:
        """Take changed and new jobs, and redraw only what they changed.

        When the shown jobs keep their order, only the rows of changed jobs
        that are in view are redrawn; otherwise every row in view is.
        """
        book = self.plexe.book
        changed = [job for key in keys if (job := book.get(key)) is not None]
        before = self.jobs.order
        self.jobs.remove(key for key in keys if book.get(key) is None)
        self.jobs.update(changed)
        if self.jobs.prepare(0):
            # After the first frame the app adds the rest of the history
            # here: 4,900 rows of a 5,000-job file, which the first filter
            # keystroke would otherwise prepare at once (about 0.1 s).
            self.start_preparing_rows()
        self.jobs.recompute(self.plexe.clock())
        if self.jobs.order == before:
            self.table.refresh_jobs(keys)
        else:
            self.table.show_order(self.table.cursor_key_in(before))
            self.update_empty()
            self.update_filter_count()
        self.update_server_line()

    def tick(self) -> None:
        self.update_server_line()
        self.table.refresh_columns(TIME_COLUMNS)

    def update_empty(self) -> None:
        """Explain an empty list: no jobs yet, or none that the filter matches."""
        empty = self.query_one("#empty", Static)
        has_rows = len(self.jobs.order) > 0
        empty.display = not has_rows
        self.table.display = has_rows
        if has_rows:
            return
        if len(self.jobs) == 0:
            connection = self.plexe.connection
            text = EMPTY_LOCAL if connection.is_local else EMPTY_REMOTE
            empty.update(text.format(server=connection.label))
        else:
            empty.update(self.no_match_text())

    def no_match_text(self) -> str:
        """Say that no job matches the filter, naming the filter and the way out."""
        conditions = []
        typed = self.query_one("#filter", Input).value.strip()
        if typed:
            conditions.append(f'match "{typed}"')
        if self.jobs.server_filter is not None:
            conditions.append(f"are on {server_label(self.jobs.server_filter)}")
        return (
            f"No jobs {' and '.join(conditions) or 'match the filter'}. Press "
            "escape to clear the filter."
        )

    def update_server_line(self) -> None:
        """Show each followed server's state, then how many jobs there are."""
        links = self.plexe.servers.links
        if len(links) == 1:
            link = links[0]
            parts = [f"Server: {link.connection.label}", link.state_text()]
        else:
            parts = [f"{link.label}: {link.state_text()}" for link in links]

        book = self.plexe.book
        active = sum(len(book.active(server)) for server in book.active_servers())
        total = len(book)
        parts.append(f"{total:,} {'job' if total == 1 else 'jobs'}, {active} active")
        self.set_line_text("#server-line", " · ".join(parts))

    def set_line_text(self, selector: str, text: str) -> None:
        """Show text in a Static, with a layout pass only if its length changed.

        A layout pass costs a full repaint of the screen, which for this
        screen's one-second clock and per-keystroke filter count is most of
        the work, so the usual same-length update skips it.
        """
        static = self.query_one(selector, Static)
        old = str(static.content)
        if text != old:
            static.update(text, layout=len(text) != len(old))

    @property
    def filtering(self) -> bool:
        """Whether the filter bar is open or a filter hides jobs."""
        return (
            self.filter_open
            or bool(self.jobs.query)
            or self.jobs.server_filter is not None
        )

    def update_filter_count(self) -> None:
        bar = self.query_one("#filter-bar")
        bar.display = self.filtering
        if not self.filtering:
            return
        text = f"{len(self.jobs.order):,} of {len(self.jobs):,}"
        if self.jobs.server_filter is not None:
            text += f" · server {server_label(self.jobs.server_filter)}"
        self.set_line_text("#filter-count", text)

    # Filtering

    def action_open_filter(self) -> None:
        self.filter_open = True
        self.query_one("#filter", Input).focus()
        self.update_filter_count()
        # "Clear filter" shows while the filter bar does, so typing in it
        # never changes the footer, which would cost a repaint per key.
        self.refresh_bindings()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        keep = self.table.cursor_key
        self.jobs.set_query(event.value)
        self.show_jobs(keep)

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        """Keep the filter and go back to the list; an empty filter closes."""
        self.filter_open = bool(self.jobs.query)
        self.table.focus()
        self.update_filter_count()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        keep = self.table.cursor_key
        self.filter_open = False
        self.jobs.server_filter = None
        if field.value:
            field.value = ""  # Input.Changed recomputes the order.
        self.jobs.set_query("")
        self.show_jobs(keep)
        self.table.focus()
        self.update_filter_count()
        self.refresh_bindings()

    def action_next_server(self) -> None:
        """Show one server's jobs, then the next server's, then every server's."""
        servers = self.jobs.servers()
        current = self.jobs.server_filter
        if current is None:
            choice: str | None = servers[0] if servers else None
        elif current in servers and servers.index(current) + 1 < len(servers):
            choice = servers[servers.index(current) + 1]
        else:
            choice = None
        keep = self.table.cursor_key
        self.jobs.server_filter = choice
        self.show_jobs(keep)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_server":
            return len(self.jobs.servers()) > 1
        if action == "clear_filter":
            return self.filtering
        return True

    # Sorting

    def action_next_sort(self) -> None:
        keys = [column.key for column in COLUMNS]
        following = keys[(keys.index(self.jobs.sort_column) + 1) % len(keys)]
        self.sort_by(following)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.jobs.sort_column, descending=not self.jobs.descending)

    def on_job_table_sort_clicked(self, event: JobTable.SortClicked) -> None:
        event.stop()
        if event.column == self.jobs.sort_column:
            self.action_reverse_sort()
        else:
            self.sort_by(event.column)

    def sort_by(self, column: str, descending: bool | None = None) -> None:
        """Sort by a column, in its usual direction unless `descending` is given."""
        if descending is None:
            descending = next(c.descending for c in COLUMNS if c.key == column)
        keep = self.table.cursor_key
        self.jobs.set_sort(column, descending)
        self.show_jobs(keep)

    # Jobs

    def selected_key(self) -> str | None:
        """Return the key of the job under the cursor, if any."""
        return self.table.cursor_key

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

    def on_job_table_selected(self, event: JobTable.Selected) -> None:
        event.stop()
        self.action_open_job()

    def action_refresh(self) -> None:
        self.plexe.servers.poll_now()
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
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()
