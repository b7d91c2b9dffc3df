"""The build form: describe a model, check it, upload its dataset, start the build."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.timer import Timer
from textual.widgets import (
    Button,
    DataTable,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TextArea,
)
from textual.worker import Worker

from plexe_tui.api import ApiError
from plexe_tui.store import Job
from plexe_tui.store.drafts import NEW_BUILD
from plexe_tui.ui.connection import LOCAL_SERVER
from plexe_tui.ui.form_rules import (
    FIELD_LABELS,
    MAX_ITERATIONS,
    METRICS,
    MIN_ITERATIONS,
    SERVER_FIELDS,
    CheckedForm,
    FormValues,
    check_form,
    check_upload_server,
    dataset_unknown,
    describe_resubmit,
    missing_dataset_file,
    parse_schema,
    read_dataset,
    suggest_name,
    values_from_job,
)
from plexe_tui.ui.path_suggester import PathSuggester
from plexe_tui.ui.preview import Preview, preview_file, preview_summary
from plexe_tui.ui.rejection import Rejection
from plexe_tui.ui.schema_model import (
    DEFAULT_METRICS,
    SchemaModel,
    column_named_in_goal,
)
from plexe_tui.ui.server_choice import (
    ServerOption,
    describe_server,
    server_options,
    submit_note,
)
from plexe_tui.ui.submission import Submission
from plexe_tui.ui.widgets.completing_input import CompletingInput
from plexe_tui.ui.widgets.footer import KeyFooter
from plexe_tui.ui.widgets.schema_editor import SchemaEditor

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

PROVIDERS = (
    "openai/gpt-4o-mini",
    "openai/gpt-4o",
    "anthropic/claude-3-5-sonnet-latest",
    "gemini/gemini-2.0-flash",
)

HINTS = {
    "model_name": "Letters, digits, '-' and '_'. Each build makes a new version.",
    "goal": "What the model should do, in plain words. Name the column to predict.",
    "dataset": "A local CSV or JSON file (ctrl+o browses, tab completes paths), "
    "an upload id (ctrl+l lists them), or an http(s) URL.",
    "input_schema": 'Optional JSON, feature → type, e.g. {"age": "int"}. '
    "Synced with the columns table.",
    "output_schema": 'Optional JSON, e.g. {"diagnosis": "str"}. '
    "Synced with the columns table.",
    "metric": "Optional: " + ", ".join(METRICS) + ", or another the server knows.",
    "max_iterations": f"Optional: approaches to try, {MIN_ITERATIONS} to "
    f"{MAX_ITERATIONS}.",
    "provider": "Optional LLM provider/model for the hosted platform's agents.",
}

SERVER_HINT = (
    "A profile of config.toml or a server of the job history. Each gets only "
    "its profile's key."
)

PLACEHOLDERS = {
    "model_name": "e.g. cancer-diagnosis",
    "dataset": "e.g. ~/data/churn.csv",
    "input_schema": "inferred from the dataset",
    "output_schema": "inferred from the goal and the dataset",
    "metric": "server default",
    "max_iterations": "server default",
    "provider": "server default",
}

# Seconds to wait after the last keystroke before the draft is written.
DRAFT_DELAY = 0.5


class BuildScreen(Screen[None]):
    """One field per field of the build request, checked as the user types."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="submit", tooltip="Start the build"),
        Binding("ctrl+o", "browse", "Browse files", id="browse", tooltip="Pick a file"),
        Binding(
            "ctrl+l", "list_uploads", "Uploads", id="uploads", tooltip="Pick an upload"
        ),
        Binding("escape", "cancel", "Back", id="back", tooltip="Leave the form"),
    ]

    def __init__(self, source: Job | None = None, values: FormValues | None = None):
        """`source` is the job to resubmit; `values` prefill a new form."""
        super().__init__()
        self.source = source
        self.original = values_from_job(source) if source else FormValues()
        self.prefill = values
        self.touched: set[str] = set()
        self.preview: Preview | None = None
        self.previewed_path: Path | None = None
        self.suggested_name: str | None = None
        """The model name suggested from the dataset's file name, if any."""
        self.suggested_metric: str | None = None
        """The metric filled in for the target's task, until the user types one."""
        self.metric_edited = False
        """Whether the user edited the Metric field. An empty field then means the
        server's default, so no suggestion fills it again."""
        self.submit_worker: Worker[None] | None = None
        self.draft_timer: Timer | None = None
        self.sent = False
        self.current = FormValues()
        """The fields as last read, kept for saving a draft after unmount."""
        self.submitted = FormValues()
        """The fields as they were when the user last pressed Submit."""
        self.rejection: Rejection | None = None
        """The server's errors about the last request, until the form changes."""
        self.options: list[ServerOption] = []
        """The servers the Server field offers, set when the form is composed."""
        self.upload_servers: dict[str, str] = {}
        """Upload ids whose server is known (the source job's, picked ones)."""
        if source is not None and source.upload_id:
            self.upload_servers[source.upload_id] = source.server

    @property
    def plexe(self) -> PlexeApp:
        return cast("PlexeApp", self.app)

    @property
    def draft_key(self) -> str:
        return self.source.key if self.source else NEW_BUILD

    @property
    def default_server(self) -> str:
        """The source job's server for a resubmit, else the app's own."""
        return self.source.server if self.source else self.plexe.connection.server

    @property
    def server(self) -> str:
        """The server chosen in the Server field."""
        value = self.query_one("#server", Select).value
        return value if isinstance(value, str) else self.default_server

    @property
    def missing_source_file(self) -> Path | None:
        """The source job's dataset file, when it was a file that no longer exists."""
        return missing_dataset_file(self.source) if self.source else None

    @property
    def target_is_local(self) -> bool:
        """Whether the build goes to the local engine."""
        return self.server == LOCAL_SERVER

    # Layout

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            if self.source is not None:
                yield Static(
                    f"Resubmitting {self.source.label}: submitting builds it again "
                    "as a new version, with the changes listed here.",
                    id="resubmit-note",
                    markup=False,
                )
                yield Static("", id="changes", markup=False)
            yield from self.server_row()
            for field_id, label in FIELD_LABELS.items():
                yield from self.field_row(field_id, label)
                if field_id == "dataset":
                    yield from self.preview_section()
        with Vertical(id="submit-bar"):
            yield ProgressBar(id="upload-progress", show_eta=False)
            yield Static("", id="submit-status", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Submit", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeyFooter()

    def server_row(self) -> ComposeResult:
        self.options = server_options(self.plexe)
        choices = [(Text(option.label), option.server) for option in self.options]
        with Horizontal(classes="field-row"):
            yield Label("Server", classes="field-label", id="server-label")
            with Vertical(classes="field-body"):
                yield Select(
                    choices,
                    value=self.default_server,
                    allow_blank=False,
                    id="server",
                    compact=True,
                )
                yield Static(SERVER_HINT, classes="hint", markup=False)
                yield Static("", id="server-note", classes="field-note", markup=False)

    def field_row(self, field_id: str, label: str) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(label, classes="field-label", id=f"{field_id}-label")
            with Vertical(classes="field-body"):
                yield self.field_widget(field_id)
                yield Static(
                    self.hint_for(field_id),
                    classes="hint",
                    id=f"{field_id}-hint",
                    markup=False,
                )
                yield Static(
                    "", id=f"{field_id}-note", classes="field-note", markup=False
                )
                yield Static(
                    "", id=f"{field_id}-error", classes="field-error", markup=False
                )

    def preview_section(self) -> ComposeResult:
        with Vertical(id="preview"):
            yield Static("", id="preview-summary", markup=False)
            # Two header lines: each column's name, then its guessed type.
            yield DataTable(
                id="preview-rows",
                show_cursor=False,
                zebra_stripes=True,
                header_height=2,
            )
            yield Label(
                "Columns: t makes the target, x leaves a column out, c changes "
                "its type. The schemas below follow.",
                classes="hint",
            )
            yield SchemaEditor(id="schema")

    def field_widget(self, field_id: str) -> Input | TextArea:
        if field_id == "goal":
            return TextArea(
                id="goal",
                soft_wrap=True,
                show_line_numbers=False,
                highlight_cursor_line=False,
                compact=True,
                placeholder="e.g. predict the diagnosis from the cell measurements",
            )
        suggester = {
            "metric": SuggestFromList(METRICS, case_sensitive=False),
            "provider": SuggestFromList(PROVIDERS, case_sensitive=False),
            "dataset": PathSuggester(),
        }.get(field_id)
        # Tab accepts the completion of these fields, as the dataset hint states.
        field_class = Input if suggester is None else CompletingInput
        return field_class(
            id=field_id,
            suggester=suggester,
            type="integer" if field_id == "max_iterations" else "text",
            placeholder=PLACEHOLDERS.get(field_id, ""),
            compact=True,
        )

    def hint_for(self, field_id: str) -> str:
        hint = HINTS[field_id]
        # The Server field can be read only once the form is mounted.
        server = self.server if self.is_mounted else self.default_server
        if field_id == "provider" and server == LOCAL_SERVER:
            return hint + " The local engine records it but does not use it."
        if field_id == "dataset" and server != LOCAL_SERVER:
            return hint + " May be empty: the hosted platform can generate data."
        return hint

    def update_hints(self) -> None:
        """Reword the hints that depend on the chosen server."""
        for field_id in ("dataset", "provider"):
            hint = self.query_one(f"#{field_id}-hint", Static)
            hint.update(self.hint_for(field_id))

    def on_mount(self) -> None:
        self.title = f"Resubmit {self.source.label}" if self.source else "New build"
        if self.source is None:
            self.original = FormValues(server=self.default_server)
        self.query_one("#upload-progress").display = False
        self.query_one("#preview").display = False
        self.restore_values()
        self.query_one("#model_name", Input).focus()
        self.refresh_form()

    def restore_values(self) -> None:
        draft = self.plexe.drafts.load(self.draft_key)
        if draft is not None:
            names = {field.name for field in dataclasses.fields(FormValues)}
            self.fill(FormValues(**{k: v for k, v in draft.items() if k in names}))
            self.set_status("Restored the form you had not sent yet.")
            self.update_hints()
        elif self.source is not None:
            self.fill(self.original)
        elif self.prefill is not None:
            self.fill(self.prefill)

    # Reading and writing the fields

    def fill(self, values: FormValues) -> None:
        """Set every field from code; the caller refreshes the form afterwards.

        A server that the Server field does not offer leaves the field as it is.
        """
        with self.prevent(Input.Changed, TextArea.Changed, Select.Changed):
            if values.server in {option.server for option in self.options}:
                self.query_one("#server", Select).value = values.server
            for field_id in FIELD_LABELS:
                text = getattr(values, field_id)
                if field_id == "goal":
                    self.query_one("#goal", TextArea).text = text
                else:
                    self.query_one(f"#{field_id}", Input).value = text

    def values(self) -> FormValues:
        values = FormValues()
        for field_id in FIELD_LABELS:
            if field_id == "goal":
                text = self.query_one("#goal", TextArea).text
            else:
                text = self.query_one(f"#{field_id}", Input).value
            setattr(values, field_id, text)
        values.server = self.server
        return values

    def set_field(self, field_id: str, text: str) -> None:
        """Change a field from code, without counting it as the user's edit."""
        with self.prevent(Input.Changed, TextArea.Changed):
            self.query_one(f"#{field_id}", Input).value = text

    # Checking

    def check(self) -> CheckedForm | None:
        """Show each problem beside its field; return the form when it is valid."""
        values = self.values()
        result = check_form(values, dataset_required=self.target_is_local)
        preview_error = self.preview.error if self.preview else None
        missing_file = self.missing_source_file

        # Shown untouched: choosing the server is what made the dataset unusable.
        elsewhere = check_upload_server(
            read_dataset(values.dataset),
            values.server,
            self.upload_servers,
            describe_server,
            str(missing_file) if missing_file else None,
        )
        server_errors = self.server_errors()
        for field_id in FIELD_LABELS:
            message = result.errors.get(field_id) or server_errors.get(field_id)
            if field_id == "dataset" and message is None and preview_error:
                message = preview_error
            if field_id not in self.touched:
                message = None
            if field_id == "dataset" and message is None:
                message = elsewhere
            self.show_error(field_id, message)

        valid = result.form is not None and preview_error is None and not elsewhere
        self.query_one("#submit", Button).disabled = not valid or self.busy
        return result.form if valid else None

    def server_errors(self) -> dict[str, str]:
        """Return the server's errors that still fit the form, forgetting the rest.

        The status line's message about them goes too, unless another replaced it.
        """
        if self.rejection is None:
            return {}
        values = self.values()
        if self.rejection.still_applies(values):
            return self.rejection.errors_for(values)
        status = self.query_one("#submit-status", Static)
        if str(status.content) == self.rejection.message:
            self.set_status("")
        self.rejection = None
        return {}

    @property
    def busy(self) -> bool:
        return self.submit_worker is not None and self.submit_worker.is_running

    def show_error(self, field_id: str, message: str | None) -> None:
        error = self.query_one(f"#{field_id}-error", Static)
        error.update(message or "")
        error.display = bool(message)

    def show_note(self, field_id: str, message: str | None) -> None:
        note = self.query_one(f"#{field_id}-note", Static)
        note.update(message or "")
        note.display = bool(message)

    def refresh_form(self) -> None:
        """Bring every derived part up to date with the fields."""
        self.update_preview()
        self.suggest_metric()
        self.current = self.values()
        self.update_notes()
        self.show_note("server", submit_note(self.plexe, self.server))
        self.update_changes()
        self.check()

    # Events

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        field_id = event.input.id or ""
        self.touched.add(field_id)
        if field_id == "metric":
            self.metric_edited = True
        if field_id in ("input_schema", "output_schema"):
            self.schemas_typed()
        self.schedule_draft()
        self.refresh_form()

    @on(Select.Changed, "#server")
    def server_chosen(self) -> None:
        self.update_hints()
        self.schedule_draft()
        self.refresh_form()

    @on(TextArea.Changed, "#goal")
    def goal_changed(self) -> None:
        self.touched.add("goal")
        self.schedule_draft()
        self.refresh_form()

    @on(SchemaEditor.Changed)
    def schema_edited(self) -> None:
        self.write_schemas()
        self.schedule_draft()
        self.refresh_form()

    @on(Input.Submitted)
    def input_submitted(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#submit")
    def submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    # Dataset preview and schemas

    def update_preview(self) -> None:
        """Read the start of a local dataset file when the path changes."""
        dataset = read_dataset(self.query_one("#dataset", Input).value)
        path = dataset.path.expanduser() if dataset.path else None
        if path is not None and not path.is_file():
            path = None
        if path == self.previewed_path:
            return

        self.previewed_path = path
        self.preview = preview_file(path) if path else None
        section = self.query_one("#preview")
        section.display = self.preview is not None and self.preview.error is None
        if self.preview is None or self.preview.error:
            # An earlier file's columns no longer apply to the table and notes.
            self.query_one("#schema", SchemaEditor).load(SchemaModel())
            return

        self.show_preview(self.preview)
        editor = self.query_one("#schema", SchemaEditor)
        editor.load(SchemaModel.from_columns(self.preview.columns))
        self.schemas_typed()
        if not self.query_one("#model_name", Input).value and path:
            self.suggested_name = suggest_name(path.name)
            self.set_field("model_name", self.suggested_name)

    def show_preview(self, preview: Preview) -> None:
        self.query_one("#preview-summary", Static).update(preview_summary(preview))
        for part in self.query_one("#preview").children:
            part.display = part.id == "preview-summary" or bool(preview.columns)
        table = self.query_one("#preview-rows", DataTable)
        table.clear(columns=True)
        for column in preview.columns:
            table.add_column(Text(f"{column.name}\n{column.type}"), key=column.name)
        for row in preview.rows:
            table.add_row(*(Text(cell) for cell in row))

    def schemas_typed(self) -> None:
        """Apply schemas typed as JSON to the columns table, when they are valid."""
        editor = self.query_one("#schema", SchemaEditor)
        if not editor.model.columns:
            return
        input_schema, input_problem = parse_schema(
            self.query_one("#input_schema", Input).value
        )
        output_schema, output_problem = parse_schema(
            self.query_one("#output_schema", Input).value
        )
        if input_problem or output_problem:
            return
        editor.model.apply_schemas(input_schema, output_schema)
        editor.redraw()

    def write_schemas(self) -> None:
        """Write the columns table's choices into the JSON schema fields."""
        model = self.query_one("#schema", SchemaEditor).model
        for field_id, schema in (
            ("input_schema", model.input_schema()),
            ("output_schema", model.output_schema()),
        ):
            self.set_field(field_id, json.dumps(schema) if schema else "")
            self.touched.add(field_id)

    # Notes beside fields

    def update_notes(self) -> None:
        self.show_note("model_name", self.name_note())
        self.show_note("metric", self.metric_note())
        self.show_note("goal", self.target_note())
        self.show_note("dataset", self.preview.warning if self.preview else None)

    def name_note(self) -> str | None:
        name = self.query_one("#model_name", Input).value.strip()
        versions = [
            job.model_version
            for job in self.plexe.book.ordered()
            if job.model_name == name and job.server == self.server
        ]
        if not versions:
            if self.suggested_name is not None and name == self.suggested_name:
                return "Suggested from the file name."
            return None
        count = f"{len(versions)} build" + ("" if len(versions) == 1 else "s")
        return (
            f"{name} is already in the job list ({count}); "
            "this build becomes a new version of it."
        )

    def target_column(self) -> str | None:
        editor = self.query_one("#schema", SchemaEditor)
        if editor.model.target:
            return editor.model.target
        goal = self.query_one("#goal", TextArea).text
        names = [column.name for column in editor.model.columns]
        return column_named_in_goal(goal, names) if names else None

    def target_note(self) -> str | None:
        editor = self.query_one("#schema", SchemaEditor)
        if not editor.model.columns:
            return None
        target = self.target_column()
        if editor.suggested_target != target:
            editor.suggested_target = None if editor.model.target else target
            editor.redraw()
        if editor.model.target:
            return f"Target: {editor.model.target} (chosen in the columns table)."
        if target:
            return (
                f"The goal names the column {target}: the server will probably "
                "predict it. Press t on its row in the columns table to be sure."
            )
        return (
            "The goal names none of the dataset's columns: name one, or press t "
            "on a row of the columns table."
        )

    def target_task(self) -> str | None:
        """Return the task the chosen or named target implies, if the data shows it."""
        model = self.query_one("#schema", SchemaEditor).model
        return model.task_of(self.target_column())

    def suggest_metric(self) -> None:
        """Fill the metric that fits the target's task, unless the user typed one.

        A resubmitted build keeps its own metric, so the changes list shows only
        what the user changed.
        """
        if self.source is not None or self.metric_edited:
            return
        current = self.query_one("#metric", Input).value.strip()
        if current and current != self.suggested_metric:
            return
        task = self.target_task()
        suggestion = DEFAULT_METRICS[task] if task else None
        if suggestion != current:
            self.set_field("metric", suggestion or "")
        self.suggested_metric = suggestion

    def metric_note(self) -> str | None:
        metric = self.query_one("#metric", Input).value.strip()
        task = self.target_task()
        suggested = metric == self.suggested_metric and not self.metric_edited
        if metric and suggested and task:
            return f"Chosen for a {task} target; type another to change it."
        if metric or task is None or not self.target_is_local:
            return None
        return (
            f"Empty: the local engine optimises {DEFAULT_METRICS[task]} for a "
            f"{task} target."
        )

    def update_changes(self) -> None:
        if self.source is None:
            return
        values = self.values()
        server_change = None
        if values.server != self.original.server:
            before = describe_server(self.original.server)
            server_change = f"Server: {before} → {describe_server(values.server)}"
        text = describe_resubmit(
            self.original,
            values,
            dataset_unknown=dataset_unknown(self.source),
            server_change=server_change,
        )
        self.query_one("#changes", Static).update(text)

    # Drafts

    def schedule_draft(self) -> None:
        if self.draft_timer is not None:
            self.draft_timer.stop()
        self.draft_timer = self.set_timer(DRAFT_DELAY, self.save_draft, name="draft")

    def save_draft(self) -> None:
        if self.sent:
            return
        values = self.current
        if values == self.original and self.prefill is None:
            self.plexe.drafts.clear(self.draft_key)
            return
        self.plexe.drafts.save(self.draft_key, vars(values))

    def on_unmount(self) -> None:
        if self.draft_timer is not None:
            self.draft_timer.stop()
            self.save_draft()

    # Actions

    def action_submit(self) -> None:
        if self.busy:
            return
        self.touched.update(FIELD_LABELS)
        form = self.check()
        if form is None:
            self.show_invalid_fields()
            return
        self.submitted = self.values()
        self.rejection = None
        self.submit_worker = self.run_worker(
            self.send(form), name="submit", exit_on_error=False
        )
        self.check()
        self.query_one("#cancel", Button).label = "Cancel upload"

    def show_invalid_fields(self) -> None:
        """Name the fields in red and move to the first, which may be out of view."""
        invalid = [
            field_id
            for field_id in FIELD_LABELS
            if self.query_one(f"#{field_id}-error", Static).display
        ]
        if not invalid:
            return
        names = ", ".join(FIELD_LABELS[field_id] for field_id in invalid)
        self.set_status(f"Fix the fields marked in red ({names}), then submit again.")
        self.query_one(f"#{invalid[0]}").focus()

    async def send(self, form: CheckedForm) -> None:
        """Upload the file if needed, start the build, then open its detail."""
        from plexe_tui.ui.screens.detail import open_over_list

        bar = self.query_one("#upload-progress", ProgressBar)
        server = self.server
        connection = self.plexe.servers.connection_for(server)
        try:
            if connection.is_local and connection.starting:
                self.set_status("Starting the local engine…")
            else:
                self.set_status(f"Connecting to {connection.label}…")
            # A local engine that failed to start, or died, gets another try.
            await connection.restart_if_exited()
            client = await connection.client()
            submission = Submission(
                client,
                server,
                self.plexe.uploads,
                on_status=self.set_status,
                on_progress=lambda sent, total: self.show_progress(bar, sent, total),
                monotonic=self.plexe.settings.monotonic,
            )
            job = await submission.run(form, self.source)
        except ApiError as exc:
            self.show_server_error(exc)
            self.submit_ended()
            return
        except BaseException:
            self.submit_ended()  # Cancelled, or a bug the worker reports.
            raise

        self.sent = True
        self.plexe.drafts.clear(self.draft_key)
        self.plexe.add_job(job)
        open_over_list(self.app, job.key)

    def submit_ended(self) -> None:
        """Put the form back in its editing state after a submit that did not build."""
        self.query_one("#upload-progress").display = False
        self.query_one("#cancel", Button).label = "Cancel"
        self.call_after_refresh(self.check)

    def show_progress(self, bar: ProgressBar, sent: int, total: int) -> None:
        bar.display = True
        bar.update(total=max(total, 1), progress=sent)

    def action_cancel(self) -> None:
        if self.busy and self.submit_worker is not None:
            self.submit_worker.cancel()
            self.set_status("Cancelled: nothing was built, and the form is as it was.")
            return
        if self.values() == self.original and self.prefill is None:
            self.dismiss()
            return

        from plexe_tui.ui.screens.confirm import ChoiceScreen

        question = "Leave this form? Keep it as a draft to finish later, or discard it."
        choices = [("keep", "Keep draft"), ("discard", "Discard"), ("cancel", "Stay")]
        self.app.push_screen(ChoiceScreen(question, choices, focus="keep"), self.leave)

    def leave(self, choice: str | None) -> None:
        if choice == "keep":
            self.save_draft()
            self.draft_timer = None
            self.dismiss()
        elif choice == "discard":
            self.sent = True
            self.plexe.drafts.clear(self.draft_key)
            self.dismiss()

    def action_browse(self) -> None:
        from plexe_tui.ui.screens.pickers import FilePickerScreen

        current = read_dataset(self.query_one("#dataset", Input).value)
        start = Path.cwd()
        # A resubmit whose file is gone shows its upload id; look where it was.
        path = current.path or self.missing_source_file
        if path is not None:
            candidate = path.expanduser()
            start = candidate if candidate.is_dir() else candidate.parent
            if not start.is_dir():
                start = Path.cwd()
        self.app.push_screen(FilePickerScreen(start), self.file_chosen)

    def file_chosen(self, path: Path | None) -> None:
        if path is not None:
            self.query_one("#dataset", Input).value = str(path)
            self.query_one("#dataset", Input).focus()

    def action_list_uploads(self) -> None:
        self.run_worker(self.pick_upload(), name="uploads", exit_on_error=False)

    async def pick_upload(self) -> None:
        from plexe_tui.ui.screens.pickers import UploadPickerScreen

        server = self.server
        self.set_status(f"Listing the uploads on {describe_server(server)}…")
        try:
            client = await self.plexe.servers.connection_for(server).client()
            uploads = await client.list_uploads()
        except ApiError as exc:
            self.set_status(f"Cannot list the uploads: {exc.message}")
            return
        if not uploads:
            self.set_status("The server has no uploads yet; choose a local file.")
            return
        self.set_status("")

        def chosen(upload_id: str | None) -> None:
            if upload_id is not None:
                self.upload_servers[upload_id] = server
                self.query_one("#dataset", Input).value = upload_id

        self.app.push_screen(UploadPickerScreen(uploads, self.plexe.clock()), chosen)

    def show_server_error(self, exc: ApiError) -> None:
        field_id = SERVER_FIELDS.get(exc.field or "")
        if field_id is not None:
            self.touched.add(field_id)
            self.show_error(field_id, exc.message)
            message = "The server rejected the build; see the field in red."
            errors = {field_id: exc.message}
        else:
            message = f"The build was not started: {exc.message}"
            errors = {}
        self.rejection = Rejection(self.submitted, message, errors)
        self.set_status(message)

    def set_status(self, text: str) -> None:
        self.query_one("#submit-status", Static).update(text)
