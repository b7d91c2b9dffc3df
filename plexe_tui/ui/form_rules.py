"""Checks of the build form's fields, kept apart from the widgets that show them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from plexe_tui.api import BuildRequest
from plexe_tui.store import ORIGIN_LISTED, Job

MAX_NAME_LENGTH = 64
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
MIN_GOAL_WORDS = 2
MIN_GOAL_CHARACTERS = 8
MIN_ITERATIONS = 1
MAX_ITERATIONS = 50
DATA_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet")

# The metric names of the API contract, offered as suggestions; others are allowed.
METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "roc_auc",
    "log_loss",
    "rmse",
    "mse",
    "mae",
    "r2",
)

SCHEMA_TYPES = frozenset(
    {"int", "float", "str", "bool", "integer", "number", "string", "boolean"}
)

# Field names a server may name in an error, mapped to the form's fields.
SERVER_FIELDS = {
    "model_name": "model_name",
    "name": "model_name",
    "goal": "goal",
    "intent": "goal",
    "upload_id": "dataset",
    "dataset_id": "dataset",
    "input_schema": "input_schema",
    "output_schema": "output_schema",
    "metric": "metric",
    "max_iterations": "max_iterations",
    "provider": "provider",
}

DatasetKind = Literal["file", "url", "upload", "none"]


@dataclass(frozen=True)
class Dataset:
    """The Dataset field's meaning: a local file, a URL, an upload id, or nothing."""

    kind: DatasetKind
    text: str
    path: Path | None = None


@dataclass
class FormValues:
    """The form's raw text, one attribute per field."""

    model_name: str = ""
    goal: str = ""
    dataset: str = ""
    input_schema: str = ""
    output_schema: str = ""
    metric: str = ""
    max_iterations: str = ""
    provider: str = ""
    server: str = ""
    """The server to build on: `local` or a base URL. Empty means the app's own."""


@dataclass
class CheckedForm:
    """A valid form, ready to send."""

    model_name: str
    dataset: Dataset
    request: BuildRequest


@dataclass
class FormCheck:
    """The outcome of checking the form: problems by field, or the checked form."""

    errors: dict[str, str] = field(default_factory=dict)
    form: CheckedForm | None = None


def read_dataset(text: str) -> Dataset:
    """Classify the Dataset field; a path that exists is a file, `~` is expanded."""
    text = text.strip()
    if not text:
        return Dataset("none", text)
    if re.match(r"^https?://", text, re.IGNORECASE):
        return Dataset("url", text)

    path = Path(text).expanduser()
    looks_like_path = (
        "/" in text or "\\" in text or text.lower().endswith(DATA_SUFFIXES)
    )
    if looks_like_path or path.exists():
        return Dataset("file", text, path)
    return Dataset("upload", text)


def check_name(text: str) -> str | None:
    """Return a problem with the model name, or None."""
    if not text:
        return "Required: a name for the model, e.g. churn-predictor."
    if len(text) > MAX_NAME_LENGTH:
        return f"Too long: {len(text)} characters; use at most {MAX_NAME_LENGTH}."
    if not NAME_PATTERN.match(text):
        return (
            "Use only ASCII letters (a-z, A-Z), digits, '-' and '_': no spaces, "
            "'/' or accented letters."
        )
    return None


def check_goal(text: str) -> str | None:
    """Return a problem with the goal, or None."""
    goal = text.strip()
    if not goal:
        return "Required: say what the model should predict, e.g. 'predict the churn'."
    if len(goal) < MIN_GOAL_CHARACTERS or len(goal.split()) < MIN_GOAL_WORDS:
        return (
            f"Too short to act on: say what to predict in a few words, e.g. "
            f"'predict the churn' (at least {MIN_GOAL_WORDS} words)."
        )
    return None


def check_dataset(dataset: Dataset, *, required: bool) -> str | None:
    """Return a problem with the dataset, or None."""
    if dataset.kind == "none":
        if required:
            return (
                "Required by the local engine: a CSV or JSON file, an upload id "
                "or a URL."
            )
        return None
    if dataset.kind == "file":
        assert dataset.path is not None
        if not dataset.path.exists():
            return f"File not found: {dataset.path}. Check the path."
        if dataset.path.is_dir():
            return f"{dataset.path} is a folder; choose a file inside it."
        if not dataset.path.is_file():
            return f"{dataset.path} is not a regular file; choose a CSV or JSON file."
    return None


def check_upload_server(
    dataset: Dataset,
    server: str,
    upload_servers: Mapping[str, str],
    describe: Callable[[str], str],
    gone_file: str | None = None,
) -> str | None:
    """Return a problem when the dataset is an upload id known to be on another server.

    `upload_servers` maps upload ids to the server that stores them, and
    `describe` names a server for the message. `gone_file` is the path the
    upload was made from, when it no longer exists.
    """
    if dataset.kind != "upload":
        return None
    origin = upload_servers.get(dataset.text)
    if origin is None or origin == server:
        return None
    gone = f", and its file {gone_file} is gone" if gone_file else ""
    return (
        f"{dataset.text} is an upload on {describe(origin)}, which "
        f"{describe(server)} cannot read{gone}. Press ctrl+o to choose the "
        "file, and it is uploaded there; or build on the upload's server."
    )


def parse_schema(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Read a schema field as JSON; return (schema, problem)."""
    if not text.strip():
        return None, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"Invalid JSON at column {exc.colno}: {exc.msg}."
    if not isinstance(value, dict) or not value:
        return None, 'Expected a JSON object such as {"age": "int", "city": "str"}.'
    if "properties" in value:
        return value, None  # A JSON-Schema object; the server checks its types.

    for name, kind in value.items():
        if not isinstance(kind, str) or kind.lower() not in SCHEMA_TYPES:
            allowed = ", ".join(sorted(SCHEMA_TYPES))
            return None, f"Unknown type {kind!r} for {name!r}; use one of {allowed}."
    return value, None


def parse_iterations(text: str) -> tuple[int | None, str | None]:
    """Read Max iterations; return (value, problem)."""
    if not text.strip():
        return None, None
    try:
        value = int(text)
    except ValueError:
        return None, f"Enter a whole number from {MIN_ITERATIONS} to {MAX_ITERATIONS}."
    if not MIN_ITERATIONS <= value <= MAX_ITERATIONS:
        return None, f"Enter a whole number from {MIN_ITERATIONS} to {MAX_ITERATIONS}."
    return value, None


def check_form(values: FormValues, *, dataset_required: bool) -> FormCheck:
    """Check every field; return all problems, or the form ready to send."""
    name = values.model_name.strip()
    dataset = read_dataset(values.dataset)
    input_schema, input_problem = parse_schema(values.input_schema)
    output_schema, output_problem = parse_schema(values.output_schema)
    iterations, iterations_problem = parse_iterations(values.max_iterations)

    problems = {
        "model_name": check_name(name),
        "goal": check_goal(values.goal),
        "dataset": check_dataset(dataset, required=dataset_required),
        "input_schema": input_problem,
        "output_schema": output_problem,
        "max_iterations": iterations_problem,
    }
    errors = {field_id: text for field_id, text in problems.items() if text}
    if errors:
        return FormCheck(errors=errors)

    request = BuildRequest(
        goal=values.goal.strip(),
        upload_id=dataset.text if dataset.kind in ("url", "upload") else None,
        input_schema=input_schema,
        output_schema=output_schema,
        metric=values.metric.strip() or None,
        max_iterations=iterations,
        provider=values.provider.strip() or None,
    )
    return FormCheck(form=CheckedForm(name, dataset, request))


FIELD_LABELS = {
    "model_name": "Model name",
    "goal": "Goal",
    "dataset": "Dataset",
    "input_schema": "Input schema",
    "output_schema": "Output schema",
    "metric": "Metric",
    "max_iterations": "Max iterations",
    "provider": "Provider",
}


def describe_changes(original: FormValues, current: FormValues) -> list[str]:
    """Return one line per field that differs, as `Label: old → new`."""
    lines = []
    for name, label in FIELD_LABELS.items():
        before = " ".join(getattr(original, name).split())
        after = " ".join(getattr(current, name).split())
        if before != after:
            lines.append(f"{label}: {_shown(before)} → {_shown(after)}")
    return lines


def describe_resubmit(
    original: FormValues,
    current: FormValues,
    *,
    dataset_unknown: bool,
    server_change: str | None = None,
) -> str:
    """Return the resubmit form's summary of what differs from the original build.

    `dataset_unknown` is true when the original build's dataset is not recorded,
    so an empty Dataset field does not repeat the original request.
    `server_change`, when the build goes to another server, is the first line.
    """
    lines = describe_changes(original, current)
    if server_change:
        lines.insert(0, server_change)
    text = (
        "Changes from the original build:\n  " + "\n  ".join(lines)
        if lines
        else "No changes: the same request runs again as a new version."
    )
    if not dataset_unknown or current.dataset.strip():
        return text
    note = (
        "This build was started outside this app, so its dataset is not known "
        "here: enter one in Dataset, or the request goes without data."
    )
    return note if not lines else f"{text}\n{note}"


def dataset_unknown(job: Job) -> bool:
    """Return whether a job's dataset is unknown, as for a build found in a list."""
    return job.origin == ORIGIN_LISTED and not (job.dataset or job.upload_id)


def _shown(text: str, limit: int = 60) -> str:
    if not text:
        return "(empty)"
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def suggest_name(source: str) -> str:
    """Turn a file name or goal into a URL-safe model name, e.g. `breast-cancer`."""
    words = re.findall(r"[A-Za-z0-9]+", Path(source).stem if "." in source else source)
    name = "-".join(word.lower() for word in words)[:64].strip("-")
    return name or "model"


def missing_dataset_file(job: Job) -> Path | None:
    """Return the job's dataset file when it was a local file that no longer exists."""
    if not job.dataset:
        return None
    dataset = read_dataset(job.dataset)
    if dataset.path is None or dataset.path.expanduser().exists():
        return None
    return dataset.path.expanduser()


def values_from_job(job: Job) -> FormValues:
    """Prefill the form from a past job.

    A local file that no longer exists is replaced by the upload id the server
    stored it under, so the build can run again without it.
    """
    dataset = job.dataset or ""
    if read_dataset(dataset).kind == "file" and not Path(dataset).expanduser().exists():
        dataset = job.upload_id or dataset
    return FormValues(
        model_name=job.model_name,
        goal=job.goal,
        dataset=dataset,
        input_schema=json.dumps(job.input_schema) if job.input_schema else "",
        output_schema=json.dumps(job.output_schema) if job.output_schema else "",
        metric=job.metric or "",
        max_iterations="" if job.max_iterations is None else str(job.max_iterations),
        provider=job.provider or "",
        server=job.server,
    )
