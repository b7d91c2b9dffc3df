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
        ),
        # The buttons stand in a row, so the arrows move along it as tab does.
        Binding(
            "left",
            "app.focus_previous",
            "Previous choice",
            id="previous-choice",
            show=False,
            tooltip="Move the focus to the choice on the left",
        ),
        Binding(
            "right",
            "app.focus_next",
            "Next choice",
            id="next-choice",
            show=False,
            tooltip="Move the focus to the choice on the right",
        ),
    ]

    def __init__(
        self, question: str, choices: list[tuple[str, str]], *, focus: str
    ) -> None:
        """`choices` are (id, label) pairs, and `focus` is the id that has the focus.

        Enter presses the focused button, so a question about deleting or losing
        something focuses the choice that keeps it.
        """
        super().__init__()
        if focus not in {choice_id for choice_id, _ in choices}:
            raise ValueError(f"focus {focus!r} is not one of the choices")
        self.question = question
        self.choices = choices
        self.focus_id = focus

    def compose(self) -> ComposeResult:
        with Vertical(classes="choice"):
            yield Static(self.question, classes="choice-question", markup=False)
            with Horizontal(classes="choice-buttons"):
                for choice_id, label in self.choices:
                    yield Button(label, id=choice_id, compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#{self.focus_id}", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, choice_id: str) -> None:
        self.dismiss(choice_id)
