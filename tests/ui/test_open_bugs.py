"""Failing tests of bugs found by using the app by hand, one test per bug.

Each test is marked `xfail(strict=True)` with the reason, so the suite stays
green until the fix, and the fix must remove the mark. Move a test next to the
tests of its module when you fix its bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from plexe_tui.api import BuildStatus
from plexe_tui.store import Job, JobStore
from plexe_tui.ui.book import JobBook
from plexe_tui.ui.preview import preview_file
from plexe_tui.ui.server_sync import SyncRound
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    enter_value,
    focus_field,
    form_values,
    make_app,
    open_new_form,
    wait_until,
    widget_text,
)

SERVER = "http://127.0.0.1:8765"


def make_job(name: str, status: str = "building", **fields: object) -> Job:
    return Job(
        model_name=name,
        model_version="1",
        server=SERVER,
        goal="predict y",
        status=status,
        **fields,
    )  # type: ignore[arg-type]


# Dataset preview


@pytest.mark.xfail(
    strict=True,
    reason="preview_file reads any file whose text starts with '[' as JSON, even "
    "a .csv, while the engine picks the format from the .csv suffix; the form "
    "then blocks a valid CSV with 'not valid JSON'",
)
def test_csv_header_starting_with_bracket(tmp_path: Path) -> None:
    path = tmp_path / "measurements.csv"
    rows = "".join(f"{i},{i * 2},{i % 2}\n" for i in range(20))
    path.write_text("[id],size,target\n" + rows, encoding="utf-8")

    preview = preview_file(path)

    assert preview.error is None
    assert [column.name for column in preview.columns] == ["[id]", "size", "target"]


@pytest.mark.xfail(
    strict=True,
    reason="preview_file reads a .csv whose text starts with '{' as JSON lines",
)
def test_csv_header_starting_with_brace(tmp_path: Path) -> None:
    path = tmp_path / "templated.csv"
    rows = "".join(f"{i},{i % 2}\n" for i in range(20))
    path.write_text("{name},target\n" + rows, encoding="utf-8")

    preview = preview_file(path)

    assert preview.error is None
    assert [column.name for column in preview.columns] == ["{name}", "target"]


# The jobs in memory


@pytest.mark.xfail(
    strict=True,
    reason="JobBook.apply_round adds every listed build it does not hold, "
    "including one the user forgot with f, so the job comes back as "
    "'external' at the next poll, without its dataset, metric or history",
)
def test_forgotten_job_not_listed_again(tmp_path: Path) -> None:
    book = JobBook(JobStore(tmp_path / "jobs.toml"))
    key = f"a:1@{SERVER}"
    book.add(make_job("a", status="completed"))
    book.remove(key)
    result = SyncRound(listed={key: BuildStatus("a", "1", "completed", goal="g")})

    changed = book.apply_round(SERVER, result)

    assert book.get(key) is None
    assert changed == set()


# Build form


@pytest.mark.xfail(
    strict=True,
    reason="clearing the suggested metric fills the suggestion back in at once, "
    "with the cursor before it, so typing 'mae' gives 'maeroc_auc'",
)
async def test_metric_typed_after_clearing(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await enter_value(pilot, "dataset", str(dataset_file))
        await enter_value(pilot, "goal", "Predict the diagnosis of each tumour")
        assert form_values(pilot)["metric"] == "roc_auc"

        metric = pilot.app.screen.query_one("#metric", Input)
        metric.focus()
        await pilot.press("end", "ctrl+u")
        await pilot.press("m", "a", "e")

        assert form_values(pilot)["metric"] == "mae"


@pytest.mark.xfail(
    strict=True,
    reason="the dataset hint says 'tab completes paths', but tab moves the focus "
    "to the next field and leaves the shown completion unused",
)
async def test_tab_completes_dataset_path(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "churn.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    typed = str(folder / "chu")

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await focus_field(pilot, "#dataset")
        dataset = pilot.app.screen.query_one("#dataset", Input)
        dataset.value = typed[:-1]
        dataset.cursor_position = len(dataset.value)
        await pilot.press(typed[-1])
        await wait_until(
            pilot, lambda: "churn.csv" in widget_text(dataset), "the completion"
        )
        await pilot.press("tab")

        assert dataset.value == str(folder / "churn.csv")
        assert pilot.app.focused is dataset
