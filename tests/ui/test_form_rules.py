"""Unit tests of the build form's checks, apart from the screen that shows them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from plexe_tui.store import Job
from plexe_tui.ui.form_rules import (
    FormValues,
    check_form,
    parse_schema,
    read_dataset,
    values_from_job,
)
from plexe_tui.ui.rejection import Rejection

VALID = FormValues(model_name="churn", goal="predict the churn")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "none"),
        ("   ", "none"),
        ("https://example.com/churn.csv", "url"),
        ("HTTP://example.com/churn.csv", "url"),
        ("upl-42", "upload"),
        ("churn.csv", "file"),
        ("data/churn", "file"),
        ("~/churn.parquet", "file"),
    ],
)
def test_read_dataset_kind(text: str, kind: str) -> None:
    assert read_dataset(text).kind == kind


def test_read_dataset_expands_home() -> None:
    dataset = read_dataset("~/churn.csv")

    assert dataset.path == Path.home() / "churn.csv"


def test_read_dataset_existing_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "churn").write_text("a\n1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    assert read_dataset("churn").kind == "file"


def test_check_form_valid_request() -> None:
    values = FormValues(
        model_name=" churn ",
        goal=" predict the churn ",
        dataset="upl-42",
        input_schema='{"age": "int"}',
        output_schema='{"churned": "bool"}',
        metric=" f1 ",
        max_iterations="7",
        provider="openai/gpt-4o",
    )
    form = check_form(values, dataset_required=False).form

    assert form is not None
    assert form.model_name == "churn"
    assert form.request.to_body() == {
        "goal": "predict the churn",
        "upload_id": "upl-42",
        "input_schema": {"age": "int"},
        "output_schema": {"churned": "bool"},
        "metric": "f1",
        "max_iterations": 7,
        "provider": "openai/gpt-4o",
    }


def test_check_form_dataset_optional() -> None:
    assert check_form(VALID, dataset_required=False).errors == {}


def test_check_form_dataset_required() -> None:
    errors = check_form(VALID, dataset_required=True).errors

    assert errors == {
        "dataset": "Required by the local engine: a CSV or JSON file, an upload "
        "id or a URL."
    }


def test_check_form_collects_errors() -> None:
    values = FormValues(model_name="a b", goal="churn", max_iterations="99")
    result = check_form(values, dataset_required=False)

    assert result.form is None
    assert set(result.errors) == {"model_name", "goal", "max_iterations"}


def test_parse_schema_json_schema() -> None:
    text = '{"properties": {"age": {"type": "integer"}}}'

    assert parse_schema(text) == ({"properties": {"age": {"type": "integer"}}}, None)


def test_parse_schema_type_not_text() -> None:
    _, problem = parse_schema('{"age": 3}')

    assert problem is not None
    assert problem.startswith("Unknown type 3 for 'age'")


def test_values_from_job_missing_file() -> None:
    job = Job(
        model_name="churn",
        model_version="2",
        server="http://127.0.0.1:1",
        goal="predict the churn",
        dataset="/no/such/folder/churn.csv",
        upload_id="upl-7",
        output_schema={"churned": "bool"},
        max_iterations=4,
    )
    values = values_from_job(job)

    assert values.dataset == "upl-7"
    assert values.output_schema == '{"churned": "bool"}'
    assert values.max_iterations == "4"
    assert values.metric == ""


def test_rejection_data_error_follows_dataset() -> None:
    sent = FormValues(model_name="churn", goal="predict the churn", dataset="a.csv")
    rejection = Rejection(sent, "rejected", {"goal": "No such column."})
    edited = dataclasses.replace(sent, dataset="b.csv")

    assert rejection.errors_for(sent) == {"goal": "No such column."}
    assert rejection.errors_for(edited) == {}
    assert not rejection.still_applies(edited)


def test_rejection_name_error_ignores_goal() -> None:
    sent = FormValues(model_name="churn", goal="predict the churn")
    rejection = Rejection(sent, "rejected", {"model_name": "Taken."})
    edited = dataclasses.replace(sent, goal="predict the churn rate")

    assert rejection.errors_for(edited) == {"model_name": "Taken."}
    assert rejection.still_applies(edited)


def test_rejection_without_field_ends_on_any_edit() -> None:
    sent = FormValues(model_name="churn", goal="predict the churn")
    rejection = Rejection(sent, "The build was not started: invalid.")

    assert rejection.still_applies(sent)
    assert not rejection.still_applies(dataclasses.replace(sent, provider="x/y"))


def test_rejection_ends_on_another_server() -> None:
    sent = FormValues(model_name="churn", goal="predict the churn", server="local")
    rejection = Rejection(sent, "rejected", {"model_name": "Taken."})
    elsewhere = dataclasses.replace(sent, server="http://127.0.0.1:8765")

    assert rejection.errors_for(elsewhere) == {}
    assert not rejection.still_applies(elsewhere)
