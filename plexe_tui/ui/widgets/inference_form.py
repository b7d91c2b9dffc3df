"""A form that calls a finished model: one typed field per feature, and the result."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from plexe_tui.api import ApiError
from plexe_tui.ui.inference import Feature, parse_value, request_body

log = logging.getLogger(__name__)

Predict = Callable[[dict[str, Any]], Awaitable[Any]]
"""Sends one request body to the model and returns its output."""


class FeatureRow(Horizontal):
    """One feature: its name, its type, the field, and a message beside it."""

    def __init__(self, feature: Feature, index: int, value: str) -> None:
        super().__init__(classes="feature-row")
        self.feature = feature
        self.index = index
        self.value = value

    def compose(self) -> ComposeResult:
        yield Static(self.feature.name, classes="feature-name", markup=False)
        yield Static(self.feature.type, classes="feature-type", markup=False)
        yield Input(
            self.value,
            placeholder="empty = missing",
            id=f"feature-{self.index}",
            classes="feature-input",
            compact=True,
        )
        yield Static("", classes="feature-error", markup=False)

    @property
    def input(self) -> Input:
        """The field of this feature."""
        return self.query_one(Input)

    def check(self) -> bool:
        """Show whether the field's text fits the feature's type; return whether so."""
        try:
            parse_value(self.input.value, self.feature.type)
        except ValueError as exc:
            self.show_error(str(exc))
            return False
        self.show_error(None)
        return True

    def show_error(self, message: str | None) -> None:
        """Show a message beside the field, or hide it."""
        error = self.query_one(".feature-error", Static)
        error.update(message or "")
        error.display = bool(message)
        self.set_class(bool(message), "-invalid")


class InferenceForm(Vertical):
    """Typed fields for a model's input schema, a Predict button and the output.

    Each field is checked as it is typed. Predicting sends only the schema's
    features; a 400 or 422 that names a feature appears beside its field.
    """

    DEFAULT_CSS = """
    InferenceForm { height: auto; }
    InferenceForm #inference-fields { height: auto; }
    InferenceForm .feature-row { height: auto; }
    InferenceForm .feature-name { width: 28; height: auto; }
    InferenceForm .feature-type { width: 6; color: $text-muted; }
    InferenceForm .feature-input { width: 24; }
    InferenceForm .feature-error {
        width: 1fr; height: auto; padding: 0 0 0 1; display: none;
        color: $readable-error;
    }
    InferenceForm #inference-buttons { height: auto; margin: 1 0 0 0; }
    InferenceForm #inference-status {
        height: auto; color: $text-muted; display: none;
    }
    InferenceForm #inference-status.-error { color: $readable-error; }
    InferenceForm #inference-result {
        height: auto; margin: 1 0 0 0; display: none;
    }
    """

    def __init__(self, predict: Predict, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.predict = predict
        self.features: list[Feature] = []
        self.output: Any = None
        """The last prediction shown, if any."""

    def compose(self) -> ComposeResult:
        yield Static("", id="inference-note", markup=False)
        yield Vertical(id="inference-fields")
        with Horizontal(id="inference-buttons"):
            yield Button(Content("Predict"), id="predict", compact=True)
        yield Static("", id="inference-status", markup=False)
        yield Static("", id="inference-result", markup=False)

    async def set_features(
        self, features: list[Feature], example: dict[str, str], note: str
    ) -> None:
        """Show one field per feature, filled from `example` where it has a value."""
        self.features = features
        self.query_one("#inference-note", Static).update(note)
        container = self.query_one("#inference-fields", Vertical)
        await container.remove_children()
        rows = [
            FeatureRow(feature, index, example.get(feature.name, ""))
            for index, feature in enumerate(features)
        ]
        await container.mount_all(rows)
        for row in rows:
            if row.value:
                row.check()
        self.query_one("#inference-buttons").display = bool(features)

    def rows(self) -> list[FeatureRow]:
        """Return the rows of the form, in the schema's order."""
        return list(self.query(FeatureRow))

    def focus_first(self) -> None:
        """Focus the first field and scroll it into view."""
        rows = self.rows()
        if rows:
            self.show_row(rows[0])

    @on(Input.Changed, ".feature-input")
    def field_changed(self, event: Input.Changed) -> None:
        row = event.input.parent
        if isinstance(row, FeatureRow):
            row.check()

    @on(Input.Submitted, ".feature-input")
    def field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#predict")
    def predict_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        """Check every field, then send the request unless one is invalid."""
        rows = self.rows()
        invalid = [row for row in rows if not row.check()]
        # The prediction shown belongs to the values last sent. Next to a new
        # request or an error it would read as the prediction for these values.
        self.clear_output()
        if invalid:
            fields = "field" if len(invalid) == 1 else f"{len(invalid)} fields"
            self.set_status(
                f"Fix the {fields} marked in red, then predict again.", error=True
            )
            self.show_row(invalid[0])
            return
        values = {row.feature.name: row.input.value for row in rows}
        body = request_body(values, self.features)
        self.set_status("Predicting…")
        self.run_worker(self.send(body), name="infer", exclusive=True)

    def clear_output(self) -> None:
        """Hide the last prediction."""
        self.output = None
        self.query_one("#inference-result", Static).display = False

    def show_row(self, row: FeatureRow) -> None:
        """Focus a row's field and scroll it into view."""
        row.input.focus()
        row.scroll_visible(animate=False)

    async def send(self, body: dict[str, Any]) -> None:
        """Send one request and show the output, or the error beside its field."""
        try:
            output = await self.predict(body)
        except ApiError as exc:
            log.info("Inference failed: %s", exc.message)
            self.show_failure(exc)
            return
        self.output = output
        self.set_status("")
        result = self.query_one("#inference-result", Static)
        result.update(render_output(output))
        result.display = True
        # After the next refresh, so that the result's new height counts.
        self.call_after_refresh(result.scroll_visible, animate=False)

    def show_failure(self, exc: ApiError) -> None:
        """Put the message beside the field it names, else below the form."""
        row = next((r for r in self.rows() if r.feature.name == exc.field), None)
        if row is not None:
            row.show_error(exc.message)
            self.show_row(row)
            self.set_status(f"The server rejected {exc.field}.", error=True)
        else:
            self.set_status(f"Prediction failed: {exc.message}", error=True)

    def set_status(self, message: str, *, error: bool = False) -> None:
        """Show a line below the Predict button."""
        status = self.query_one("#inference-status", Static)
        status.update(message)
        status.display = bool(message)
        status.set_class(error, "-error")


def render_output(output: Any) -> RenderableType:
    """Return a prediction as a grid of output names and values."""
    if not isinstance(output, dict) or not output:
        return Text.assemble(("Prediction  ", "bold"), _value_text(output))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in output.items():
        grid.add_row(Text(str(name)), _value_text(value))
    return grid


def _value_text(value: Any) -> Text:
    if isinstance(value, dict) and all(
        isinstance(item, int | float) for item in value.values()
    ):
        # Class probabilities: most likely first.
        ranked = sorted(value.items(), key=lambda item: item[1], reverse=True)
        return Text("  ".join(f"{name} {number:.4g}" for name, number in ranked))
    if isinstance(value, str):
        return Text(value)
    return Text(json.dumps(value, ensure_ascii=False, default=str))
