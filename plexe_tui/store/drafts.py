"""Unsent build forms, kept so that leaving the form or quitting loses nothing."""

from __future__ import annotations

from pathlib import Path

from plexe_tui.store.toml_file import read_versioned, write_versioned

FORMAT_VERSION = 1
FILE_NAME = "drafts.toml"
NEW_BUILD = "new"
"""Draft key of the form for a new build; a resubmit uses the source job's key."""


class DraftStore:
    """Form values by draft key, in drafts.toml beside the jobs file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, key: str) -> dict[str, str] | None:
        """Return the saved field values of one form, if any."""
        drafts = read_versioned(self.path, FORMAT_VERSION).get("drafts", {})
        draft = drafts.get(key) if isinstance(drafts, dict) else None
        if not isinstance(draft, dict):
            return None
        return {str(name): str(value) for name, value in draft.items()}

    def save(self, key: str, values: dict[str, str]) -> None:
        """Keep one form's field values, replacing its earlier draft."""
        drafts = self._all()
        drafts[key] = values
        write_versioned(self.path, FORMAT_VERSION, {"drafts": drafts})

    def clear(self, key: str) -> None:
        """Forget one form's draft, after it was sent or discarded."""
        drafts = self._all()
        if drafts.pop(key, None) is not None:
            write_versioned(self.path, FORMAT_VERSION, {"drafts": drafts})

    def _all(self) -> dict[str, dict[str, str]]:
        drafts = read_versioned(self.path, FORMAT_VERSION).get("drafts", {})
        return dict(drafts) if isinstance(drafts, dict) else {}
