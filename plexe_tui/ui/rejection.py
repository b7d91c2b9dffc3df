"""A build request the server rejected, and which of its errors still fit the form.

A server error describes the request as it was sent. Once the user changes what
the error was about, the form stops showing it, so that an old error never
appears beside values the server has not seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plexe_tui.ui.form_rules import FIELD_LABELS, FormValues

# The server reads these fields together to choose the target, the features and
# the metric, so its error about one of them may come from another: a goal
# error from the dataset's columns, a metric error from the target's type.
DATA_FIELDS = frozenset({"goal", "dataset", "input_schema", "output_schema", "metric"})


def fields_behind(field_id: str) -> frozenset[str]:
    """Return the fields whose values an error about `field_id` may depend on."""
    return DATA_FIELDS if field_id in DATA_FIELDS else frozenset({field_id})


@dataclass
class Rejection:
    """The form's values when the server rejected them, and its errors.

    `message` is the status line's text about the rejection, and `field_errors`
    maps form field ids to the server's messages. An error that names no field
    of the form is about the whole request.
    """

    sent: FormValues
    message: str
    field_errors: dict[str, str] = field(default_factory=dict)

    def changed_fields(self, values: FormValues) -> set[str]:
        """Return the fields whose text differs from the text that was sent."""
        return {
            field_id
            for field_id in FIELD_LABELS
            if getattr(values, field_id) != getattr(self.sent, field_id)
        }

    def errors_for(self, values: FormValues) -> dict[str, str]:
        """Return the field errors whose fields are all as they were sent.

        Another server has not seen the request, so none of the errors fit.
        """
        if values.server != self.sent.server:
            return {}
        changed = self.changed_fields(values)
        return {
            field_id: message
            for field_id, message in self.field_errors.items()
            if not changed & fields_behind(field_id)
        }

    def still_applies(self, values: FormValues) -> bool:
        """Return whether the status line's message about the rejection still fits."""
        if values.server != self.sent.server:
            return False
        if self.field_errors:
            return bool(self.errors_for(values))
        return not self.changed_fields(values)
