"""Jobs files of a chosen size, written by the real store, for the benchmarks.

The jobs look like a long-time user's history on the local engine. They have
every status that ends a build, with metrics on the completed ones and an
error on the failed ones. One job in five is a resubmission, and one in ten
has an input schema. All of
them have ended, so an app opened on the file polls none of them.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from plexe_tui.store import Job, JobStore
from plexe_tui.store.jobs import DEFAULT_MAX_JOBS

STATUSES = ("completed", "completed", "completed", "failed", "cancelled")
START = datetime(2025, 1, 1, tzinfo=UTC)
SCHEMA = {
    "type": "object",
    "properties": {
        "mean radius": {"type": "number"},
        "mean texture": {"type": "number"},
        "worst area": {"type": "number"},
        "site": {"type": "string"},
    },
}


def make_jobs(count: int, server: str = "local") -> list[Job]:
    """Return `count` ended jobs; job `count - 1` is the newest."""
    return [_make_job(index, server) for index in range(count)]


def newest_name(count: int) -> str:
    """Return the model name of the newest job that `make_jobs(count)` returns."""
    return f"history-{count - 1:05d}"


def write_history(path: Path, count: int) -> None:
    """Write a jobs file of `count` jobs with the app's own store.

    The store's limit is raised to `count`, because a store with its default
    limit (DEFAULT_MAX_JOBS, 1,000) saves only the newest 1,000 jobs. The
    app reads such a longer file in full, and keeps to its limit only when it
    saves.
    """
    JobStore(path, max_jobs=max(count, DEFAULT_MAX_JOBS)).save(make_jobs(count))


def _make_job(index: int, server: str) -> Job:
    created = START + timedelta(minutes=7 * index)
    status = STATUSES[index % len(STATUSES)]
    job = Job(
        model_name=f"history-{index:05d}",
        model_version=str(1 + index % 3),
        server=server,
        goal=f"predict the diagnosis from the biopsy measurements, attempt {index}",
        status=status,
        dataset=f"/home/user/data/biopsies-{index % 40:02d}.csv",
        upload_id=f"upl_{index:024x}",
        metric="roc_auc" if index % 4 == 0 else None,
        max_iterations=10,
        provider="local",
        created_at=created.isoformat(),
        updated_at=(created + timedelta(seconds=40)).isoformat(),
    )
    if status == "completed":
        job.metric_name = "roc_auc"
        job.metric_value = 0.95 + (index % 50) / 1000
        job.build_progress = 100.0
        job.iteration = 10
        job.planned_iterations = 10
    if status == "failed":
        job.error = "Column 'diagnosis' has a single value; a classifier needs two."
    if index % 5 == 4:
        job.parent = f"history-{index - 1:05d}:1@{server}"
    if index % 10 == 0:
        job.input_schema = SCHEMA
    return job
