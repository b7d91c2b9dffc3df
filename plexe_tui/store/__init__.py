"""Files plexe-tui keeps: paths, atomic writes and the jobs file. No UI code."""

from plexe_tui.store.jobs import (
    ORIGIN_LISTED,
    Job,
    JobStore,
    LoadResult,
    job_key,
    utc_now,
)

__all__ = ["ORIGIN_LISTED", "Job", "JobStore", "LoadResult", "job_key", "utc_now"]
