"""Files plexe-tui keeps: paths, atomic writes and the jobs file. No UI code."""

from plexe_tui.store.jobs import Job, JobStore, LoadResult, utc_now

__all__ = ["Job", "JobStore", "LoadResult", "utc_now"]
