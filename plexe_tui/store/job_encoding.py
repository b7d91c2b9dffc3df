"""Each job's TOML table and index line, kept between saves while the job is unchanged.

The app saves after every status change, and most saves change one job of
many. Formatting a job takes a few microseconds, and comparing its field
values with those of the last save takes about one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plexe_tui.store.job_index import encode_table
from plexe_tui.store.toml_writer import dumps_table

if TYPE_CHECKING:
    from plexe_tui.store.jobs import Job

ARRAY_NAME = "jobs"


@dataclass(frozen=True)
class EncodedJob:
    """One job as its field values, its TOML table and its index line."""

    values: tuple[Any, ...]
    """The job's attribute values when encoded; nested values are copies."""
    toml: str
    index_line: str


class JobEncoder:
    """Encodes jobs for the jobs file, reusing the text of unchanged jobs."""

    def __init__(self) -> None:
        self._encoded: dict[str, EncodedJob] = {}

    def encode(self, jobs: list[Job]) -> tuple[list[str], list[str]]:
        """Return the TOML tables and the index lines of `jobs`, in order.

        Raises UnsupportedValue (a TypeError) or ValueError for a value that
        TOML or JSON cannot hold.
        """
        encoded: dict[str, EncodedJob] = {}
        tables: list[str] = []
        lines: list[str] = []
        for job in jobs:
            values = tuple(vars(job).values())
            entry = self._encoded.get(job.key)
            if entry is None or entry.values != values:
                entry = _encode(job, values)
            encoded[job.key] = entry
            tables.append(entry.toml)
            lines.append(entry.index_line)
        self._encoded = encoded
        return tables, lines


def _encode(job: Job, values: tuple[Any, ...]) -> EncodedJob:
    table = job.to_toml()
    # Copies, so that a schema changed in place no longer compares equal.
    values_copy = tuple(
        copy.deepcopy(value) if isinstance(value, dict | list) else value
        for value in values
    )
    return EncodedJob(values_copy, dumps_table(ARRAY_NAME, table), encode_table(table))
