"""The modules the first frame needs must leave slow imports for later.

httpx and what it imports took 40 to 90 ms of a start of about 300 ms on a
shared 2-core machine (tests/benchmarks/startup.py). The app imports it when
it opens its connection, after the first frame. The engine's libraries load
only in the engine's own process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_FRAME_MODULES = ["plexe_tui.cli", "plexe_tui.ui.app", "plexe_tui.ui.screens.jobs"]
LATER_MODULES = ["httpx", "fastapi", "pandas", "sklearn"]


def test_first_frame_modules_leave_out_httpx() -> None:
    imports = "\n".join(f"import {module}" for module in FIRST_FRAME_MODULES)
    script = (
        "import sys\n"
        f"{imports}\n"
        f"print(','.join(m for m in {LATER_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", (
        f"imported before the first frame: {result.stdout}"
    )
