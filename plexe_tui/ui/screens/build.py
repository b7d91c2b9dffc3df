"""The build form: describe a model, check it, upload its dataset, start the build."""

from __future__ import annotations

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
    Static,
    TextArea,
)
from textual.worker import Worker

from plexe_tui.api import ApiError
from plexe_tui.store import Job
from plexe_tui.store.drafts import NEW_BUILD
from plexe_tui.ui.form_rules import (
    FIELD_LABELS,
    MAX_ITERATIONS,
    METRICS,
    MIN_ITERATIONS,
    SERVER_FIELDS,
    CheckedForm,
    FormValues,
    check_form,
    describe_changes,
    parse_schema,
    read_dataset,
    suggest_name,
    values_from_job,
)
from plexe_tui.ui.path_suggester import PathSuggester
from plexe_tui.ui.preview import Preview, preview_file
from plexe_tui.ui.schema_model import (
    DEFAULT_METRICS,
    SchemaModel,
    column_named_in_goal,
)
from plexe_tui.ui.submission import Submission
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
        self.submit_worker: Worker[None] | None = None
        self.draft_timer: Timer | None = None
        self.sent = False
        self.current = FormValues()
        """The fields as last read, kept for saving a draft after unmount."""
        self.server_errors: dict[str, str] = {}
        """Field problems the server reported, shown until the field changes."""

    @property
    def plexe(self) -> PlexeApp:
        return cast("PlexeApp", self.app)

    @property
    def draft_key(self) -> str:
        return self.source.key if self.source else NEW_BUILD

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

    def field_row(self, field_id: str, label: str) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(label, classes="field-label", id=f"{field_id}-label")
            with Vertical(classes="field-body"):
                yield self.field_widget(field_id)
                yield Static(self.hint_for(field_id), classes="hint", markup=False)
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
        return Input(
            id=field_id,
            suggester=suggester,
            type="integer" if field_id == "max_iterations" else "text",
            placeholder=PLACEHOLDERS.get(field_id, ""),
            compact=True,
        )

    def hint_for(self, field_id: str) -> str:
        hint = HINTS[field_id]
        if field_id == "provider" and self.plexe.connection.is_local:
            return hint + " The local engine records it but does not use it."
        if field_id == "dataset" and not self.plexe.connection.is_local:
            return hint + " May be empty: the hosted platform can generate data."
        return hint

    def on_mount(self) -> None:
        self.title = f"Resubmit {self.source.label}" if self.source else "New build"
        self.query_one("#upload-progress").display = False
        self.query_one("#preview").display = False
        self.restore_values()
        self.query_one("#model_name", Input).focus()
        self.refresh_form()

    def restore_values(self) -> None:
        draft = self.plexe.drafts.load(self.draft_key)
        if draft is not None:
            self.fill(
                FormValues(**{k: v for k, v in draft.items() if k in FIELD_LABELS})
            )
            self.set_status("Restored the form you had not sent yet.")
        elif self.source is not None:
            self.fill(self.original)
        elif self.prefill is not None:
            self.fill(self.prefill)

    # Reading and writing the fields

    def fill(self, values: FormValues) -> None:
        """Set every field from code; the caller refreshes the form afterwards."""
        with self.prevent(Input.Changed, TextArea.Changed):
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
        return values

    def set_field(self, field_id: str, text: str) -> None:
        """Change a field from code, without counting it as the user's edit."""
        with self.prevent(Input.Changed, TextArea.Changed):
            self.query_one(f"#{field_id}", Input).value = text

    # Checking

    def check(self) -> CheckedForm | None:
        """Show each problem beside its field; return the form when it is valid."""
        required = self.plexe.connection.is_local
        result = check_form(self.values(), dataset_required=required)
        preview_error = self.preview.error if self.preview else None
        for field_id in FIELD_LABELS:
            message = result.errors.get(field_id) or self.server_errors.get(field_id)
            if field_id == "dataset" and message is None and preview_error:
                message = preview_error
            self.show_error(field_id, message if field_id in self.touched else None)

        valid = result.form is not None and preview_error is None
        self.query_one("#submit", Button).disabled = not valid or self.busy
        return result.form if valid else None

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
        self.update_changes()
        self.check()

    # Events

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        field_id = event.input.id or ""
        self.touched.add(field_id)
        self.server_errors.pop(field_id, None)
        if field_id in ("input_schema", "output_schema"):
            self.schemas_typed()
        self.schedule_draft()
        self.refresh_form()

    @on(TextArea.Changed, "#goal")
    def goal_changed(self) -> None:
        self.touched.add("goal")
        self.server_errors.pop("goal", None)
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
        summary = (
            f"{preview.file_format}, {len(preview.columns)} columns; the first "
            f"{len(preview.rows)} of {preview.sampled_rows} rows read for this "
            "preview, with the types guessed from them:"
        )
        self.query_one("#preview-summary", Static).update(summary)
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

    def name_note(self) -> str | None:
        name = self.query_one("#model_name", Input).value.strip()
        versions = [
            job.model_version
            for job in self.plexe.book.ordered()
            if job.model_name == name and job.server == self.plexe.connection.server
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
            return f"The goal names the column {target}: it will be the target."
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
        if self.source is not None:
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
        if metric and metric == self.suggested_metric and task:
            return f"Chosen for a {task} target; type another to change it."
        if metric or task is None or not self.plexe.connection.is_local:
            return None
        return (
            f"Empty: the local engine optimises {DEFAULT_METRICS[task]} for a "
            f"{task} target."
        )

    def update_changes(self) -> None:
        if self.source is None:
            return
        lines = describe_changes(self.original, self.values())
        text = (
            "Changes from the original build:\n  " + "\n  ".join(lines)
            if lines
            else "No changes: the same request runs again as a new version."
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
        try:
            self.set_status(f"Connecting to {self.plexe.connection.label}…")
            client = await self.plexe.connection.client()
            submission = Submission(
                client,
                self.plexe.connection.server,
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
        if current.path is not None:
            candidate = current.path.expanduser()
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

        self.set_status("Listing the server's uploads…")
        try:
            client = await self.plexe.connection.client()
            uploads = await client.list_uploads()
        except ApiError as exc:
            self.set_status(f"Cannot list the uploads: {exc.message}")
            return
        if not uploads:
            self.set_status("The server has no uploads yet; choose a local file.")
            return
        self.set_status("")
        self.app.push_screen(
            UploadPickerScreen(uploads, self.plexe.clock()), self.upload_chosen
        )

    def upload_chosen(self, upload_id: str | None) -> None:
        if upload_id is not None:
            self.query_one("#dataset", Input).value = upload_id

    def show_server_error(self, exc: ApiError) -> None:
        field_id = SERVER_FIELDS.get(exc.field or "")
        if field_id is not None:
            self.touched.add(field_id)
            self.server_errors[field_id] = exc.message
            self.show_error(field_id, exc.message)
            self.set_status("The server rejected the build; see the field in red.")
        else:
            self.set_status(f"The build was not started: {exc.message}")

    def set_status(self, text: str) -> None:
        self.query_one("#submit-status", Static).update(text)
