"""Import costs of the engine package, checked in a fresh interpreter."""

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
import plexe_tui.engine
light = sorted(m for m in ("fastapi", "pandas", "sklearn") if m in sys.modules)
import plexe_tui.engine.app
print(json.dumps({
    "light_package_loaded": light,
    "textual": "textual" in sys.modules,
    "sklearn_after_app": "sklearn" in sys.modules,
}))
"""


@pytest.fixture(scope="module")
def imports() -> dict[str, object]:
    """What a fresh interpreter has loaded after importing the engine package."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, object] = json.loads(completed.stdout)
    return result


def test_engine_never_imports_textual(imports: dict[str, object]) -> None:
    assert imports["textual"] is False


def test_package_import_is_light(imports: dict[str, object]) -> None:
    assert imports["light_package_loaded"] == []


def test_app_import_leaves_out_sklearn(imports: dict[str, object]) -> None:
    assert imports["sklearn_after_app"] is False
