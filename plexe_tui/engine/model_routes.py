"""Model endpoints: start a build, poll it, list, describe, predict and delete.

Each POST to ``/models/{model_name}`` creates the next version of that name. The
plan (target, task, features, metric) is made here, before the build is queued, so
problems with the request come back on that POST. A dataset URL given as
upload_id is downloaded into a new upload first.
"""

import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Query

from plexe_tui.engine.context import Context, EngineContext
from plexe_tui.engine.dispatcher import mark_cancelled
from plexe_tui.engine.download import download_upload, is_dataset_url
from plexe_tui.engine.errors import Conflict, EngineError, InvalidRequest
from plexe_tui.engine.metrics import find_metric
from plexe_tui.engine.payloads import DEFAULT_MAX_ITERATIONS, BuildBody
from plexe_tui.engine.planning import plan_from_file
from plexe_tui.engine.predictor import Predictor
from plexe_tui.engine.records import (
    BUILD_STATUSES,
    TERMINAL_STATUSES,
    BuildRecord,
    BuildRequest,
    UploadRecord,
)
from plexe_tui.engine.schema import normalise_schema
from plexe_tui.engine.storage import Storage, validate_model_name
from plexe_tui.engine.views import (
    describe_view,
    list_item_view,
    model_view,
    pagination,
    status_view,
)

MAX_LIST_LIMIT = 100
LIMIT_HELP = "Maximum number of items; values above 100 count as 100."
MAX_BATCH_ROWS = 10_000
# How long a DELETE of a running build waits for its process to be terminated.
CANCEL_WAIT_SECONDS = 10.0
_CANCEL_POLL_SECONDS = 0.1
# Keys some clients wrap the feature object in. A feature with such a name is
# never unwrapped.
_WRAPPER_KEYS = ("inputs", "input", "data", "features")

router = APIRouter(tags=["models"])


@router.post("/models/{model_name}", status_code=202)
def create_build(model_name: str, body: BuildBody, context: Context) -> Any:
    """Check the request, plan the build and queue it."""
    validate_model_name(model_name)
    request = _build_request(body)
    storage = context.storage
    downloaded = is_dataset_url(request.upload_id)
    if downloaded:
        upload = _download(context, request)
    else:
        upload = _upload_with_content(storage, request.upload_id)

    path = storage.upload_file(upload)
    try:
        plan = plan_from_file(path, upload.original_filename, request)
    except EngineError:
        # The user never saw the upload made for a dataset URL, so it goes too.
        if downloaded:
            storage.delete_upload(upload.upload_id)
        raise
    record = storage.create_build(model_name, request, plan)
    context.dispatcher.enqueue(record.model_name, record.model_version)
    return {
        "model_name": record.model_name,
        "model_version": record.model_version,
        "status": record.state.status,
    }


@router.get("/models")
def list_models(
    context: Context,
    limit: Annotated[int, Query(ge=1, description=LIMIT_HELP)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: Annotated[str | None, Query(description="Only this status.")] = None,
) -> Any:
    """List model versions, newest first."""
    if status is not None and status not in BUILD_STATUSES:
        raise InvalidRequest(
            "invalid_status",
            f"status {status!r} is not a build status. Use one of: "
            f"{', '.join(BUILD_STATUSES)}.",
            field="status",
        )
    records = context.storage.list_builds()
    if status is not None:
        records = [record for record in records if record.state.status == status]
    limit = min(limit, MAX_LIST_LIMIT)
    page = records[offset : offset + limit]
    dispatcher = context.dispatcher
    return {
        "models": [
            list_item_view(
                record,
                dispatcher.queue_position(record.model_name, record.model_version),
            )
            for record in page
        ],
        "pagination": pagination(len(records), limit, offset),
    }


@router.get("/models/{model_name}/{model_version}/status")
def get_status(model_name: str, model_version: str, context: Context) -> Any:
    """Return a build's status, progress, queue position and elapsed time."""
    record = context.storage.read_build(model_name, model_version)
    position = context.dispatcher.queue_position(model_name, model_version)
    return status_view(record, position)


@router.get("/models/{model_name}/{model_version}")
def get_model(model_name: str, model_version: str, context: Context) -> Any:
    """Return a model version with the schemas and metric it uses."""
    record = context.storage.read_build(model_name, model_version)
    position = context.dispatcher.queue_position(model_name, model_version)
    return model_view(record, position)


@router.get("/models/{model_name}/{model_version}/describe")
def describe_model(model_name: str, model_version: str, context: Context) -> Any:
    """Return what the build chose and tried, and why."""
    storage = context.storage
    record = storage.read_build(model_name, model_version)
    stored = storage.read_describe(model_name, model_version)
    return stored if stored is not None else describe_view(record)


@router.post("/models/{model_name}/{model_version}/infer")
async def infer(
    model_name: str,
    model_version: str,
    context: Context,
    body: Annotated[dict[str, Any], Body(description="One flat object of features.")],
) -> Any:
    """Predict one row and return the output object.

    A loaded model predicts on the event loop: one row takes well under a
    millisecond, less than handing it to a worker thread and back. Reading
    the record and loading the model on first use run in a worker thread.
    """
    predictor = context.models.ready(model_name, model_version)
    if predictor is None:
        predictor = await anyio.to_thread.run_sync(
            _load_predictor, context, model_name, model_version
        )
    return predictor.predict_one(_unwrap_features(body, predictor.plan.features))


@router.post("/models/{model_name}/{model_version}/predictions")
def predict_batch(
    model_name: str,
    model_version: str,
    context: Context,
    body: Annotated[list[dict[str, Any]], Body(description="Feature objects.")],
) -> Any:
    """Predict many rows and return the output objects in the same order."""
    if len(body) > MAX_BATCH_ROWS:
        raise InvalidRequest(
            "too_many_rows",
            f"The request has {len(body)} rows; send at most {MAX_BATCH_ROWS} per "
            "call.",
            field="body",
        )
    record = _completed_build(context, model_name, model_version)
    if not body:
        return []
    return context.models.get(record).predict(body)


@router.delete("/models/{model_name}/{model_version}")
def delete_model(model_name: str, model_version: str, context: Context) -> Any:
    """Cancel a queued or running build, or delete a finished model version."""
    storage = context.storage
    record = storage.read_build(model_name, model_version)
    if record.state.status not in TERMINAL_STATUSES:
        record = _cancel(context, record)
        return {
            "model_name": model_name,
            "model_version": model_version,
            "status": record.state.status,
        }
    storage.delete_build(model_name, model_version)
    context.models.evict(model_name, model_version)
    return {"model_name": model_name, "model_version": model_version, "deleted": True}


def _build_request(body: BuildBody) -> BuildRequest:
    """Check the fields that need no data, and resolve defaults and schemas."""
    upload_id = (body.upload_id or "").strip()
    if not upload_id:
        raise InvalidRequest(
            "upload_required",
            "upload_id is required: the local engine trains on a dataset you upload. "
            "Building from the goal alone, with synthetic data, needs the hosted "
            "Plexe Platform (set PLEXE_API_KEY).",
            field="upload_id",
        )
    if body.metric:
        find_metric(body.metric)
    return BuildRequest(
        goal=body.goal.strip(),
        upload_id=upload_id,
        input_schema=normalise_schema(body.input_schema, "input_schema"),
        output_schema=normalise_schema(body.output_schema, "output_schema"),
        metric=body.metric,
        max_iterations=body.max_iterations or DEFAULT_MAX_ITERATIONS,
        provider=body.provider,
        timeout=body.timeout,
    )


def _download(context: EngineContext, request: BuildRequest) -> UploadRecord:
    """Download the dataset URL of a request into an upload, and point at it."""
    settings = context.settings
    upload = download_upload(
        context.storage,
        request.upload_id,
        settings.download_max_bytes,
        settings.download_timeout,
    )
    request.dataset_url = request.upload_id
    request.upload_id = upload.upload_id
    return upload


def _upload_with_content(storage: Storage, upload_id: str) -> UploadRecord:
    upload = storage.read_upload(upload_id)
    if upload.status == "pending":
        raise Conflict(
            "upload_empty",
            f"Upload {upload_id!r} has no content yet. PUT the file's bytes to its "
            "presigned_url, then start the build.",
            field="upload_id",
        )
    return upload


def _completed_build(context: EngineContext, name: str, version: str) -> BuildRecord:
    record = context.storage.read_build(name, version)
    status = record.state.status
    if status == "completed":
        return record
    if status in ("pending", "building"):
        advice = (
            f"Poll GET /models/{name}/{version}/status and predict once it is "
            "completed."
        )
    else:
        reason = f" ({record.state.error})" if record.state.error else ""
        advice = f"It cannot predict{reason}. Start a new build."
    raise Conflict(
        "model_not_ready",
        f"Model {name!r} version {version} has status {status!r}. {advice}",
        field="model_version",
    )


def _load_predictor(context: EngineContext, name: str, version: str) -> Predictor:
    """Read a completed build's record and return its predictor, loaded once."""
    # The stamp comes first: if the record changes while it is read, the
    # predictor is kept under the older stamp and read again next time.
    stamp = context.models.record_stamp(name, version)
    record = _completed_build(context, name, version)
    return context.models.get(record, stamp)


def _unwrap_features(body: dict[str, Any], features: list[str]) -> dict[str, Any]:
    """Return the feature object, taking it out of a one-key wrapper if needed."""
    if len(body) == 1:
        key, value = next(iter(body.items()))
        wrapped = key in _WRAPPER_KEYS and key not in features
        if wrapped and isinstance(value, dict):
            return value
    return body


def _cancel(context: EngineContext, record: BuildRecord) -> BuildRecord:
    """Cancel a build that has not finished and return its record afterwards."""
    storage = context.storage
    name, version = record.model_name, record.model_version
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    while time.monotonic() < deadline:
        with storage.lock:
            record = storage.read_build(name, version)
            if record.state.status in TERMINAL_STATUSES:
                return record
            if record.state.status == "pending":
                context.dispatcher.remove_pending(name, version)
                return storage.update_state(name, version, mark_cancelled)
        remaining = deadline - time.monotonic()
        if context.dispatcher.cancel(name, version, wait_seconds=remaining):
            return storage.read_build(name, version)
        # The dispatcher has claimed the build but not started its process yet.
        time.sleep(_CANCEL_POLL_SECONDS)
    return storage.read_build(name, version)
