"""Make the README's screenshots from the real app on a real local engine.

Run from the repository root: `python -m tests.screenshots`. The app starts its
own engine in a temporary folder, builds a model on the breast cancer data,
and saves SVGs of the job list, the build form and the job detail.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from plexe_tui.api import is_terminal
from plexe_tui.ui.app import AppSettings, create_app
from plexe_tui.ui.screens.detail import DetailScreen

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "screenshots"
DATA = ROOT / "tests" / "data"
SIZE = (120, 40)
BUILD_TIMEOUT = 180.0  # Seconds.


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await pilot.press(*text)


async def wait_for(pilot: Pilot[Any], condition: Any, what: str) -> None:
    deadline = time.monotonic() + BUILD_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"Timed out waiting for {what}.")
        await pilot.pause(0.2)


async def submit(pilot: Pilot[Any], name: str, goal: str, dataset: Path) -> None:
    await pilot.press("n")
    await type_into(pilot, "#model_name", name)
    await type_into(pilot, "#goal", goal)
    await type_into(pilot, "#dataset", str(dataset))
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen), name)


async def make_screenshots(work: Path) -> None:
    for name in ("breast_cancer.csv", "diabetes.csv", "penguins.csv"):
        shutil.copyfile(DATA / name, work / name)

    settings = AppSettings(
        base_url=None,
        api_key=None,
        config_dir=work / "config",
        engine_data_dir=work / "engine",
        log_dir=work / "log",
    )
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        builds = [
            ("penguins", "predict the species", "penguins.csv"),
            ("diabetes", "predict the disease progression", "diabetes.csv"),
            ("cancer", "predict the diagnosis", "breast_cancer.csv"),
        ]
        for name, goal, file_name in builds:
            await submit(pilot, name, goal, work / file_name)
            job = app.book.get(app.screen.key)
            assert job is not None
            await wait_for(pilot, lambda job=job: is_terminal(job.status), name)
            await pilot.press("escape")

        app.save_screenshot("jobs.svg", str(OUTPUT))
        await pilot.press("enter")
        description = app.screen.query_one("#description")
        await wait_for(pilot, lambda: description.display, "the model description")
        app.save_screenshot("detail.svg", str(OUTPUT))
        await pilot.press("s")
        await pilot.pause()
        app.save_screenshot("build.svg", str(OUTPUT))


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="plexe-tui-screens-") as folder:
        asyncio.run(make_screenshots(Path(folder)))
    print(f"Wrote jobs.svg, build.svg and detail.svg to {OUTPUT}")


if __name__ == "__main__":
    main()
