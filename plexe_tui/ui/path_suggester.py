"""Completion of file paths as they are typed, like a shell's tab completion."""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester

# Entries read from one folder per keystroke; a bigger folder gets no suggestion
# rather than a slow keystroke.
MAX_ENTRIES = 2000


class PathSuggester(Suggester):
    """Suggest the first entry of the typed folder that starts with the typed name."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value or "://" in value:
            return None
        folder_text, separator, prefix = value.rpartition(os.sep)
        if not separator:
            folder = Path(".")
        elif not folder_text:
            folder = Path(os.sep)
        else:
            folder = Path(folder_text).expanduser()

        try:
            entries = sorted(_entries(folder))
        except OSError:
            return None

        for name, is_dir in entries:
            if name.startswith(prefix) and name != prefix and not name.startswith("."):
                suffix = os.sep if is_dir else ""
                return value + name[len(prefix) :] + suffix
        return None


def _entries(folder: Path) -> list[tuple[str, bool]]:
    entries = []
    with os.scandir(folder) as scan:
        for index, entry in enumerate(scan):
            if index >= MAX_ENTRIES:
                return []
            entries.append((entry.name, entry.is_dir()))
    return entries
