"""Request bodies of the engine's endpoints, with the aliases clients send."""

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

DEFAULT_MAX_ITERATIONS = 3
MAX_ITERATIONS_LIMIT = 50


class CreateUploadBody(BaseModel):
    """Body of ``POST /uploads``."""

    filename: str = Field(min_length=1, max_length=1024)
    content_type: str = "application/octet-stream"


class UploadStatusBody(BaseModel):
    """Body of ``POST /uploads/status``, sent after the PUT of the file's bytes."""

    upload_id: str = Field(min_length=1)
    filename: str | None = None
    s3_key: str | None = Field(None, validation_alias=AliasChoices("s3_key", "key"))


class BuildBody(BaseModel):
    """Body of ``POST /models/{model_name}``. Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    goal: str = Field(
        min_length=1,
        max_length=10_000,
        validation_alias=AliasChoices("goal", "intent"),
    )
    upload_id: str | None = Field(
        None, validation_alias=AliasChoices("upload_id", "dataset_id")
    )
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    metric: str | None = None
    max_iterations: int | None = Field(None, ge=1, le=MAX_ITERATIONS_LIMIT)
    provider: str | None = None
    timeout: float | None = Field(
        None, gt=0, description="Seconds for the whole build."
    )
