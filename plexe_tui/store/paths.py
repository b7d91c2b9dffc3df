"""Folders of plexe-tui's files, per the platform's conventions (platformdirs)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "plexe-tui"


def config_dir() -> Path:
    """Folder of the jobs file and settings, e.g. ~/.config/plexe-tui on Linux."""
    return platformdirs.user_config_path(APP_NAME)


def data_dir() -> Path:
    """Folder of the local engine's uploads and models (~/.local/share/plexe-tui)."""
    return platformdirs.user_data_path(APP_NAME)


def log_dir() -> Path:
    """Folder of the log files, e.g. ~/.local/state/plexe-tui/log on Linux."""
    return platformdirs.user_log_path(APP_NAME)
