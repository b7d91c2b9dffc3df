"""Pilot tests of the build form: field checks, upload, submission and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, TextArea

from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.screens.build import BuildScreen
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from plexe_tui.ui.widgets.schema_editor import SchemaEditor
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    enter_value,
    field_error,
    job_table,
    make_app,
    paste_into,
    read_jobs,
    settle,
    static_text,
    type_into,
    wait_until,
    widget_text,
    write_jobs,
)

GOAL = "Predict the diagnosis [malignant or benign] from the cell measurements"
OUTPUT_SCHEMA = '{"target": "int"}'

ITERATIONS_MESSAGE = "Enter a whole number from 1 to 50."


async def open_form(pilot: Pilot[PlexeApp]) -> BuildScreen:
    """Press `n` on the jobs screen and return the build form."""
    await pilot.press("n")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BuildScreen)
    return screen


async def fill_valid_form(pilot: Pilot[PlexeApp], dataset: Path) -> None:
    """Enter a complete, valid build request into the open form."""
    await type_into(pilot, "#model_name", "cancer")
    await paste_into(pilot, "#goal", GOAL)
    await paste_into(pilot, "#dataset", str(dataset))
    await paste_into(pilot, "#output_schema", OUTPUT_SCHEMA)
    await paste_into(pilot, "#metric", "roc_auc")
    await type_into(pilot, "#max_iterations", "5")
    await paste_into(pilot, "#provider", "openai/gpt-4o-mini")


async def click_submit(pilot: Pilot[PlexeApp]) -> None:
    """Scroll the Submit button into view and click it."""
    button = pilot.app.screen.query_one("#submit", Button)
    button.scroll_visible(animate=False)
    await pilot.pause()
    await pilot.click("#submit")


def form_values(pilot: Pilot[PlexeApp]) -> dict[str, str]:
    """Return the text of every field of the open form."""
    screen = pilot.app.screen
    values = {input_.id or "": input_.value for input_ in screen.query(Input)}
    values["goal"] = screen.query_one("#goal", TextArea).text
    return values


@pytest.mark.parametrize(
    ("field_id", "typed", "expected"),
    [
        (
            "model_name",
            "my model",
            "Use only ASCII letters (a-z, A-Z), digits, '-' and '_'",
        ),
        (
            "model_name",
            "team/churn",
            "Use only ASCII letters (a-z, A-Z), digits, '-' and '_'",
        ),
        ("dataset", "missing.csv", "File not found: missing.csv. Check the path."),
        ("input_schema", "{age: int}", "Invalid JSON at column 2"),
        ("input_schema", "[1, 2]", "Expected a JSON object"),
        ("output_schema", '{"y": "decimal"}', "Unknown type 'decimal' for 'y'"),
        ("max_iterations", "0", ITERATIONS_MESSAGE),
        ("max_iterations", "51", ITERATIONS_MESSAGE),
        ("max_iterations", "-3", ITERATIONS_MESSAGE),
        ("max_iterations", "+", ITERATIONS_MESSAGE),
    ],
)
async def test_field_shows_error(
    platform: FakePlatform,
    config_dir: Path,
    field_id: str,
    typed: str,
    expected: str,
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await paste_into(pilot, f"#{field_id}", typed)
        message = field_error(pilot, field_id)

        assert message is not None
        assert message.startswith(expected)


async def test_error_only_on_touched_field(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await type_into(pilot, "#max_iterations", "51")

        assert field_error(pilot, "max_iterations") == ITERATIONS_MESSAGE
        assert field_error(pilot, "model_name") is None
        assert field_error(pilot, "goal") is None


async def test_error_clears_when_fixed(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await paste_into(pilot, "#model_name", "my model")
        assert field_error(pilot, "model_name") is not None

        await type_into(pilot, "#model_name", "my-model")

        assert field_error(pilot, "model_name") is None


async def test_dataset_folder_rejected(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await paste_into(pilot, "#dataset", str(tmp_path))

        assert field_error(pilot, "dataset") == (
            f"{tmp_path} is a folder; choose a file inside it."
        )


async def test_iterations_reject_letters(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_form(pilot)
        await type_into(pilot, "#max_iterations", "ten")

        assert screen.query_one("#max_iterations", Input).value == ""
        assert field_error(pilot, "max_iterations") is None


async def test_ctrl_s_marks_required_fields(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert field_error(pilot, "model_name") == (
            "Required: a name for the model, e.g. churn-predictor."
        )
        assert field_error(pilot, "goal") == (
            "Required: say what the model should predict, e.g. 'predict the churn'."
        )
        assert field_error(pilot, "dataset") is None
        assert static_text(pilot, "#submit-status") == (
            "Fix the fields marked in red (Model name, Goal), then submit again."
        )
        assert pilot.app.focused is pilot.app.screen.query_one("#model_name")
        assert [r.method for r in platform.requests] == ["GET"]


async def test_submit_button_disabled_until_valid(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await type_into(pilot, "#model_name", "cancer")
        await click_submit(pilot)
        await settle(pilot)

        assert pilot.app.screen.query_one("#submit", Button).disabled
        assert field_error(pilot, "model_name") is None
        assert isinstance(pilot.app.screen, BuildScreen)
        assert platform.count("POST", "/models/cancer") == 0


async def test_submit_uploads_and_builds(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await fill_valid_form(pilot, dataset_file)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: isinstance(pilot.app.screen, DetailScreen),
            "the detail screen",
        )
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen)
        shown_key = screen.key

    ticket = platform.requests_to("POST", "/uploads")[0].json()
    assert ticket == {"filename": "breast_cancer.csv", "content_type": "text/csv"}

    puts = platform.requests_to("PUT", "/storage/upl-1")
    assert len(puts) == 1
    assert puts[0].query == {"X-Amz-Signature": "fake-signature"}
    assert puts[0].body == dataset_file.read_bytes()
    assert "x-api-key" not in puts[0].headers
    assert "authorization" not in puts[0].headers
    assert puts[0].headers["content-type"] == "text/csv"

    confirm = platform.requests_to("POST", "/uploads/status")[0].json()
    assert confirm["upload_id"] == "upl-1"

    body = platform.requests_to("POST", "/models/cancer")[0].json()
    assert body == {
        "goal": GOAL,
        "upload_id": "upl-1",
        "output_schema": {"target": "int"},
        "metric": "roc_auc",
        "max_iterations": 5,
        "provider": "openai/gpt-4o-mini",
    }

    assert shown_key == f"cancer:1@{platform.url}"
    saved = read_jobs(config_dir)
    assert len(saved) == 1
    assert saved[0]["model_name"] == "cancer"
    assert saved[0]["model_version"] == "1"
    assert saved[0]["upload_id"] == "upl-1"
    assert saved[0]["dataset"] == str(dataset_file)
    assert saved[0]["goal"] == GOAL
    assert "parent" not in saved[0]


async def test_server_field_error_shown(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    message = "The goal names no column of the dataset; name the column to predict."
    platform.respond(
        "POST",
        "/models/cancer",
        status=422,
        json={"error": {"code": "invalid", "message": message, "field": "goal"}},
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await fill_valid_form(pilot, dataset_file)
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(pilot.app.screen, BuildScreen)
        assert field_error(pilot, "goal") == message
        assert static_text(pilot, "#submit-status") == (
            "The server rejected the build; see the field in red."
        )
        assert not pilot.app.screen.query_one("#submit", Button).disabled

    assert not (config_dir / "jobs.toml").exists()


async def test_server_detail_error_shown(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.respond(
        "POST",
        "/models/churn",
        status=422,
        json={
            "detail": [
                {
                    "type": "value_error",
                    "loc": ["body", "upload_id"],
                    "msg": "Upload upl-404 not found",
                }
            ]
        },
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await type_into(pilot, "#model_name", "churn")
        await paste_into(pilot, "#goal", "Predict churn")
        await paste_into(pilot, "#dataset", "upl-404")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert field_error(pilot, "dataset") == ("upload_id: Upload upl-404 not found")
        assert field_error(pilot, "goal") is None


def reject_field(platform: FakePlatform, field: str, message: str) -> None:
    """Make the fake platform reject the build of `cancer` with a field error."""
    platform.respond(
        "POST",
        "/models/cancer",
        status=422,
        json={"error": {"code": "invalid", "message": message, "field": field}},
    )


async def submit_rejected(pilot: Pilot[PlexeApp], dataset: Path) -> None:
    """Fill a valid form, submit it, and wait for the server's response."""
    await open_form(pilot)
    await fill_valid_form(pilot, dataset)
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_server_error_cleared_by_dataset_change(
    platform: FakePlatform, config_dir: Path, dataset_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("size,target\n1,0\n2,1\n", encoding="utf-8")
    reject_field(platform, "input_schema", "No column is left to predict from.")
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await submit_rejected(pilot, dataset_file)
        assert field_error(pilot, "input_schema") is not None

        await enter_value(pilot, "dataset", str(other))

        assert field_error(pilot, "input_schema") is None
        assert static_text(pilot, "#submit-status") == ""


async def test_server_error_cleared_by_table_edit(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    reject_field(platform, "goal", "The goal names no column of the dataset.")
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await submit_rejected(pilot, dataset_file)
        assert field_error(pilot, "goal") is not None

        editor = pilot.app.screen.query_one("#schema", SchemaEditor)
        editor.focus()
        await pilot.press("x")

        assert field_error(pilot, "goal") is None
        assert static_text(pilot, "#submit-status") == ""


async def test_name_error_stays_after_goal_edit(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    message = "The name cancer is reserved; choose another."
    reject_field(platform, "model_name", message)
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await submit_rejected(pilot, dataset_file)
        await enter_value(pilot, "goal", "Predict the diagnosis of each tumour")

        assert field_error(pilot, "model_name") == message
        assert static_text(pilot, "#submit-status") == (
            "The server rejected the build; see the field in red."
        )

        await enter_value(pilot, "model_name", "cancer-2")

        assert field_error(pilot, "model_name") is None
        assert static_text(pilot, "#submit-status") == ""


async def test_request_error_cleared_by_edit(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    platform.respond(
        "POST",
        "/models/cancer",
        status=400,
        json={"error": {"code": "invalid", "message": "The request is invalid."}},
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await submit_rejected(pilot, dataset_file)
        assert static_text(pilot, "#submit-status").startswith(
            "The build was not started:"
        )

        await enter_value(pilot, "max_iterations", "6")

        assert static_text(pilot, "#submit-status") == ""


async def test_server_error_keeps_values(
    platform: FakePlatform, config_dir: Path, dataset_file: Path
) -> None:
    platform.respond(
        "POST",
        "/models/cancer",
        status=500,
        json={"error": {"code": "internal", "message": "Build queue unavailable."}},
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await fill_valid_form(pilot, dataset_file)
        typed = form_values(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(pilot.app.screen, BuildScreen)
        assert static_text(pilot, "#submit-status") == (
            "The build was not started: Server error 500: Build queue unavailable."
        )
        assert form_values(pilot) == typed
        assert typed["goal"] == GOAL
        assert typed["dataset"] == str(dataset_file)


async def test_escape_on_untouched_form_leaves(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("escape")
        await pilot.pause()

        assert isinstance(pilot.app.screen, JobsScreen)


async def test_escape_asks_before_discarding(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await type_into(pilot, "#model_name", "draft")
        await pilot.press("escape")
        await pilot.pause()

        assert isinstance(pilot.app.screen, ChoiceScreen)

        await pilot.click("#discard")
        await pilot.pause()

        assert isinstance(pilot.app.screen, JobsScreen)
        assert platform.count("POST", "/models/draft") == 0
        assert app.drafts.load("new") is None


async def test_form_buttons_show_labels(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_form(pilot)
        submit = screen.query_one("#submit", Button)
        cancel = screen.query_one("#cancel", Button)

        assert "Submit" in widget_text(submit)
        assert "Cancel" in widget_text(cancel)


async def test_goal_text_aligned_with_fields(
    platform: FakePlatform, config_dir: Path
) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = await open_form(pilot)
        goal = screen.query_one("#goal", TextArea)
        name = screen.query_one("#model_name", Input)

        assert goal.content_region.x == name.content_region.x


async def test_cancel_button_returns(platform: FakePlatform, config_dir: Path) -> None:
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        button = pilot.app.screen.query_one("#cancel", Button)
        button.scroll_visible(animate=False)
        await pilot.pause()
        await pilot.click("#cancel")
        await pilot.pause()

        assert isinstance(pilot.app.screen, JobsScreen)


async def test_resubmit_sets_parent(platform: FakePlatform, config_dir: Path) -> None:
    source = job_table(
        "churn",
        "1",
        platform.url,
        status="completed",
        goal="Predict churn from [usage] columns",
        dataset="/no/such/folder/churn.csv",
        upload_id="upl-7",
        metric="f1",
        max_iterations=3,
    )
    write_jobs(config_dir, [source])
    platform.set_build("churn", "1", status="completed")

    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert form_values(pilot)["dataset"] == "upl-7"

        await click_submit(pilot)
        await wait_until(
            pilot,
            lambda: isinstance(pilot.app.screen, DetailScreen),
            "the detail screen",
        )
        await settle(pilot)

    body = platform.requests_to("POST", "/models/churn")[0].json()
    assert body == {
        "goal": "Predict churn from [usage] columns",
        "upload_id": "upl-7",
        "metric": "f1",
        "max_iterations": 3,
    }
    assert platform.count("POST", "/uploads") == 0

    saved = {job["model_version"]: job for job in read_jobs(config_dir)}
    assert set(saved) == {"1", "2"}
    assert saved["2"]["parent"] == f"churn:1@{platform.url}"
    assert "parent" not in saved["1"]
