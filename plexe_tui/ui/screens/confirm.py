"""A modal question with a few labelled choices."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ChoiceScreen(ModalScreen[str]):
    """Ask a question; return the id of the chosen button, or `cancel` on escape."""

    BINDINGS = [
        Binding(
            "escape",
            "choose('cancel')",
            "Cancel",
            id="cancel",
            tooltip="Close the question without choosing",
        )
    ]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        """`choices` are (id, label) pairs; the first one has the focus."""
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="choice"):
            yield Static(self.question, classes="choice-question", markup=False)
            with Horizontal(classes="choice-buttons"):
                for choice_id, label in self.choices:
                    yield Button(label, id=choice_id, compact=True)

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, choice_id: str) -> None:
        self.dismiss(choice_id)
