"""The help screen: every key of the current screen and of the app."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from plexe_tui.ui.keys import KeyEntry, key_display

# Columns: wide enough for "shift+tab" and "Try a sample" without wrapping.
KEY_WIDTH = 12
ACTION_WIDTH = 14

HINT = (
    "escape closes · ctrl+p runs any of these by name · to change a key, put "
    "id = key under [keys] in config.toml (plexe-tui locate prints its path)"
)


class HelpScreen(ModalScreen[None]):
    """Lists keys in sections: the screen the help was opened on, then the app."""

    BINDINGS = [
        Binding(
            "escape,question_mark,f1",
            "close",
            "Close",
            id="close-help",
            tooltip="Close the help",
        ),
    ]

    def __init__(self, sections: list[tuple[str, list[KeyEntry]]]) -> None:
        """`sections` are (title, entries) pairs, shown in order."""
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(classes="help"):
            yield Label("Keys", classes="help-title")
            yield Static(HINT, classes="hint", markup=False)
            with VerticalScroll(id="help-keys"):
                yield Static(self.key_table(), id="help-table")

    def key_table(self) -> Table:
        """Return one table for all sections, so that their columns line up."""
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column("key", no_wrap=True, min_width=KEY_WIDTH)
        table.add_column("action", no_wrap=True, min_width=ACTION_WIDTH)
        table.add_column("what it does", ratio=1)
        table.add_column("id", no_wrap=True)
        for number, (title, entries) in enumerate(self.sections):
            if not entries:
                continue
            if number:
                table.add_row()
            table.add_row(Text(title, style=f"bold {self.app.current_theme.primary}"))
            for entry in entries:
                binding = entry.binding
                table.add_row(
                    self.keys_text(entry),
                    Text(binding.description, style="bold"),
                    Text(binding.tooltip),
                    Text(binding.id or "", style="dim"),
                )
        return table

    def keys_text(self, entry: KeyEntry) -> Text:
        """Show the keys in effect; a remapped binding also names its default."""
        text = Text(" ".join(key_display(self.app, key) for key in entry.keys))
        if entry.remapped:
            defaults = " ".join(
                key_display(self.app, key) for key in entry.default_keys
            )
            text.append(f" (was {defaults})", style="italic")
        return text

    def action_close(self) -> None:
        self.dismiss()
