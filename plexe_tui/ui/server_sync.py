"""One polling round for one server: which requests to send, and what came back.

A server that serves `GET /models` is followed with its list: the first page
(the 100 newest models) covers every active build of a normal workload in one
request, and also shows builds that other clients started. Active builds
older than that page are looked up with `?status=pending` and
`?status=building`. Only what no list covers, and servers without the list,
get per-build `GET .../status` calls, a few per round, the longest-waiting
first. A finished build is never asked about again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from plexe_tui.api import ApiError, BuildState, BuildStatus, ModelPage
from plexe_tui.api.errors import (
    AuthError,
    InvalidRequestError,
    NotFoundError,
    ProtocolError,
)
from plexe_tui.api.records import LIST_PAGE_LIMIT
from plexe_tui.store import Job, job_key

if TYPE_CHECKING:
    # The client's module imports httpx, which the first frame does without.
    from plexe_tui.api import PlexeClient

log = logging.getLogger(__name__)

# HTTP statuses with which a server reports that it has no `GET /models`.
NO_LIST_STATUSES = frozenset({404, 405, 501})
FILTERED_STATES = (BuildState.PENDING.value, BuildState.BUILDING.value)
"""States requested with `?status=`: the canonical words of unfinished builds.

A server that filters by other words is detected by `_check_filter`.
"""
MAX_BACKFILL_PAGES = 9
"""Pages of older models read once, one a round, to list builds started elsewhere.

With the first page, the history takes in at most the 1,000 newest models of a
server, so a large account does not flood it.
"""


class ListSupport(Enum):
    """Whether a server serves `GET /models`."""

    UNKNOWN = "unknown"
    YES = "yes"
    NO = "no"


@dataclass
class SyncRound:
    """The results of one polling round for one server."""

    listed: dict[str, BuildStatus] = field(default_factory=dict)
    """Every item of the lists read, by job key. List items may leave out fields."""
    statuses: dict[str, BuildStatus] = field(default_factory=dict)
    """Per-build status responses, by job key."""
    missing: dict[str, str] = field(default_factory=dict)
    """Jobs the server returned 404 for, with its message."""
    complete_filters: set[str] = field(default_factory=set)
    """States whose `?status=` list came back whole, on one page."""
    requests: int = 0
    failure: ApiError | None = None
    """The error that ended the round early; what came before it is kept."""


class ServerSync:
    """Plans and sends the requests of each polling round for one server.

    `status_calls` caps the per-build status calls of a round. With
    `refresh_building`, calls left over refresh builds that a list already
    covered, because list items carry fewer fields (phase, iteration, best
    metric so far) than a status response. The local engine gets that; a
    rate-limited platform does not.
    """

    def __init__(
        self, server: str, *, status_calls: int, refresh_building: bool = False
    ) -> None:
        self.server = server
        self.status_calls = status_calls
        self.refresh_building = refresh_building
        self.list_support = ListSupport.UNKNOWN
        self.filters_usable = True
        self.backfill_offset: int | None = LIST_PAGE_LIMIT
        """Offset of the next older page to read once; None when done."""
        self._backfill_pages = 0
        self._round = 0
        self._checked: dict[str, int] = {}
        """Round in which each job last had a per-build status call."""

    async def run(self, client: PlexeClient, active: list[Job]) -> SyncRound:
        """Send one round of requests about `active`, the server's unfinished jobs."""
        self._round += 1
        result = SyncRound()
        unseen = {job.key: job for job in active}
        try:
            if self.list_support is not ListSupport.NO:
                await self._read_lists(client, unseen, result)
            if not active and self.list_support is ListSupport.NO:
                await client.health()  # So "updated" means the server responded.
                result.requests += 1
            await self._read_statuses(client, unseen, active, result)
        except ApiError as exc:
            result.failure = exc
        return result

    async def _read_lists(
        self, client: PlexeClient, unseen: dict[str, Job], result: SyncRound
    ) -> None:
        first = await self._list_page(client, result)
        if first is None:
            return
        self._take(first, unseen, result)
        await self._backfill(client, first, unseen, result)

        if unseen and self.filters_usable:
            await self._read_filtered(client, unseen, result)

    async def _list_page(
        self,
        client: PlexeClient,
        result: SyncRound,
        *,
        offset: int = 0,
        status: str | None = None,
    ) -> ModelPage | None:
        """Read one page; return None when the server turns out to have no list."""
        result.requests += 1
        try:
            page = await client.list_models(offset=offset, status=status)
        except ApiError as exc:
            if isinstance(exc, ProtocolError) or exc.status_code in NO_LIST_STATUSES:
                self._give_up_list(exc)
                return None
            raise
        self.list_support = ListSupport.YES
        return page

    def _give_up_list(self, exc: ApiError) -> None:
        if self.list_support is not ListSupport.NO:
            log.info(
                "%s has no usable GET /models (%s); polling builds one by one",
                self.server,
                exc.message,
            )
        self.list_support = ListSupport.NO

    async def _backfill(
        self,
        client: PlexeClient,
        first: ModelPage,
        unseen: dict[str, Job],
        result: SyncRound,
    ) -> None:
        """Read one page of older models, until the list or the page cap ends."""
        offset = self.backfill_offset
        if offset is None:
            return
        if not first.has_more or self._backfill_pages >= MAX_BACKFILL_PAGES:
            self.backfill_offset = None
            return
        page = await self._list_page(client, result, offset=offset)
        if page is None:
            return
        self._take(page, unseen, result)
        self._backfill_pages += 1
        more = page.has_more and bool(page.items)
        self.backfill_offset = offset + LIST_PAGE_LIMIT if more else None

    async def _read_filtered(
        self, client: PlexeClient, unseen: dict[str, Job], result: SyncRound
    ) -> None:
        """Look up active builds older than the first page by their status."""
        for state in FILTERED_STATES:
            if not any(job.status == state for job in unseen.values()):
                continue
            try:
                page = await self._list_page(client, result, status=state)
            except InvalidRequestError as exc:
                log.info(
                    "%s rejected GET /models?status=%s (%s); not filtering again",
                    self.server,
                    state,
                    exc.message,
                )
                self.filters_usable = False
                return
            if page is None:
                return
            self._take(page, unseen, result)
            if not page.has_more:
                result.complete_filters.add(state)

    def _take(self, page: ModelPage, unseen: dict[str, Job], result: SyncRound) -> None:
        for item in page.items:
            key = job_key(item.model_name, item.model_version, self.server)
            result.listed[key] = item
            unseen.pop(key, None)

    async def _read_statuses(
        self,
        client: PlexeClient,
        unseen: dict[str, Job],
        active: list[Job],
        result: SyncRound,
    ) -> None:
        """Ask for the status of the jobs no list covered, then of building ones."""
        chosen = self._least_recently_checked(list(unseen.values()))
        if self.refresh_building and self.list_support is ListSupport.YES:
            building = [
                job
                for job in active
                if job.key not in unseen and job.status == BuildState.BUILDING.value
            ]
            chosen += self._least_recently_checked(building)
        chosen = chosen[: self.status_calls]
        if not chosen:
            return

        result.requests += len(chosen)
        answers = await asyncio.gather(
            *(client.get_status(job.model_name, job.model_version) for job in chosen),
            return_exceptions=True,
        )
        for job, answer in zip(chosen, answers, strict=True):
            self._checked[job.key] = self._round
            self._record_status(job, answer, unseen, result)

    def _least_recently_checked(self, jobs: list[Job]) -> list[Job]:
        return sorted(jobs, key=lambda job: self._checked.get(job.key, 0))

    def _record_status(
        self,
        job: Job,
        answer: BuildStatus | BaseException,
        unseen: dict[str, Job],
        result: SyncRound,
    ) -> None:
        if isinstance(answer, BuildStatus):
            result.statuses[job.key] = answer
            self._check_filter(job, answer, unseen, result)
        elif isinstance(answer, NotFoundError):
            log.warning("%s is unknown to its server: %s", job.label, answer.message)
            result.missing[job.key] = answer.message
        elif isinstance(answer, ApiError):
            log.warning("Status of %s failed: %s", job.label, answer.message)
            # A rejected key or an unreadable response fails every job alike,
            # so it ends the round and reaches the status line instead of only
            # the log.
            if answer.retryable or isinstance(answer, AuthError | ProtocolError):
                result.failure = result.failure or answer
        elif isinstance(answer, BaseException):
            raise answer

    def _check_filter(
        self,
        job: Job,
        status: BuildStatus,
        unseen: dict[str, Job],
        result: SyncRound,
    ) -> None:
        """Stop filtering if a build was missing from the list of its own status.

        That happens when the server filters by other words than the canonical
        ones (`processing` for `building`, say), so its filtered lists would
        always come back without our builds.
        """
        if (
            self.filters_usable
            and self.list_support is ListSupport.YES
            and job.key in unseen
            and job.status in result.complete_filters
            and status.status == job.status
        ):
            log.info(
                "%s left %s out of GET /models?status=%s; not filtering again",
                self.server,
                job.label,
                job.status,
            )
            self.filters_usable = False
