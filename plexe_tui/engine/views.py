"""The JSON shapes the API returns for records, in the canonical field names."""

from datetime import UTC, datetime
from typing import Any

from plexe_tui.engine.explain import summarise
from plexe_tui.engine.metrics import find_metric
from plexe_tui.engine.records import BuildRecord, UploadRecord


def status_view(
    record: BuildRecord, queue_position: int | None = None
) -> dict[str, Any]:
    """Return the body of ``GET /models/{name}/{version}/status``.

    ``queue_position`` is the place of a pending build in the queue, 1 for next.
    """
    state = record.state
    return {
        "model_name": record.model_name,
        "model_version": record.model_version,
        "status": state.status,
        "build_progress": state.build_progress,
        "phase": state.phase,
        "iteration": state.iteration,
        "max_iterations": record.request.max_iterations,
        "queue_position": queue_position,
        "elapsed_seconds": elapsed_seconds(record),
        "result": state.result.model_dump() if state.result else None,
        "best_so_far": state.best_so_far.model_dump() if state.best_so_far else None,
        "error": state.error,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def elapsed_seconds(record: BuildRecord) -> float | None:
    """Return the seconds from the build's start to its end, or to now while it runs.

    Returns None for a build that never started.
    """
    state = record.state
    if state.started_at is None:
        return None
    started = _parse_time(state.started_at)
    ended = _parse_time(state.finished_at) if state.finished_at else datetime.now(UTC)
    return round(max(0.0, (ended - started).total_seconds()), 3)


def list_item_view(
    record: BuildRecord, queue_position: int | None = None
) -> dict[str, Any]:
    """Return one item of ``GET /models``."""
    result = record.state.result
    return {
        "model_name": record.model_name,
        "model_version": record.model_version,
        "status": record.state.status,
        "goal": record.request.goal,
        "build_progress": record.state.build_progress,
        "queue_position": queue_position,
        "metric_name": result.metric_name if result else record.plan.metric,
        "metric_value": result.metric_value if result else None,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def model_view(
    record: BuildRecord, queue_position: int | None = None
) -> dict[str, Any]:
    """Return the body of ``GET /models/{name}/{version}``, with the schemas used."""
    plan = record.plan
    request = record.request
    return {
        **status_view(record, queue_position),
        "goal": request.goal,
        "upload_id": request.upload_id,
        "dataset_url": request.dataset_url,
        "input_schema": dict(plan.feature_types),
        "output_schema": output_schema(record),
        "target": plan.target,
        "task": plan.task,
        "metric": plan.metric,
        "provider": request.provider,
        "timeout": request.timeout,
    }


def output_schema(record: BuildRecord) -> dict[str, str]:
    """Return the keys and types of an inference response."""
    plan = record.plan
    schema = {plan.output_key: plan.output_type}
    if plan.task != "regression":
        if plan.probability_key is not None:
            schema[plan.probability_key] = "float"
        if plan.probabilities_key is not None:
            schema[plan.probabilities_key] = "object"
    return schema


def describe_view(record: BuildRecord) -> dict[str, Any]:
    """Return what a build chose and tried, and why, for the describe endpoint."""
    plan = record.plan
    state = record.state
    metric = find_metric(plan.metric)
    return {
        "model_name": record.model_name,
        "model_version": record.model_version,
        "status": state.status,
        "summary": summarise(record),
        "goal": record.request.goal,
        "dataset_url": record.request.dataset_url,
        "target": plan.target,
        "target_reason": plan.target_reason,
        "task": plan.task,
        "task_reason": plan.task_reason,
        "classes": plan.classes,
        "positive_class": plan.positive_class,
        "rows_used": plan.rows,
        "rows_dropped": plan.rows_dropped,
        "features": [_feature_view(record, name) for name in plan.features],
        "dropped_columns": [column.model_dump() for column in plan.dropped_columns],
        "columns_judged_on_rows": plan.sample_rows,
        "metric": {
            "name": metric.name,
            "label": metric.label,
            "direction": "higher is better"
            if metric.greater_is_better
            else "lower is better",
        },
        "validation": state.validation,
        "validation_splits": state.validation_splits,
        "approaches": [approach.model_dump() for approach in state.approaches],
        "chosen": state.chosen,
        "chosen_reason": state.chosen_reason,
        "search_note": state.search_note,
        "result": state.result.model_dump() if state.result else None,
        "elapsed_seconds": elapsed_seconds(record),
        "error": state.error,
    }


def upload_view(record: UploadRecord) -> dict[str, Any]:
    """Return an upload's public fields, which leave out the PUT token."""
    return record.model_dump(exclude={"token", "format_version"})


def pagination(total: int, limit: int, offset: int) -> dict[str, Any]:
    """Return the pagination object of a list response."""
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "has_more": offset + limit < total,
    }


def _feature_view(record: BuildRecord, name: str) -> dict[str, Any]:
    plan = record.plan
    view: dict[str, Any] = {"name": name, "type": plan.feature_types[name]}
    date = plan.date_features.get(name)
    if date is not None:
        view["date_parts"] = list(date.parts)
    return view


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
