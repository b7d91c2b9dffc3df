"""Records that the engine keeps on disk: uploads, build requests, plans and states.

They are pydantic models so that a file written by an older or newer engine is
validated when it is read. ``format_version`` starts at 1 and grows when a field
changes meaning.
"""

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

BuildStatus = Literal["pending", "building", "completed", "failed", "cancelled"]
Task = Literal["binary", "multiclass", "regression"]
UploadStatus = Literal["pending", "uploaded", "complete"]

BUILD_STATUSES: tuple[BuildStatus, ...] = (
    "pending",
    "building",
    "completed",
    "failed",
    "cancelled",
)
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

# A class label as it appears in the data: JSON keeps its type across a round trip.
Label = bool | int | float | str


def now_iso() -> str:
    """Return the current UTC time in ISO 8601 with a ``Z`` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class UploadRecord(BaseModel):
    """An uploaded dataset: its metadata and, once the bytes arrive, its shape."""

    format_version: int = 1
    upload_id: str
    filename: str = Field(description="Sanitised file name used on disk.")
    original_filename: str
    content_type: str
    key: str
    token: str = Field(description="Secret part of the presigned URL for the PUT.")
    status: UploadStatus = "pending"
    size_bytes: int | None = None
    rows: int | None = None
    columns: list[str] | None = None
    created_at: str
    updated_at: str


class BuildRequest(BaseModel):
    """A build request after alias resolution and schema normalisation."""

    goal: str
    upload_id: str
    input_schema: dict[str, str | None] | None = None
    output_schema: dict[str, str | None] | None = None
    metric: str | None = None
    max_iterations: int
    provider: str | None = None
    timeout: float | None = None
    dataset_url: str | None = Field(
        default=None, description="The URL the dataset was downloaded from, if any."
    )


class DroppedColumn(BaseModel):
    """A column left out of the features, with the reason."""

    column: str
    reason: str


class DateFeature(BaseModel):
    """A date or datetime feature: how its text is parsed and the parts kept.

    ``format`` is a ``strptime`` format, or ``ISO8601`` for any ISO 8601 text.
    """

    format: str
    parts: list[str]


class BuildPlan(BaseModel):
    """The decisions made before training: target, task, features and metric."""

    target: str
    target_reason: str
    task: Task
    task_reason: str
    output_key: str
    output_type: str
    features: list[str]
    feature_types: dict[str, str]
    dropped_columns: list[DroppedColumn]
    metric: str
    rows: int = Field(description="Rows used for training.")
    rows_dropped: int = Field(description="Rows left out: missing target, rare class.")
    classes: list[Label] | None = None
    positive_class: Label | None = None
    date_features: dict[str, DateFeature] = Field(default_factory=dict)
    probability_key: str | None = Field(
        default="probability",
        description="Output key of the predicted class's probability; None leaves "
        "it out.",
    )
    probabilities_key: str | None = Field(
        default=None,
        description="Output key of the probability of every class, if any.",
    )
    sample_rows: int | None = Field(
        default=None,
        description="Rows that feature choices were judged on, when the file had "
        "more rows than that.",
    )


class MetricResult(BaseModel):
    """A validated metric value, in the metric's natural direction."""

    metric_name: str
    metric_value: float


class ApproachResult(BaseModel):
    """One modelling approach tried during the search."""

    name: str
    description: str
    metric_value: float | None = None
    metric_std: float | None = None
    seconds: float
    error: str | None = None
    skipped_reason: str | None = None


class BuildState(BaseModel):
    """The part of a build record that changes while the build runs."""

    status: BuildStatus = "pending"
    phase: str | None = None
    iteration: int = 0
    build_progress: int = 0
    result: MetricResult | None = None
    best_so_far: MetricResult | None = None
    error: str | None = None
    approaches: list[ApproachResult] = Field(default_factory=list)
    chosen: str | None = None
    chosen_reason: str | None = None
    search_note: str | None = None
    validation: str | None = None
    validation_splits: int | None = None
    """How many train and test splits score each approach; 1 is a holdout."""
    started_at: str | None = None
    finished_at: str | None = None


class BuildRecord(BaseModel):
    """Everything the engine stores about one version of a model, in build.json."""

    format_version: int = 1
    model_name: str
    model_version: str
    request: BuildRequest
    plan: BuildPlan
    state: BuildState = Field(default_factory=BuildState)
    model_file: str | None = None
    model_sha256: str | None = None
    created_at: str
    updated_at: str
