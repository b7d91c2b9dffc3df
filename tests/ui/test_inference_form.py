"""Calling a finished model from its detail screen: the form and a batch of a file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar

from plexe_tui.ui.app import PlexeApp
from plexe_tui.ui.batch import FIRST_CHUNK_ROWS
from plexe_tui.ui.screens.confirm import ChoiceScreen
from plexe_tui.ui.screens.detail import DetailScreen
from plexe_tui.ui.screens.jobs import JobsScreen
from plexe_tui.ui.screens.pickers import DataFileTree, FilePickerScreen
from plexe_tui.ui.widgets.inference_form import FeatureRow, InferenceForm
from tests.engine.engine_harness import EngineProcess
from tests.fake_platform import FakePlatform
from tests.ui.helpers import (
    TERMINAL_SIZE,
    active_actions,
    job_table,
    make_app,
    settle,
    static_text,
    toasts,
    wait_for_screen,
    wait_until,
    widget_text,
    write_jobs,
)

SPECIES = ("Adelie", "Chinstrap", "Gentoo")
FAKE_SCHEMA = {"age": "int", "plan": "str", "score": "float", "active": "bool"}
# Seconds a scripted response is held: longer than any test waits for it.
HELD_SECONDS = 60.0


def penguins_job(
    engine: EngineProcess, model: tuple[str, str], dataset: Path | str
) -> dict[str, Any]:
    return job_table(
        *model,
        engine.base_url,
        status="completed",
        goal="predict the species",
        dataset=str(dataset),
        metric_name="log_loss",
        metric_value=0.1,
    )


def fake_job(server: str, **fields: Any) -> dict[str, Any]:
    table = job_table("churn", "4", server, status="completed")
    table.update(fields)
    return table


def script_model(platform: FakePlatform, schema: dict[str, Any] | None) -> None:
    """Script the model record with this input schema, or a 404 for None.

    The build itself exists and has completed, so inference works.
    """
    platform.set_build("churn", "4", status="completed")
    if schema is None:
        platform.respond(
            "GET", "/models/churn/4", status=404, json={"detail": "no"}, times=None
        )
    else:
        platform.respond(
            "GET", "/models/churn/4", json={"input_schema": schema}, times=None
        )


async def open_form(pilot: Pilot[PlexeApp]) -> InferenceForm:
    """Open the first job and wait until its form lists the features."""
    await settle(pilot)
    await pilot.press("enter")
    screen = await wait_for_screen(pilot, DetailScreen)
    form = screen.query_one(InferenceForm)
    await wait_until(pilot, lambda: form.display, "the inference form")
    return form


def field_values(form: InferenceForm) -> dict[str, str]:
    return {row.feature.name: row.input.value for row in form.rows()}


def field_errors(form: InferenceForm) -> dict[str, str]:
    """Return the messages shown beside fields, by feature name."""
    errors = {}
    for row in form.rows():
        message = row.query_one(".feature-error")
        if message.display:
            errors[row.feature.name] = str(message.render())
    return errors


def row_named(form: InferenceForm, name: str) -> FeatureRow:
    return next(row for row in form.rows() if row.feature.name == name)


async def set_field(
    pilot: Pilot[PlexeApp], form: InferenceForm, name: str, text: str
) -> None:
    row_named(form, name).input.value = text
    await pilot.pause()


# The form, on the real engine


async def test_form_prefilled_predicts(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    penguins_file: Path,
    config_dir: Path,
) -> None:
    write_jobs(config_dir, [penguins_job(model_engine, penguins_model, penguins_file)])
    app = make_app(model_engine.base_url, config_dir, api_key=None)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        values = field_values(form)
        note = static_text(pilot, "#inference-note")
        description = static_text(pilot, "#description")

        await pilot.press("i")
        focused_first = app.focused is form.rows()[0].input
        await pilot.press("enter")
        await wait_until(pilot, lambda: form.output is not None, "the prediction")
        result = static_text(pilot, "#inference-result")

    assert values == {
        "island": "Torgersen",
        "bill_length_mm": "39.1",
        "bill_depth_mm": "18.7",
        "flipper_length_mm": "181.0",
        "body_mass_g": "3750.0",
        "sex": "male",
        "year": "2007",
    }
    assert f"Filled from the first row of {penguins_file}." in " ".join(note.split())
    assert "Approaches tried, scored by cross-validation" in description
    assert "baseline" in description
    assert focused_first
    assert form.output["species"] in SPECIES
    assert result.splitlines()[0].split() in [["species", name] for name in SPECIES]


async def test_form_checks_types(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    penguins_file: Path,
    config_dir: Path,
) -> None:
    write_jobs(config_dir, [penguins_job(model_engine, penguins_model, penguins_file)])
    app = make_app(model_engine.base_url, config_dir, api_key=None)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        await set_field(pilot, form, "bill_length_mm", "long")
        await set_field(pilot, form, "year", "2007.5")
        errors = field_errors(form)

        form.submit()
        await settle(pilot)
        status = static_text(pilot, "#inference-status").strip()
        focused_bill = app.focused is row_named(form, "bill_length_mm").input

        await set_field(pilot, form, "bill_length_mm", "41")
        await set_field(pilot, form, "year", "")
        errors_after = field_errors(form)

    assert errors == {
        "bill_length_mm": "must be a number, such as 3.5",
        "year": "must be a whole number, such as 42",
    }
    assert status == "Fix the 2 fields marked in red, then predict again."
    assert focused_bill
    assert form.output is None
    assert errors_after == {}


async def test_form_empty_without_dataset(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    tmp_path: Path,
    config_dir: Path,
) -> None:
    """A dataset file that is gone leaves the fields empty; empty sends null."""
    missing = tmp_path / "gone.csv"
    write_jobs(config_dir, [penguins_job(model_engine, penguins_model, missing)])
    app = make_app(model_engine.base_url, config_dir, api_key=None)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        values = field_values(form)
        note = static_text(pilot, "#inference-note")
        form.submit()
        await wait_until(pilot, lambda: form.output is not None, "the prediction")

    assert set(values.values()) == {""}
    assert "Filled from" not in note
    assert form.output["species"] in SPECIES


# The form, against faults of the fake platform


async def test_form_sends_schema_keys_only(
    platform: FakePlatform, config_dir: Path
) -> None:
    """The server's schema wins over the job's, and only its keys are sent."""
    script_model(platform, {"age": "int", "plan": "str"})
    job = fake_job(platform.url, input_schema={"age": "int", "plan": "str", "x": "int"})
    write_jobs(config_dir, [job])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        names = [row.feature.name for row in form.rows()]
        await set_field(pilot, form, "age", "40")
        await set_field(pilot, form, "plan", "pro [annual]")
        form.submit()
        await wait_until(pilot, lambda: form.output is not None, "the prediction")
        result = static_text(pilot, "#inference-result")

    (sent,) = platform.requests_to("POST", "/models/churn/4/infer")
    assert names == ["age", "plan"]
    assert sent.json() == {"age": 40, "plan": "pro [annual]"}
    assert "prediction" in result
    assert "probability" in result


async def test_form_schema_from_job(platform: FakePlatform, config_dir: Path) -> None:
    """Without a model record the job's own input schema gives the fields."""
    script_model(platform, None)
    write_jobs(config_dir, [fake_job(platform.url, input_schema=FAKE_SCHEMA)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        kinds = [(row.feature.name, row.feature.type) for row in form.rows()]

    assert kinds == list(FAKE_SCHEMA.items())


async def test_form_without_schema(platform: FakePlatform, config_dir: Path) -> None:
    script_model(platform, None)
    write_jobs(config_dir, [fake_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        rows = form.rows()
        note = static_text(pilot, "#inference-note")
        actions = active_actions(app.screen)

    assert rows == []
    assert "The server sent no input schema for this model" in " ".join(note.split())
    assert "predict" not in actions


async def test_form_422_beside_field(platform: FakePlatform, config_dir: Path) -> None:
    script_model(platform, FAKE_SCHEMA)
    platform.respond(
        "POST",
        "/models/churn/4/infer",
        status=422,
        json={
            "error": {
                "code": "invalid_feature_value",
                "message": "Feature 'plan' must be one of basic, pro, not 'gold'.",
                "field": "plan",
            }
        },
    )
    write_jobs(config_dir, [fake_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        await set_field(pilot, form, "plan", "gold")
        form.submit()
        await wait_until(
            pilot, lambda: "plan" in field_errors(form), "the error beside plan"
        )
        errors = field_errors(form)
        status = static_text(pilot, "#inference-status").strip()
        focused_plan = app.focused is row_named(form, "plan").input

    assert errors == {"plan": "Feature 'plan' must be one of basic, pro, not 'gold'."}
    assert status == "The server rejected plan."
    assert focused_plan


async def test_form_other_error_below(platform: FakePlatform, config_dir: Path) -> None:
    script_model(platform, FAKE_SCHEMA)
    platform.set_build("churn", "4", status="failed")
    write_jobs(config_dir, [fake_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        form.submit()
        await settle(pilot)
        status = static_text(pilot, "#inference-status")
        errors = field_errors(form)

    assert errors == {}
    assert " ".join(status.split()) == (
        "Prediction failed: Model churn:4 is failed; inference needs a completed build."
    )


async def test_form_hidden_while_building(
    platform: FakePlatform, config_dir: Path
) -> None:
    platform.set_build("churn", "4", status="building")
    write_jobs(config_dir, [fake_job(platform.url, status="building")])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = await wait_for_screen(pilot, DetailScreen)
        shown = screen.query_one(InferenceForm).display
        actions = active_actions(screen)

    assert not shown
    assert "predict" not in actions
    assert "predict_file" not in actions
    assert platform.requests_to("GET", "/models/churn/4") == []


async def test_escape_leaves_field_first(
    platform: FakePlatform, config_dir: Path
) -> None:
    script_model(platform, FAKE_SCHEMA)
    write_jobs(config_dir, [fake_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await open_form(pilot)
        await pilot.press("i", "4", "2")
        await pilot.press("escape")
        screen_after_one = app.screen
        value = row_named(form, "age").input.value
        await pilot.press("escape")
        screen_after_two = app.screen

    assert isinstance(screen_after_one, DetailScreen)
    assert value == "42"
    assert isinstance(screen_after_two, JobsScreen)


# Predicting a file from the detail screen


def write_rows(path: Path, count: int) -> Path:
    lines = ["age,plan,score,active"]
    lines += [f"{n},basic,{n / 4},{n % 2}" for n in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def pick(pilot: Pilot[PlexeApp], path: Path) -> None:
    """Press b and choose `path` in the file picker.

    The picker's tree keeps a loader worker that its dismissal cancels, so the
    tests wait on conditions afterwards, not with `settle`.
    """
    await pilot.press("b")
    # The picker opens in the working folder, which may hold no CSV file.
    await wait_until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, FilePickerScreen)
            and pilot.app.screen.query_one(DataFileTree).is_mounted
        ),
        "the file picker",
    )
    picker = pilot.app.screen
    assert isinstance(picker, FilePickerScreen)
    picker.dismiss(path)
    await pilot.pause()


def batch_status(pilot: Pilot[PlexeApp]) -> str:
    return " ".join(static_text(pilot, "#batch-status").split())


async def test_batch_on_engine(
    model_engine: EngineProcess,
    penguins_model: tuple[str, str],
    penguins_file: Path,
    config_dir: Path,
) -> None:
    write_jobs(config_dir, [penguins_job(model_engine, penguins_model, penguins_file)])
    app = make_app(model_engine.base_url, config_dir, api_key=None)
    output = penguins_file.with_name("penguins.predictions.csv")
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await pick(pilot, penguins_file)
        await wait_until(
            pilot, lambda: "Written to" in batch_status(pilot), "the end of the batch"
        )
        status = batch_status(pilot)
        bar = app.screen.query_one("#batch-progress", ProgressBar)
        shown = [message for _, message, _ in toasts(pilot)]

    with output.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert status == (f"Predicted 344 rows of penguins.csv. Written to {output}.")
    assert bar.progress == bar.total == 344
    assert shown == [f"Predictions for penguins.csv are in {output}."]
    assert len(rows) == 344


async def test_batch_progress_then_stop(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    script_model(platform, FAKE_SCHEMA)
    first = [{"prediction": 1}] * FIRST_CHUNK_ROWS
    platform.respond("POST", "/models/churn/4/predictions", json=first)
    platform.respond("POST", "/models/churn/4/predictions", delay=HELD_SECONDS)
    source = write_rows(tmp_path / "rows.csv", 120)
    output = tmp_path / "rows.predictions.csv"
    write_jobs(config_dir, [fake_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        screen = app.screen
        await pick(pilot, source)
        await wait_until(
            pilot,
            lambda: platform.count("POST", "/models/churn/4/predictions") == 2,
            "the second batch request",
        )
        running = batch_status(pilot)
        bar = screen.query_one("#batch-progress", ProgressBar)
        progress = (bar.progress, bar.total)
        actions = active_actions(screen)

        await pilot.press("x")
        await wait_until(
            pilot, lambda: "Stopped" in batch_status(pilot), "the stopped batch"
        )
        stopped = batch_status(pilot)
        actions_after = active_actions(screen)

    assert running == ("Predicting rows.csv: 50 of 120 rows. Press x to stop.")
    assert progress == (50, 120)
    assert "stop_batch" in actions
    assert "predict_file" not in actions
    assert stopped == (
        f"Stopped predicting rows.csv. The first 50 of 120 rows' predictions are "
        f"in {output}."
    )
    assert "stop_batch" not in actions_after
    assert "predict_file" in actions_after
    assert len(output.read_text(encoding="utf-8").splitlines()) == 1 + 50


async def test_batch_escape_asks(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    script_model(platform, FAKE_SCHEMA)
    platform.respond("POST", "/models/churn/4/predictions", delay=HELD_SECONDS)
    source = write_rows(tmp_path / "rows.csv", 10)
    write_jobs(config_dir, [fake_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await pick(pilot, source)
        await wait_until(
            pilot,
            lambda: platform.count("POST", "/models/churn/4/predictions") == 1,
            "the batch request",
        )
        await pilot.press("escape")
        await settle_question(pilot)
        await pilot.click("#stay")
        await pilot.pause()
        still_running = detail.predictions.batch_running
        on_detail = app.screen is detail

        await pilot.press("escape")
        await settle_question(pilot)
        await pilot.click("#leave")
        await pilot.pause()
        screen_after = app.screen

    assert still_running
    assert on_detail
    assert isinstance(screen_after, JobsScreen)


async def settle_question(pilot: Pilot[PlexeApp]) -> None:
    await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen), "the question"
    )


async def test_batch_unusable_file_message(
    platform: FakePlatform, config_dir: Path, tmp_path: Path
) -> None:
    script_model(platform, FAKE_SCHEMA)
    source = tmp_path / "short.csv"
    source.write_text("age,plan\n1,basic\n", encoding="utf-8")
    write_jobs(config_dir, [fake_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await pick(pilot, source)
        await wait_until(
            pilot, lambda: "No output" in batch_status(pilot), "the batch message"
        )
        status = batch_status(pilot)
        label = widget_text(app.screen.query_one("#batch-label"))

    assert status == (
        "short.csv has no column for 'score', 'active'. The model needs every "
        "feature of its input schema: 'age', 'plan', 'score', 'active'. No output "
        "file was written."
    )
    assert label.strip() == "Predict a file (b)"


def test_input_ids_safe_for_any_name() -> None:
    """Field ids come from positions, so feature names with spaces or brackets work."""
    from plexe_tui.ui.inference import Feature

    row = FeatureRow(Feature("mean radius [mm]", "float"), 3, "")

    assert list(row.compose())[2].id == "feature-3"
    assert isinstance(list(row.compose())[2], Input)


async def test_invalid_field_hides_old_answer(
    platform: FakePlatform, config_dir: Path
) -> None:
    """A prediction next to an error would read as the one for the new values."""
    script_model(platform, FAKE_SCHEMA)
    write_jobs(config_dir, [fake_job(platform.url)])
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=(100, 24)) as pilot:
        form = await open_form(pilot)
        await set_field(pilot, form, "age", "40")
        form.submit()
        result = form.query_one("#inference-result")
        await wait_until(pilot, lambda: result.display, "the first answer")

        await set_field(pilot, form, "age", "abc")
        scroller = app.screen.query_one("#detail")
        scroller.scroll_end(animate=False)
        await pilot.pause()
        form.submit()
        await settle(pilot)
        status = static_text(pilot, "#inference-status").strip()
        field = row_named(form, "age").input
        field_shown = scroller.region.contains_region(field.region)
        focused = app.focused

    assert status == "Fix the field marked in red, then predict again."
    assert not result.display
    assert form.output is None
    assert focused is field
    assert field_shown


async def test_batch_picker_lists_csv_only(
    platform: FakePlatform,
    config_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch reads CSV only, and the rows to predict are not the training file."""
    work = tmp_path / "work"
    (work / "archive").mkdir(parents=True)
    (work / "new_rows.csv").write_text("age\n3\n", encoding="utf-8")
    (work / "rows.jsonl").write_text('{"age": 3}\n', encoding="utf-8")
    training = tmp_path / "training"
    training.mkdir()
    (training / "train.csv").write_text("age,y\n3,1\n", encoding="utf-8")
    monkeypatch.chdir(work)
    script_model(platform, FAKE_SCHEMA)
    write_jobs(
        config_dir, [fake_job(platform.url, dataset=str(training / "train.csv"))]
    )
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("b")
        await wait_until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, FilePickerScreen)
                and bool(pilot.app.screen.query_one(DataFileTree).root.children)
            ),
            "the file picker's folder",
        )
        picker = pilot.app.screen
        assert isinstance(picker, FilePickerScreen)
        tree = picker.query_one(DataFileTree)
        listed = [str(node.label) for node in tree.root.children]

    assert picker.start == work
    assert listed == ["archive", "new_rows.csv"]
