"""The build form: describe a model, upload its dataset, and start the build."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Static,
    TextArea,
)

from plexe_tui.api import ApiError, PlexeClient
from plexe_tui.store import Job
from plexe_tui.ui.form_rules import (
    MAX_ITERATIONS,
    METRICS,
    MIN_ITERATIONS,
    SERVER_FIELDS,
    CheckedForm,
    FormValues,
    check_form,
    values_from_job,
)

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

PROVIDERS = (
    "openai/gpt-4o-mini",
    "openai/gpt-4o",
    "anthropic/claude-3-5-sonnet-latest",
    "gemini/gemini-2.0-flash",
)

# (field id, label, hint) in the order of the API's build request.
FIELDS = (
    (
        "model_name",
        "Model name",
        "Letters, digits, '-' and '_'. A new version is made each build.",
    ),
    (
        "goal",
        "Goal",
        "What the model should do, in plain words. Name the column to predict.",
    ),
    (
        "dataset",
        "Dataset",
        "A local CSV or JSON file path, an upload id, or an http(s) URL.",
    ),
    (
        "input_schema",
        "Input schema",
        'Optional JSON: feature → type, e.g. {"age": "int"}. Empty: inferred.',
    ),
    (
        "output_schema",
        "Output schema",
        'Optional JSON, e.g. {"diagnosis": "str"}. Empty: inferred.',
    ),
    ("metric", "Metric", "Optional: " + ", ".join(METRICS) + "."),
    (
        "max_iterations",
        "Max iterations",
        f"Optional: how many approaches to try, {MIN_ITERATIONS} to {MAX_ITERATIONS}.",
    ),
    (
        "provider",
        "Provider",
        "Optional LLM provider/model for the hosted platform's agents.",
    ),
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


def dataset_record(form: CheckedForm) -> str | None:
    """Return the dataset to remember; a file as an absolute path, for resubmits."""
    if form.dataset.path is not None:
        return str(form.dataset.path.resolve())
    return form.dataset.text or None


class BuildScreen(Screen[None]):
    """A form with one field per field of the build request."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="submit", tooltip="Start the build"),
        Binding(
            "escape", "cancel", "Back", id="back", tooltip="Leave without building"
        ),
    ]

    def __init__(self, source: Job | None = None) -> None:
        super().__init__()
        self.source = source
        self.touched: set[str] = set()
        self.submitting = False

    @property
    def plexe(self) -> PlexeApp:
        return cast("PlexeApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            if self.source is not None:
                yield Static(
                    f"Resubmitting {self.source.label}: submit to build it again as a "
                    "new version, with any changes below.",
                    id="resubmit-note",
                    markup=False,
                )
            for field_id, label, hint in FIELDS:
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label", id=f"{field_id}-label")
                    with Vertical(classes="field-body"):
                        yield self.field_widget(field_id)
                        yield Static(
                            self.hint_for(field_id, hint), classes="hint", markup=False
                        )
                        yield Static(
                            "",
                            id=f"{field_id}-error",
                            classes="field-error",
                            markup=False,
                        )
        # Outside the scrolled form, so submitting and its progress stay in view.
        with Vertical(id="submit-bar"):
            yield ProgressBar(id="upload-progress", show_eta=True)
            yield Static("", id="submit-status", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Submit", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

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
        suggester = None
        if field_id == "metric":
            suggester = SuggestFromList(METRICS, case_sensitive=False)
        elif field_id == "provider":
            suggester = SuggestFromList(PROVIDERS, case_sensitive=False)
        kind = "integer" if field_id == "max_iterations" else "text"
        return Input(
            id=field_id,
            suggester=suggester,
            type=kind,
            placeholder=PLACEHOLDERS.get(field_id, ""),
            compact=True,
        )

    def hint_for(self, field_id: str, hint: str) -> str:
        if field_id == "provider" and self.plexe.connection.is_local:
            return hint + " The local engine records it but does not use it."
        if field_id == "dataset" and not self.plexe.connection.is_local:
            return hint + " May be empty: the hosted platform can generate data."
        return hint

    def on_mount(self) -> None:
        if self.source is not None:
            self.title = f"Resubmit {self.source.label}"
            self.fill(values_from_job(self.source))
        else:
            self.title = "New build"
        self.query_one("#upload-progress").display = False
        self.query_one("#model_name", Input).focus()

    def fill(self, values: FormValues) -> None:
        for field_id, _, _ in FIELDS:
            text = getattr(values, field_id)
            if field_id == "goal":
                self.query_one("#goal", TextArea).text = text
            else:
                self.query_one(f"#{field_id}", Input).value = text

    def values(self) -> FormValues:
        values = FormValues()
        for field_id, _, _ in FIELDS:
            if field_id == "goal":
                text = self.query_one("#goal", TextArea).text
            else:
                text = self.query_one(f"#{field_id}", Input).value
            setattr(values, field_id, text)
        return values

    def check(self) -> CheckedForm | None:
        """Show each problem beside its field; return the form when it is valid."""
        result = check_form(
            self.values(), dataset_required=self.plexe.connection.is_local
        )
        for field_id, _, _ in FIELDS:
            shown = field_id in self.touched
            self.show_error(field_id, result.errors.get(field_id) if shown else None)
        return result.form

    def show_error(self, field_id: str, message: str | None) -> None:
        error = self.query_one(f"#{field_id}-error", Static)
        error.update(message or "")
        error.display = bool(message)

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        if event.input.id:
            self.touched.add(event.input.id)
        self.check()

    @on(TextArea.Changed)
    def goal_changed(self) -> None:
        self.touched.add("goal")
        self.check()

    @on(Button.Pressed, "#submit")
    def submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def input_submitted(self) -> None:
        self.focus_next()

    def action_submit(self) -> None:
        if self.submitting:
            return
        self.touched.update(field_id for field_id, _, _ in FIELDS)
        form = self.check()
        if form is None:
            self.set_status("Fix the fields marked above, then submit again.")
            return
        self.submitting = True
        self.query_one("#submit", Button).disabled = True
        self.run_worker(self.send(form), name="submit", exit_on_error=False)

    def action_cancel(self) -> None:
        if not self.submitting:
            self.dismiss()

    async def send(self, form: CheckedForm) -> None:
        """Upload the file if there is one, start the build, then open its detail."""
        from plexe_tui.ui.screens.detail import DetailScreen

        try:
            job = await self.start_build(form)
        except ApiError as exc:
            self.show_server_error(exc)
            return
        finally:
            self.submitting = False
            self.query_one("#submit", Button).disabled = False

        self.plexe.add_job(job)
        self.app.switch_screen(DetailScreen(job.key))

    async def start_build(self, form: CheckedForm) -> Job:
        self.set_status(f"Connecting to {self.plexe.connection.label}…")
        client = await self.plexe.connection.client()
        request = form.request

        if form.dataset.kind == "file":
            assert form.dataset.path is not None
            upload_id = await self.upload(client, form.dataset.path)
            request = dataclasses.replace(request, upload_id=upload_id)

        self.set_status(f"Starting the build of {form.model_name}…")
        ref = await client.start_build(form.model_name, request)
        return Job(
            model_name=ref.model_name,
            model_version=ref.model_version,
            server=self.plexe.connection.server,
            goal=request.goal,
            status=ref.status,
            dataset=dataset_record(form),
            upload_id=request.upload_id,
            input_schema=request.input_schema,
            output_schema=request.output_schema,
            metric=request.metric,
            max_iterations=request.max_iterations,
            provider=request.provider,
            parent=self.source.key if self.source else None,
        )

    async def upload(self, client: PlexeClient, path: Path) -> str:
        """Send the file with a progress bar; return the upload id."""
        bar = self.query_one("#upload-progress", ProgressBar)
        bar.display = True
        started = time.monotonic()
        size = path.stat().st_size
        bar.update(total=max(size, 1), progress=0)
        self.set_status(f"Uploading {path.name} ({size / 1e6:.1f} MB)…")

        def on_progress(sent: int, total: int) -> None:
            bar.update(total=max(total, 1), progress=sent)
            rate = sent / max(time.monotonic() - started, 1e-3)
            self.set_status(
                f"Uploading {path.name}: {sent / 1e6:.1f} of {total / 1e6:.1f} MB, "
                f"{rate / 1e6:.1f} MB/s"
            )

        try:
            return await client.upload_file(path, on_progress=on_progress)
        finally:
            bar.display = False

    def show_server_error(self, exc: ApiError) -> None:
        field_id = SERVER_FIELDS.get(exc.field or "")
        if field_id is not None:
            self.show_error(field_id, exc.message)
            self.set_status("The server rejected the build; see the marked field.")
        else:
            self.set_status(f"The build was not started: {exc.message}")

    def set_status(self, text: str) -> None:
        self.query_one("#submit-status", Static).update(text)
