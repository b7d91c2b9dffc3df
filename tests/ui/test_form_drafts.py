"""Pilot tests of unsent forms kept as drafts, and of the resubmit form's changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from plexe_tui.store.drafts import NEW_BUILD
from plexe_tui.ui.form_rules import FormValues
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    cursor_key,
    enter_value,
    form_values,
    job_table,
    make_app,
    open_new_form,
    read_jobs,
    settle,
    shown_content,
    submit_status,
    wait_for_screen,
    wait_until,
    write_jobs,
)

RESTORED = "Restored the form you had not sent yet."
SOURCE_GOAL = "Predict churn from usage"


def write_source_job(config_dir: Path, server: str) -> str:
    """Write one finished churn build to the jobs file and return its key."""
    source = job_table(
        "churn",
        "1",
        server,
        status="completed",
        goal=SOURCE_GOAL,
        dataset="/no/such/folder/churn.csv",
        upload_id="upl-7",
        metric="f1",
        max_iterations=3,
    )
    write_jobs(config_dir, [source])
    return f"churn:1@{server}"


async def open_resubmit(pilot: Pilot[Any]) -> BuildScreen:
    """Press `s` on the job under the cursor and return the resubmit form."""
    await settle(pilot)
    await pilot.press("s")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BuildScreen)
    return screen


async def leave_form(pilot: Pilot[Any], choice: str) -> None:
    """Press escape in a changed form and pick `keep`, `discard` or `cancel`."""
    await pilot.press("escape")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ChoiceScreen)
    await pilot.click(f"#{choice}")
    await pilot.pause()


# Drafts of a new build


async def test_draft_restored_after_restart(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    typed = {
        "model_name": "tumours",
        "goal": "Predict the diagnosis\nof each tumour",
        "dataset": str(dataset_file),
        "input_schema": '{"mean radius": "float", "mean area": "float"}',
        "output_schema": '{"diagnosis": "str"}',
        "metric": "f1",
        "max_iterations": "5",
        "provider": "openai/gpt-4o",
    }
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        for field_id, text in typed.items():
            await enter_value(pilot, field_id, text)
        await leave_form(pilot, "keep")
        assert isinstance(pilot.app.screen, JobsScreen)

    restarted = make_app(platform.url, config_dir)
    async with restarted.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)

        assert form_values(pilot) == typed
        assert submit_status(pilot) == RESTORED


async def test_draft_saved_on_quit(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await enter_value(pilot, "goal", "predict the churn")
        await pilot.press("ctrl+q")

    restarted = make_app(platform.url, config_dir)
    async with restarted.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)

        assert form_values(pilot)["goal"] == "predict the churn"
        assert submit_status(pilot) == RESTORED


async def test_discard_clears_draft(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await enter_value(pilot, "model_name", "churn")
        await leave_form(pilot, "keep")
        assert app.drafts.load(NEW_BUILD) == vars(
            FormValues(model_name="churn", server=platform.url)
        )

        await open_new_form(pilot)
        await leave_form(pilot, "discard")
        assert app.drafts.load(NEW_BUILD) is None

        await open_new_form(pilot)
        assert form_values(pilot)["model_name"] == ""
        assert submit_status(pilot) == ""


async def test_stay_keeps_form(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await enter_value(pilot, "model_name", "churn")
        await leave_form(pilot, "cancel")

        assert isinstance(pilot.app.screen, BuildScreen)
        assert form_values(pilot)["model_name"] == "churn"


async def test_submit_clears_draft(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_new_form(pilot)
        await enter_value(pilot, "model_name", "churn")
        await enter_value(pilot, "goal", "predict the churn")
        await wait_until(
            pilot,
            lambda: app.drafts.load(NEW_BUILD) is not None,
            "the draft to be written",
        )
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, DetailScreen)

        assert app.drafts.load(NEW_BUILD) is None
        assert platform.count("POST", "/models/churn") == 1


# Drafts of a resubmit


async def test_resubmit_draft_keyed_by_source(
    platform: FakePlatform, config_dir: Path
) -> None:
    source_key = write_source_job(config_dir, platform.url)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_resubmit(pilot)
        await enter_value(pilot, "goal", "Predict churn from usage and plan")
        await leave_form(pilot, "keep")
        draft = app.drafts.load(source_key) or {}

        assert draft.get("goal") == "Predict churn from usage and plan"
        assert draft.get("dataset") == "upl-7"
        assert app.drafts.load(NEW_BUILD) is None


async def test_resubmit_draft_restored(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_source_job(config_dir, platform.url)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_resubmit(pilot)
        await enter_value(pilot, "goal", "Predict churn from usage and plan")
        await leave_form(pilot, "keep")

        await open_new_form(pilot)
        assert form_values(pilot)["goal"] == ""
        await pilot.press("escape")
        await pilot.pause()

        await open_resubmit(pilot)
        assert form_values(pilot)["goal"] == "Predict churn from usage and plan"
        assert submit_status(pilot) == RESTORED


# The resubmit form's changes panel


async def test_changes_list_goal_and_metric(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_source_job(config_dir, platform.url)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_resubmit(pilot)
        await enter_value(pilot, "goal", "Predict churn from usage and plan")
        await enter_value(pilot, "metric", "roc_auc")

        assert shown_content(pilot, "#changes") == (
            "Changes from the original build:\n"
            "  Goal: 'Predict churn from usage' → 'Predict churn from usage and plan'\n"
            "  Metric: 'f1' → 'roc_auc'"
        )


async def test_changes_none_when_unchanged(
    platform: FakePlatform, config_dir: Path
) -> None:
    write_source_job(config_dir, platform.url)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_resubmit(pilot)

        assert shown_content(pilot, "#changes") == (
            "No changes: the same request runs again as a new version."
        )


async def test_changes_external_dataset_unknown(
    platform: FakePlatform, config_dir: Path
) -> None:
    external = job_table(
        "churn", "1", platform.url, status="completed", origin="listed"
    )
    write_jobs(config_dir, [external])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_resubmit(pilot)
        shown = shown_content(pilot, "#changes")
        await enter_value(pilot, "dataset", "upl-9")
        entered = shown_content(pilot, "#changes")

    assert shown == (
        "This build was started outside this app, so its dataset is not known "
        "here: enter one in Dataset, or the request goes without data."
    )
    assert entered == "Changes from the original build:\n  Dataset: (empty) → 'upl-9'"


async def test_resubmit_links_parent_and_child(
    platform: FakePlatform, config_dir: Path
) -> None:
    source_key = write_source_job(config_dir, platform.url)
    platform.set_build("churn", "1", status="completed")
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_resubmit(pilot)
        await enter_value(pilot, "metric", "roc_auc")
        await pilot.press("ctrl+s")
        child = await wait_for_screen(pilot, DetailScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("j")
        assert cursor_key(pilot) == source_key
        await pilot.press("enter")
        await settle(pilot)
        links = pilot.app.screen.query("#lineage-as .job-link")
        children = [str(link.render()).strip() for link in links]

        assert child.key == f"churn:2@{platform.url}"
        assert children == ["churn:2"]

    saved = {job["model_version"]: job for job in read_jobs(config_dir)}
    assert saved["2"]["parent"] == source_key
    assert saved["2"]["metric"] == "roc_auc"
