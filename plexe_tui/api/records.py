"""Typed records for requests and responses, read leniently from every known shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plexe_tui.api.errors import ProtocolError
from plexe_tui.api.status import normalize_status


@dataclass(frozen=True)
class BuildRequest:
    """The body of `POST /models/{model_name}`; None fields are left out."""

    goal: str
    upload_id: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    metric: str | None = None
    max_iterations: int | None = None
    provider: str | None = None

    def to_body(self) -> dict[str, Any]:
        """Return the canonical JSON body."""
        body: dict[str, Any] = {"goal": self.goal}
        optional = {
            "upload_id": self.upload_id,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
            "metric": self.metric,
            "max_iterations": self.max_iterations,
            "provider": self.provider,
        }
        body.update(
            {key: value for key, value in optional.items() if value is not None}
        )
        return body


@dataclass(frozen=True)
class BuildRef:
    """The model name and version a server assigned to a new build."""

    model_name: str
    model_version: str
    status: str


@dataclass(frozen=True)
class BuildStatus:
    """One build's state, from a status call or an item of the model list."""

    model_name: str
    model_version: str
    status: str
    build_progress: float | None = None
    phase: str | None = None
    iteration: int | None = None
    max_iterations: int | None = None
    metric_name: str | None = None
    metric_value: float | None = None
    best_metric_name: str | None = None
    """The best cross-validated metric so far, while a build runs."""
    best_metric_value: float | None = None
    error: str | None = None
    goal: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


LIST_PAGE_LIMIT = 100
"""The maximum number of models requested in one page of `GET /models`."""


@dataclass(frozen=True)
class ModelPage:
    """One page of `GET /models`."""

    items: list[BuildStatus] = field(default_factory=list)
    total: int | None = None
    has_more: bool = False


@dataclass(frozen=True)
class UploadInfo:
    """One upload on the server, from `GET /uploads`."""

    upload_id: str
    filename: str | None = None
    status: str | None = None
    size_bytes: int | None = None
    created_at: str | None = None


def split_model_id(model_id: str) -> tuple[str, str | None]:
    """Split the platform's `name:version` form; a bare id has no version."""
    name, sep, version = model_id.rpartition(":")
    if not sep:
        return model_id, None
    return name, version


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def _whole(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _name_and_version(
    body: dict[str, Any], name: str | None, version: str | None
) -> tuple[str, str]:
    """Find the name and version in any of the shapes servers send."""
    found_name = _text(body.get("model_name")) or _text(body.get("name"))
    found_version = _text(body.get("model_version")) or _text(body.get("version"))

    for key in ("model_id", "job_id"):
        raw = _text(body.get(key))
        if raw is None or (found_name and found_version):
            continue
        id_name, id_version = split_model_id(raw)
        if ":" in raw:
            found_name = found_name or id_name
            found_version = found_version or id_version
        elif key == "job_id":
            # NOTE: a bare job id is the only handle some platform versions send;
            # it is used as the version so that status calls have a path to poll.
            found_version = found_version or raw

    final_name = found_name or name
    final_version = found_version or version
    if not final_name or not final_version:
        raise ProtocolError(
            "The server's response names no model version "
            f"(expected model_version, model_id or job_id): {sorted(body)}"
        )
    return final_name, final_version


def _metric(body: dict[str, Any]) -> tuple[str | None, float | None]:
    """Read the metric from `result`, top-level fields or a `metrics` mapping."""
    result = body.get("result")
    if isinstance(result, dict) and "metric_value" in result:
        return _text(result.get("metric_name")), _number(result.get("metric_value"))

    if "metric_value" in body:
        name = _text(body.get("metric_name")) or _text(body.get("metric"))
        return name, _number(body.get("metric_value"))

    metrics = body.get("metrics") or body.get("performance")
    if isinstance(metrics, dict) and metrics:
        name, value = next(iter(metrics.items()))
        return str(name), _number(value)
    return None, None


def _error_text(value: Any) -> str | None:
    if isinstance(value, dict):
        return _text(value.get("message")) or _text(value.get("detail")) or str(value)
    return _text(value)


def parse_ref(body: Any, name: str) -> BuildRef:
    """Read the response to a build request."""
    if not isinstance(body, dict):
        raise ProtocolError(
            f"Expected a JSON object from the build request, got {body!r}"
        )
    model_name, version = _name_and_version(body, name, None)
    status = normalize_status(body.get("status") or "pending")
    return BuildRef(model_name=model_name, model_version=version, status=status)


def parse_status(
    body: Any, name: str | None = None, version: str | None = None
) -> BuildStatus:
    """Read a status response or a model list item."""
    if not isinstance(body, dict):
        raise ProtocolError(f"Expected a JSON object for a build status, got {body!r}")
    model_name, model_version = _name_and_version(body, name, version)
    metric_name, metric_value = _metric(body)
    best = body.get("best_so_far")
    best_name, best_value = _metric(best) if isinstance(best, dict) else (None, None)
    return BuildStatus(
        model_name=model_name,
        model_version=model_version,
        status=normalize_status(body.get("status")),
        build_progress=_number(body.get("build_progress")),
        phase=_text(body.get("phase")),
        iteration=_whole(body.get("iteration")),
        max_iterations=_whole(body.get("max_iterations")),
        metric_name=metric_name,
        metric_value=metric_value,
        best_metric_name=best_name,
        best_metric_value=best_value,
        error=_error_text(body.get("error")),
        goal=_text(body.get("goal")) or _text(body.get("intent")),
        created_at=_text(body.get("created_at")),
        updated_at=_text(body.get("updated_at")),
    )


def parse_model_page(body: Any) -> ModelPage:
    """Read `GET /models`: a bare array, or {"models": [...], "pagination": {...}}."""
    pagination: dict[str, Any] = {}
    if isinstance(body, list):
        raw_items = body
    elif isinstance(body, dict) and isinstance(body.get("models"), list):
        raw_items = body["models"]
        if isinstance(body.get("pagination"), dict):
            pagination = body["pagination"]
    else:
        raise ProtocolError("Expected a list of models from GET /models")

    items = []
    for raw in raw_items:
        try:
            items.append(parse_status(raw))
        except ProtocolError:
            continue  # An item without a name or version cannot be tracked.
    return ModelPage(
        items=items,
        total=_whole(pagination.get("total")),
        has_more=bool(pagination.get("has_more", False)),
    )


def infer_output(body: Any) -> Any:
    """Pick the prediction from an inference response: `result`, else `prediction`."""
    if isinstance(body, dict):
        if "result" in body:
            return body["result"]
        if "prediction" in body and isinstance(body["prediction"], dict):
            return body["prediction"]
    return body


def parse_uploads(body: Any) -> list[UploadInfo]:
    """Read `GET /uploads`: a bare array, or {"uploads": [...], "pagination"}."""
    raw_items = body.get("uploads") if isinstance(body, dict) else body
    if not isinstance(raw_items, list):
        raise ProtocolError("Expected a list of uploads from GET /uploads")
    return [upload for item in raw_items if (upload := parse_upload(item))]


def parse_upload(body: Any) -> UploadInfo | None:
    """Read one upload record; None when it has no id."""
    if not isinstance(body, dict):
        return None
    upload_id = _text(body.get("upload_id")) or _text(body.get("id"))
    if upload_id is None:
        return None
    return UploadInfo(
        upload_id=upload_id,
        # The local engine's `filename` is the name on its disk, with every
        # character other than ASCII letters, digits, '.', '-' and '_' replaced.
        filename=_text(body.get("original_filename"))
        or _text(body.get("filename"))
        or _text(body.get("name")),
        status=_text(body.get("status")),
        size_bytes=_whole(body.get("size_bytes") or body.get("size")),
        created_at=_text(body.get("created_at")),
    )
