"""The choice of folder for a batch prediction's output file.

The output goes beside the input file, unless that folder is part of the
installed app (the bundled sample dataset is), where it may be read-only and a
reinstall deletes it, or unless this user cannot write there. Then it goes to
the first writable folder of a list: the current directory, then the app's
data folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import plexe_tui
from plexe_tui.store import paths

PACKAGE_DIR = Path(plexe_tui.__file__).resolve().parent
"""The installed `plexe_tui` package, which contains the sample dataset."""
PREDICTIONS_FOLDER = "predictions"
"""Folder under the app's data folder for outputs that have no other place."""


@dataclass(frozen=True)
class OutputFolder:
    """The folder for an output file, and why it is not the input's, if it is not."""

    path: Path
    reason: str | None = None
    """A sentence for the user on why the input's folder was passed over."""


def default_fallbacks() -> list[Path]:
    """Return the folders tried when the input's folder cannot be used."""
    return [Path.cwd(), paths.data_dir() / PREDICTIONS_FOLDER]


def choose_output_folder(source: Path, fallbacks: Sequence[Path]) -> OutputFolder:
    """Return the input's folder if it can take the output, else the first fallback.

    A fallback inside the app is skipped too, and a missing fallback folder
    is created. When no folder can be used, the input's folder is returned
    without a reason, and creating the file there raises the error shown to
    the user.
    """
    folder = source.parent
    if is_inside_app(folder):
        cause = "that file is part of the installed app, which may be read-only"
    elif not is_writable(folder):
        cause = f"you cannot write to {folder}"
    else:
        return OutputFolder(folder)
    reason = f"It is not beside {source.name} because {cause}."

    for candidate in fallbacks:
        if is_inside_app(candidate):
            continue
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if is_writable(candidate):
            return OutputFolder(candidate, reason)
    return OutputFolder(folder)


def is_inside_app(folder: Path) -> bool:
    """Return whether `folder` is the installed package or a folder in it."""
    return folder.resolve().is_relative_to(PACKAGE_DIR)


def is_writable(folder: Path) -> bool:
    """Return whether this user can create files in `folder`.

    NOTE: for root, os.access reports every folder on a writable file system
    as writable, whatever its mode bits, which matches what root can do.
    """
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
