"""A text field whose tab key takes the completion shown in grey, as a shell does."""

from __future__ import annotations

from textual.actions import SkipAction
from textual.binding import Binding
from textual.widgets import Input


class CompletingInput(Input):
    """An Input where tab accepts the shown completion, or moves on when none shows."""

    BINDINGS = [
        Binding(
            "tab",
            "complete",
            "Complete",
            id="complete",
            show=False,
            tooltip="Take the grey completion, or go to the next field",
        ),
    ]

    def action_complete(self) -> None:
        # NOTE: Textual (8.2) keeps the shown completion in the private
        # `_suggestion`, and Input has no public way to read it.
        completion = self._suggestion
        if not (self.cursor_at_end and len(completion) > len(self.value)):
            raise SkipAction()  # The app's tab binding moves the focus on.
        self.value = completion
        self.cursor_position = len(completion)
