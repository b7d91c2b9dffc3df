"""Upload endpoints: create an upload, PUT its bytes, confirm it, list and delete.

The presigned URL that ``POST /uploads`` returns points back at this engine, so a
client uploads the same way as to the hosted platform's cloud storage. The PUT
needs no API key, but its ``token`` query value must match the upload's.
"""

import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request

from plexe_tui.engine.context import Context
from plexe_tui.engine.data import table_shape
from plexe_tui.engine.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    PayloadTooLarge,
    size_text,
)
from plexe_tui.engine.payloads import CreateUploadBody, UploadStatusBody
from plexe_tui.engine.records import TERMINAL_STATUSES, UploadRecord
from plexe_tui.engine.settings import UPLOAD_MAX_BYTES_VARIABLE
from plexe_tui.engine.views import pagination, upload_view

MAX_LIST_LIMIT = 100
LIMIT_HELP = "Maximum number of items; values above 100 count as 100."

router = APIRouter(tags=["uploads"])


@router.post("/uploads")
def create_upload(body: CreateUploadBody, request: Request, context: Context) -> Any:
    """Create an upload and return the URL to PUT its bytes to."""
    record = context.storage.create_upload(body.filename, body.content_type)
    url = f"{request.base_url}uploads/{record.upload_id}/content?token={record.token}"
    return {"upload_id": record.upload_id, "presigned_url": url, "key": record.key}


@router.put("/uploads/{upload_id}/content")
async def put_upload_content(
    upload_id: str,
    request: Request,
    context: Context,
    token: Annotated[str, Query(description="Secret from the presigned URL.")] = "",
) -> Any:
    """Store the request body as the upload's file, streamed to disk in chunks."""
    storage = context.storage
    record = storage.read_upload(upload_id)
    if not secrets.compare_digest(token.encode(), record.token.encode()):
        raise Forbidden(
            "invalid_upload_token",
            "The upload token is missing or wrong. PUT to the presigned_url exactly "
            "as POST /uploads returned it.",
            field="token",
        )
    if record.status == "complete":
        raise Conflict(
            "upload_complete",
            f"Upload {upload_id!r} is already complete. Create a new upload to send "
            "another file.",
            field="upload_id",
        )
    limit = context.settings.upload_max_bytes
    _check_declared_size(request, limit)

    target = storage.upload_file(record)
    size = await _stream_to_file(request, target, limit)
    record.status = "uploaded"
    record.size_bytes = size
    storage.write_upload(record)
    return {"upload_id": upload_id, "status": "uploaded", "size_bytes": size}


@router.post("/uploads/status")
def complete_upload(body: UploadStatusBody, context: Context) -> Any:
    """Mark an upload complete once its bytes have arrived and read as a table.

    The rows are counted in chunks, so a large file is never held in memory.
    """
    storage = context.storage
    record = storage.read_upload(body.upload_id)
    if body.s3_key is not None and body.s3_key != record.key:
        raise InvalidRequest(
            "key_mismatch",
            f"s3_key {body.s3_key!r} is not the key of upload {record.upload_id!r}. "
            f"Send the key that POST /uploads returned: {record.key!r}.",
            field="s3_key",
        )
    if record.status == "pending":
        raise Conflict(
            "upload_empty",
            f"Upload {record.upload_id!r} has no content yet. PUT the file's bytes "
            "to its presigned_url first.",
            field="upload_id",
        )
    if record.status != "complete":
        rows, columns = table_shape(
            storage.upload_file(record), record.original_filename
        )
        record.rows = rows
        record.columns = columns
        record.status = "complete"
        storage.write_upload(record)
    return {
        "upload_id": record.upload_id,
        "status": "complete",
        "filename": record.original_filename,
        "rows": record.rows,
        "columns": record.columns,
    }


@router.get("/uploads")
def list_uploads(
    context: Context,
    limit: Annotated[int, Query(ge=1, description=LIMIT_HELP)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    """List uploads, newest first."""
    records = context.storage.list_uploads()
    limit = min(limit, MAX_LIST_LIMIT)
    page = records[offset : offset + limit]
    return {
        "uploads": [upload_view(record) for record in page],
        "pagination": pagination(len(records), limit, offset),
    }


@router.get("/uploads/{upload_id}")
def get_upload(upload_id: str, context: Context) -> Any:
    """Return one upload."""
    return upload_view(context.storage.read_upload(upload_id))


@router.delete("/uploads/{upload_id}")
def delete_upload(upload_id: str, context: Context) -> Any:
    """Delete an upload unless a queued or running build still needs it."""
    storage = context.storage
    record = storage.read_upload(upload_id)
    _check_unused(record, context)
    storage.delete_upload(upload_id)
    return {"upload_id": upload_id, "deleted": True}


def _check_declared_size(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


async def _stream_to_file(request: Request, target: Path, limit: int) -> int:
    """Write the request body to ``target`` via a temporary file and return its size."""
    partial = target.with_name(f".{target.name}.part")
    size = 0
    try:
        file = await anyio.open_file(partial, "wb")
        async with file:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                await file.write(chunk)
            await file.flush()
            await anyio.to_thread.run_sync(os.fsync, file.wrapped.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return size


def _check_unused(record: UploadRecord, context: Context) -> None:
    for build in context.storage.list_builds():
        if (
            build.request.upload_id == record.upload_id
            and build.state.status not in TERMINAL_STATUSES
        ):
            raise Conflict(
                "upload_in_use",
                f"Upload {record.upload_id!r} is used by build {build.model_name!r} "
                f"version {build.model_version}, which has not finished. Wait for it "
                "or cancel it first.",
                field="upload_id",
            )


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "upload_too_large",
        f"The file is larger than the engine's upload limit of {size_text(limit)}. "
        f"Upload a smaller sample of the data, or start the engine with a larger "
        f"{UPLOAD_MAX_BYTES_VARIABLE}.",
        field="file",
    )
