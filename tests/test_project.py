"""Checks of the repository itself: the README's commands, lint and types."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    """Return the one-line commands of the README's `sh` blocks."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines()]


def test_ci_runs_readme_test_command() -> None:
    test_commands = [line for line in readme_commands() if "pytest" in line]
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")

    assert len(test_commands) == 1
    assert test_commands[0] in ci_script.splitlines()


def test_readme_run_command_installs_local_extra() -> None:
    run_commands = [line for line in readme_commands() if "[local]" in line]

    assert len(run_commands) == 1
    assert run_commands[0].endswith("plexe-tui")


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ruff_check_passes() -> None:
    result = run_tool("ruff", "check", "plexe_tui", "tests")

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied() -> None:
    result = run_tool("ruff", "format", "--check", "plexe_tui", "tests")

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_passes() -> None:
    """mypy runs strict on api, store and engine, as pyproject.toml configures."""
    result = run_tool("mypy")

    assert result.returncode == 0, result.stdout + result.stderr
