"""Schema editor: the dataset's columns as rows, with keys to pick the target."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from plexe_tui.ui.schema_model import (
    ROLE_EXCLUDED,
    ROLE_TARGET,
    SchemaModel,
)

COLUMNS = (("column", "Column"), ("type", "Type"), ("role", "Role"))


class SchemaEditor(DataTable[Text]):
    """Rows of (column, type, role); `t` sets the target, `x` leaves a column out."""

    BINDINGS = [
        Binding(
            "t", "set_target", "Target", id="target", tooltip="Predict this column"
        ),
        Binding(
            "x,space",
            "toggle_excluded",
            "Exclude",
            id="exclude",
            tooltip="Leave the column out, or bring it back",
        ),
        Binding(
            "c",
            "cycle_type",
            "Type",
            id="column-type",
            tooltip="Change the column's type",
        ),
    ]

    class Changed(Message):
        """The user changed a role or a type."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.model = SchemaModel()
        self.suggested_target: str | None = None
        """The column the goal names, shown as the likely target until one is chosen.
        The server applies its own rule to the goal, so this is a guess."""

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def load(self, model: SchemaModel) -> None:
        """Show a new set of columns."""
        self.model = model
        self.clear()
        for column in model.columns:
            self.add_row(*self._cells(column.name), key=column.name)

    def redraw(self) -> None:
        """Refresh every row's type and role after the model changed."""
        for column in self.model.columns:
            _, kind, role = self._cells(column.name)
            self.update_cell(column.name, "type", kind)
            self.update_cell(column.name, "role", role, update_width=True)

    def _cells(self, name: str) -> tuple[Text, Text, Text]:
        role = self.model.role(name)
        if role == ROLE_TARGET:
            role_text = Text("target", style="bold")
        elif role == ROLE_EXCLUDED:
            role_text = Text("left out", style="dim strike")
        elif self.model.target is None and name == self.suggested_target:
            role_text = Text("target? (named in the goal)", style="italic")
        else:
            role_text = Text("feature")
        return Text(name), Text(self.model.types.get(name, "")), role_text

    def _current(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def _change(self, action: str) -> None:
        name = self._current()
        if name is None:
            return
        getattr(self.model, action)(name)
        self.redraw()
        self.post_message(self.Changed())

    def action_set_target(self) -> None:
        self._change("set_target")

    def action_toggle_excluded(self) -> None:
        self._change("toggle_excluded")

    def action_cycle_type(self) -> None:
        self._change("cycle_type")
