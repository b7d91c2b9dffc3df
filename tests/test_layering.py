"""The api, store and engine packages must import without Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "plexe_tui"
UI_FREE_PACKAGES = ["plexe_tui.api", "plexe_tui.store"]
if (PACKAGE_ROOT / "engine" / "__init__.py").exists():
    UI_FREE_PACKAGES.append("plexe_tui.engine")


@pytest.mark.parametrize("package", UI_FREE_PACKAGES)
def test_package_imports_without_textual(package: str) -> None:
    script = (
        "import sys\n"
        f"import {package}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PACKAGE_ROOT.parent,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{package} imported {result.stdout}"
