"""The job list's contents: which jobs are shown, in what order, and as what text.

The table widget draws only the rows on screen and requests their cells from
this model, so a history of thousands of jobs costs little more than a
screenful.
Filtering and sorting work on plain values prepared once per job version.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.theme import Theme

from plexe_tui.api import BuildState, is_terminal, normalize_status
from plexe_tui.store import ORIGIN_LISTED, Job
from plexe_tui.ui.format import (
    duration_text,
    metric_text,
    parse_time,
    progress_text,
    relative_time,
    status_text,
)

EXTERNAL_NOTE = "external"
"""The word after the name of a build this app did not start; the filter matches it."""


@dataclass(frozen=True)
class Column:
    """One column of the job list."""

    key: str
    label: str
    width: int | None
    """Cells of content; None for the name column, which takes the width left."""
    descending: bool
    """Direction when the column is first chosen for sorting: largest first."""


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", None, descending=False),
    Column("status", "Status", 9, descending=False),
    Column("metric", "Metric", 24, descending=True),
    Column("progress", "Progress", 8, descending=True),
    Column("server", "Server", 6, descending=False),
    Column("created", "Created", 10, descending=True),
    Column("duration", "Duration", 7, descending=True),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
NAME_MIN_WIDTH = 12
NAME_COMFORT_WIDTH = 20
"""Below this the name column gets room from the others: `churn-model:12 external`."""
NARROW_HIDDEN = ("progress", "server")
"""Columns hidden in this order while the name column is narrower than comfortable.
The detail shows the progress, and the line above the table names the servers."""
METRIC_NARROW_WIDTH = 17
"""The metric column when hiding columns left the name too narrow still:
room for `roc_auc = 0.9934` and the sort mark."""
STATUS_MAX_WIDTH = 16
SERVER_MAX_WIDTH = 22
"""Longer status words and server labels are cut with an ellipsis."""
SORT_MARK_WIDTH = 1
"""Room for the sort arrow after a column's label."""

# Order of the status column: running work first, finished work last. A word
# outside the five canonical states sorts between the active and ended ones.
STATUS_RANK: dict[str, int] = {
    BuildState.BUILDING.value: 0,
    BuildState.PENDING.value: 1,
    BuildState.FAILED.value: 3,
    BuildState.CANCELLED.value: 4,
    BuildState.COMPLETED.value: 5,
}
UNKNOWN_STATUS_RANK = 2


@dataclass(slots=True)
class Row:
    """A job with the values that filtering and sorting read."""

    job: Job
    server: str
    """The server's short label."""
    search: str
    """Lower-case text that the filter's words are found in."""
    created: float | None
    """Creation time, in seconds since the epoch."""
    ended: float | None
    """Time of the last update of a finished build, in seconds since the epoch."""


def make_row(job: Job, server_label: str) -> Row:
    """Prepare one job for filtering and sorting."""
    note = EXTERNAL_NOTE if job.origin == ORIGIN_LISTED else ""
    search = f"{job.label} {job.goal} {server_label} {job.status} {note}".casefold()
    created = _epoch(job.created_at)
    ended = _epoch(job.updated_at) if is_terminal(job.status) else None
    return Row(job, server_label, search, created, ended)


def _epoch(value: str | None) -> float | None:
    moment = parse_time(value)
    return None if moment is None else moment.timestamp()


@dataclass(frozen=True)
class Query:
    """A parsed filter: every word must match, and one of each kind of qualifier.

    `words` are found in the name, goal, server, status and the external note.
    A word that is a status or one of its aliases (`running`, `ready`) also
    matches that status. `statuses` come from `status:WORD`, and match a
    status that starts with the word or is its canonical form. `servers` come
    from `server:TEXT`.
    """

    words: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.statuses or self.servers)

    @property
    def word_states(self) -> tuple[tuple[str, str | None], ...]:
        """Each word with the canonical status it names, if it names one."""
        return tuple((word, canonical_state(word)) for word in self.words)


def canonical_state(word: str) -> str | None:
    """Return the canonical status a word or alias names, or None."""
    state = normalize_status(word)
    return state if state in CANONICAL_STATES else None


CANONICAL_STATES = frozenset(state.value for state in BuildState)


def parse_query(text: str) -> Query:
    """Read the filter text; `status:` and `server:` qualify a term."""
    words: list[str] = []
    statuses: list[str] = []
    servers: list[str] = []
    for term in text.casefold().split():
        name, colon, value = term.partition(":")
        if colon and value and name == "status":
            statuses.append(value)
        elif colon and value and name == "server":
            servers.append(value)
        else:
            words.append(term)
    return Query(tuple(words), tuple(statuses), tuple(servers))


def row_matches(
    row: Row, query: Query, word_states: tuple[tuple[str, str | None], ...]
) -> bool:
    """Return whether a prepared job passes the filter.

    `word_states` is `query.word_states`, computed once per filter rather than
    once per row, because this runs for every job on every keystroke.
    """
    search = row.search
    status = row.job.status
    for word, state in word_states:
        if word not in search and state != status:
            return False
    if query.statuses:
        lowered = status.casefold()
        if not any(
            lowered.startswith(value) or normalize_status(value) == status
            for value in query.statuses
        ):
            return False
    if query.servers:
        server = f"{row.server} {row.job.server}".casefold()
        if not any(value in server for value in query.servers):
            return False
    return True


def narrows(old: Query, new: Query) -> bool:
    """Return whether every job that `new` matches is also matched by `old`.

    True when `new` keeps the qualifiers of `old`, and each old word is part
    of the new word in its place, as when one more letter is typed. A new word
    that names a status also matches jobs by their status alone, so it narrows
    only when it was already there.
    """
    if (new.statuses, new.servers) != (old.statuses, old.servers):
        return False
    if len(new.words) < len(old.words):
        return False
    for before, after in zip(old.words, new.words, strict=False):
        if before not in after:
            return False
        if after != before and canonical_state(after) is not None:
            return False
    return True


def _version_key(version: str) -> tuple[int, int, str]:
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def sort_value(column: str, row: Row, now: float) -> Any:
    """Return what a column sorts by; None sorts last in either direction."""
    job = row.job
    if column == "name":
        return (job.model_name.casefold(), _version_key(job.model_version))
    if column == "status":
        rank = STATUS_RANK.get(job.status, UNKNOWN_STATUS_RANK)
        return (rank, job.status)
    if column == "metric":
        if job.metric_value is not None:
            return (job.metric_name or "", job.metric_value)
        if job.best_metric_value is not None and not is_terminal(job.status):
            return (job.best_metric_name or "", job.best_metric_value)
        return None
    if column == "progress":
        return _progress_fraction(job)
    if column == "server":
        return row.server.casefold()
    if column == "duration":
        if row.created is None:
            return None
        return (row.ended if row.ended is not None else now) - row.created
    raise ValueError(f"Column {column!r} has no sort value.")


def _progress_fraction(job: Job) -> float | None:
    if job.build_progress is not None:
        return job.build_progress / 100
    total = job.planned_iterations or job.max_iterations
    if job.iteration is not None and total:
        return job.iteration / total
    return None


class JobList:
    """The jobs shown in the list: filtered by text and server, then sorted.

    `order` contains the keys of the shown jobs, top first. Every change of the
    jobs, the filter or the sort ends with `recompute`, which rebuilds `order`
    from prepared rows. Rows are prepared on first use, or ahead of time in
    slices by `prepare`, so the first frame does not wait for thousands of them.
    """

    def __init__(self, label_of: Callable[[str], str]) -> None:
        self._label_of = label_of
        self._jobs: dict[str, Job] = {}
        self._rows: dict[str, Row] = {}
        self._by_created: list[tuple[str, str]] = []
        """(created_at, key) of every job, oldest first."""
        self._unprepared: list[str] = []
        self._server_counts: Counter[str] = Counter()
        self.order: list[str] = []
        self.sort_column = "created"
        self.descending = True
        self.query = Query()
        self.server_filter: str | None = None
        """Base URL or `local` of the only server shown; None shows all."""
        self._version = 0
        """Counts changes of the jobs, which make the last order stale."""
        self._last_state: tuple[object, ...] | None = None
        self._last_query = Query()
        self.status_width = len("Status") + SORT_MARK_WIDTH
        self.server_width = len("Server") + SORT_MARK_WIDTH

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, key: object) -> bool:
        return key in self._jobs

    def get(self, key: str) -> Job | None:
        """Return the job with this key, shown or not."""
        return self._jobs.get(key)

    def set_jobs(self, jobs: Iterable[Job]) -> None:
        """Replace every job; rows are prepared later."""
        self._jobs = {job.key: job for job in jobs}
        self._version += 1
        self._rows = {}
        self._server_counts = Counter(job.server for job in self._jobs.values())
        self._by_created = sorted(
            (job.created_at, job.key) for job in self._jobs.values()
        )
        # Oldest first, because `prepare` pops from the end: the newest jobs
        # are at the top of the default order.
        self._unprepared = [key for _, key in self._by_created]
        self._measure_word_columns(self._jobs.values())

    def update(self, jobs: Iterable[Job]) -> None:
        """Take new or changed jobs; `recompute` then places them.

        Their rows are queued for `prepare` again, because a new version of a
        job needs a new row.
        """
        self._version += 1
        changed = []
        for job in jobs:
            key = job.key
            old = self._jobs.get(key)
            if old is None or old.created_at != job.created_at:
                if old is not None:
                    self._by_created.remove((old.created_at, key))
                bisect.insort(self._by_created, (job.created_at, key))
            if old is None or old.server != job.server:
                if old is not None:
                    self._server_counts[old.server] -= 1
                self._server_counts[job.server] += 1
            self._jobs[key] = job
            self._rows.pop(key, None)
            self._unprepared.append(key)
            changed.append(job)
        self._measure_word_columns(changed)

    def remove(self, keys: Iterable[str]) -> None:
        """Drop jobs the book no longer has, such as forgotten ones."""
        for key in keys:
            old = self._jobs.pop(key, None)
            if old is None:
                continue
            self._version += 1
            self._by_created.remove((old.created_at, key))
            self._server_counts[old.server] -= 1
            self._rows.pop(key, None)

    def prepare(self, count: int) -> int:
        """Prepare up to `count` rows not yet prepared; return how many remain queued.

        The queue may still name jobs whose rows were prepared on use since, or
        that were removed, so the count is an upper bound.
        """
        while count > 0 and self._unprepared:
            key = self._unprepared.pop()
            if key in self._jobs and key not in self._rows:
                self._row(key)
                count -= 1
        return len(self._unprepared)

    @property
    def prepared_count(self) -> int:
        """How many jobs have a prepared row."""
        return len(self._rows)

    def row(self, key: str) -> Row | None:
        """Return the prepared row of a job, preparing it now if needed."""
        return self._row(key) if key in self._jobs else None

    def _row(self, key: str) -> Row:
        row = self._rows.get(key)
        if row is None:
            job = self._jobs[key]
            row = make_row(job, self._label_of(job.server))
            self._rows[key] = row
        return row

    def set_query(self, text: str) -> None:
        """Filter by this text; see `Query` for its grammar."""
        self.query = parse_query(text)

    def set_sort(self, column: str, descending: bool) -> None:
        """Sort by a column of COLUMN_KEYS."""
        if column not in COLUMN_KEYS:
            raise ValueError(f"Unknown column {column!r}; use one of {COLUMN_KEYS}.")
        self.sort_column = column
        self.descending = descending

    def servers(self) -> list[str]:
        """Return every server that has a job, sorted by label."""
        servers = [server for server, count in self._server_counts.items() if count]
        return sorted(servers, key=self._label_of)

    def recompute(self, now: datetime) -> None:
        """Rebuild `order` from the jobs, the filter and the sort."""
        state = (self._version, self.server_filter, self.sort_column, self.descending)
        if state == self._last_state and narrows(self._last_query, self.query):
            # Typing one more letter only removes rows, and removing rows
            # keeps the order, so only the rows shown now need a look.
            self.order = self._matching(self.order)
        else:
            keys = [key for _, key in reversed(self._by_created)]
            if self.server_filter is not None:
                server = self.server_filter
                keys = [key for key in keys if self._jobs[key].server == server]
            self.order = self._sorted(self._matching(keys), now.timestamp())
        self._last_state = state
        self._last_query = self.query

    def _matching(self, keys: list[str]) -> list[str]:
        query = self.query
        if not query:
            return keys
        word_states = query.word_states
        rows = self._rows
        return [
            key
            for key in keys
            if row_matches(rows.get(key) or self._row(key), query, word_states)
        ]

    def _sorted(self, keys: list[str], now: float) -> list[str]:
        """Sort keys, newest first within equal values; None values go last."""
        column = self.sort_column
        if column == "created":
            return keys if self.descending else keys[::-1]

        values = {key: sort_value(column, self._row(key), now) for key in keys}
        present = [key for key in keys if values[key] is not None]
        absent = [key for key in keys if values[key] is None]
        # Python's sort is stable in both directions, so ties keep the
        # newest-first order of `keys`.
        present.sort(key=values.__getitem__, reverse=self.descending)
        return present + absent

    def _measure_word_columns(self, jobs: Iterable[Job]) -> None:
        """Widen the status and server columns to their longest word, up to a cap."""
        statuses = {job.status for job in jobs}
        servers = {job.server for job in jobs}
        longest_status = max((len(word) for word in statuses), default=0)
        longest_server = max((len(self._label_of(s)) for s in servers), default=0)
        self.status_width = min(
            STATUS_MAX_WIDTH, max(self.status_width, longest_status)
        )
        self.server_width = min(
            SERVER_MAX_WIDTH, max(self.server_width, longest_server)
        )

    def column_widths(self, total: int, padding: int) -> list[int]:
        """Return each column's content width for a table `total` cells wide.

        A width of 0 hides the column, padding included. While the name column
        would be narrower than NAME_COMFORT_WIDTH, the NARROW_HIDDEN columns
        go, then the metric column narrows.
        """
        widths = []
        for column in COLUMNS:
            if column.width is None:
                widths.append(0)  # The name column: set below.
            elif column.key == "status":
                widths.append(self.status_width)
            elif column.key == "server":
                widths.append(self.server_width)
            else:
                widths.append(max(column.width, len(column.label) + SORT_MARK_WIDTH))

        def name_width() -> int:
            visible = [width for width in widths[1:] if width > 0]
            return total - sum(visible) - padding * 2 * (len(visible) + 1)

        for key in NARROW_HIDDEN:
            if name_width() < NAME_COMFORT_WIDTH:
                widths[COLUMN_KEYS.index(key)] = 0
        metric = COLUMN_KEYS.index("metric")
        if name_width() < NAME_COMFORT_WIDTH:
            widths[metric] = min(widths[metric], METRIC_NARROW_WIDTH)
        widths[0] = max(NAME_MIN_WIDTH, name_width())
        return widths

    def cells(
        self, key: str, now: datetime, theme: Theme, name_width: int
    ) -> list[Text]:
        """Return the text of a job's cells, in COLUMNS order."""
        row = self._row(key)
        job = row.job
        return [
            name_text(job, name_width),
            status_text(job.status, theme),
            metric_text(job),
            Text(progress_text(job)),
            Text(row.server),
            Text(relative_time(job.created_at, now)),
            Text(duration_text(self._duration(row, now))),
        ]

    @staticmethod
    def _duration(row: Row, now: datetime) -> float | None:
        if row.created is None:
            return None
        end = row.ended if row.ended is not None else now.timestamp()
        return end - row.created


def name_text(job: Job, width: int) -> Text:
    """Return `name:version`, in italics with a note for a build started elsewhere.

    The name is cut to leave the note in view, because the note is the only
    sign besides the style that another client started the build.
    """
    if job.origin != ORIGIN_LISTED:
        return Text(job.label)
    note = f" {EXTERNAL_NOTE}"
    label = Text(job.label, style="italic")
    label.truncate(max(1, width - len(note)), overflow="ellipsis")
    label.append(note, style="dim")
    return label
