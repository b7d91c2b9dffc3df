"""The servers the app follows: one connection and one poll loop per server.

The app talks to one server of its own (the local engine, or the URL it was
started with): new builds go there unless the form chooses another server, and
its list is always followed. Jobs in the history remember their server, so a
job still running on another server gets a poll loop of its own, which ends
once none of that server's jobs is active.

Every server has at most one connection, which the poll loop, the build form
and the detail screen's actions share. A connection stays open after its loop
ends, so that actions on that server's finished jobs reuse it, and closes when
the app does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from plexe_tui.ui.connection import LOCAL_SERVER, Connection
from plexe_tui.ui.poller import Poller, Scheduler
from plexe_tui.ui.server_features import ServerFeatures
from plexe_tui.ui.server_sync import ServerSync

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp

log = logging.getLogger(__name__)

ApiKeyLookup = Callable[[str], str | None]
"""Returns the API key to send to a server, given its base URL; None sends none.

The app calls it once per server it connects to besides its own, whose key
comes from the app's settings. It must not block: it runs on the UI's thread.
"""

LocalEngineFactory = Callable[[], Connection]
"""Returns a new, unopened connection that starts a local engine when opened."""


def server_label(server: str) -> str:
    """Return `local`, or the host of a base URL with its port when it names one."""
    if server == LOCAL_SERVER:
        return LOCAL_SERVER
    parts = urlsplit(server)
    host = parts.hostname or server
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port is not None else host


@dataclass(frozen=True)
class PollPolicy:
    """How often and how much a poll loop may ask a server."""

    interval: float
    """Seconds between rounds."""
    max_requests_per_minute: float
    """A round that sent more requests waits longer, to stay under this rate."""
    status_calls: int
    """Per-build status calls allowed in one round."""
    refresh_building: bool
    """Whether spare status calls refresh builds a list already covered."""


# The local engine responds within milliseconds and has no rate limit, so its
# running builds also get status calls for the fields lists leave out. The
# hosted platform's examples poll every 10 to 15 s, and its rate limit tiers
# are 100 or 500 requests a minute, shared with everything else the user runs.
LOCAL_POLICY = PollPolicy(
    interval=2.0, max_requests_per_minute=120, status_calls=3, refresh_building=True
)
REMOTE_POLICY = PollPolicy(
    interval=15.0, max_requests_per_minute=12, status_calls=3, refresh_building=False
)


class ServerLink:
    """One server's connection, poll loop and list-reading state."""

    def __init__(
        self,
        app: PlexeApp,
        connection: Connection,
        *,
        primary: bool,
        interval: float | None,
        clock: Callable[[], float],
        scheduler: Scheduler | None,
    ) -> None:
        self.app = app
        self.connection = connection
        self.primary = primary
        self.server = connection.server
        self.label = server_label(self.server)
        self.policy = LOCAL_POLICY if connection.is_local else REMOTE_POLICY
        self.sync = ServerSync(
            self.server,
            status_calls=self.policy.status_calls,
            refresh_building=self.policy.refresh_building,
        )
        self.poller = Poller(
            app,
            self.poll,
            interval=interval if interval is not None else self.policy.interval,
            on_change=lambda: app.server_changed.publish(None),
            name=f"poll {self.label}",
            clock=clock,
            scheduler=scheduler,
        )
        self.retired = False
        """Whether the loop ended because the server has no active job left."""

    def state_text(self) -> str:
        """Describe the link for a status line: `updated 5 s ago`, `offline, …`."""
        connection = self.connection
        poller = self.poller
        if connection.starting:
            return "starting…"
        if connection.error:
            return f"unavailable: {connection.error}"
        if poller.failure:
            return poller.retry_text()
        if poller.last_success is not None:
            age = max(0, round(poller.clock() - poller.last_success))
            return f"updated {age} s ago"
        return "connecting…"

    async def restart_engine_if_exited(self) -> None:
        """Start the local engine again if it died, and tell the user."""
        if await self.connection.restart_if_exited():
            # A start that failed again, say because another engine still
            # locks the folder, keeps its error on the status line instead.
            if self.connection.error is None:
                self.app.notify(
                    "The local engine stopped unexpectedly and was started "
                    "again; unfinished builds resume.",
                    title="Server",
                    severity="warning",
                    markup=False,
                )
            self.app.server_changed.publish(None)

    async def poll(self) -> float | None:
        """Run one round; return the wait that keeps the request rate in budget."""
        await self.restart_engine_if_exited()
        client = await self.connection.client()
        book = self.app.book
        result = await self.sync.run(client, book.active(self.server))
        self.app.jobs_updated(book.apply_round(self.server, result))
        if result.failure is not None:
            raise result.failure

        if not self.primary and not book.active(self.server):
            await self.app.servers.retire(self)
        return result.requests * 60 / self.policy.max_requests_per_minute


class ServerRegistry:
    """Every connection and server link of the app, the app's own server first.

    `api_key_for` gives the key of every server but the app's own; see
    `ApiKeyLookup`. `local_engine` makes the connection of a local engine when
    the app's own server is not one and the user chooses the local engine.
    """

    def __init__(
        self,
        app: PlexeApp,
        primary: Connection,
        *,
        api_key_for: ApiKeyLookup,
        local_engine: LocalEngineFactory | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.app = app
        self.api_key_for = api_key_for
        self._local_engine = local_engine or (lambda: Connection(None))
        self._interval = interval
        self._clock = clock
        self._scheduler = scheduler
        self.primary = self._make_link(primary, primary=True)
        self._links: dict[str, ServerLink] = {primary.server: self.primary}
        self._connections: dict[str, Connection] = {primary.server: primary}
        """Every connection by server, open or opening. The app opens the
        primary's, and `connection_for` opens the others."""
        self._features: dict[str, ServerFeatures] = {}
        self._skipped: set[str] = set()

    def _make_link(self, connection: Connection, *, primary: bool) -> ServerLink:
        return ServerLink(
            self.app,
            connection,
            primary=primary,
            interval=self._interval,
            clock=self._clock,
            scheduler=self._scheduler,
        )

    @property
    def links(self) -> list[ServerLink]:
        """Every followed server, the app's own first, the others by label."""
        others = sorted(
            (link for link in self._links.values() if not link.primary),
            key=lambda link: link.label,
        )
        return [self.primary, *others]

    def get(self, server: str) -> ServerLink | None:
        """Return the link of a server, if it is followed."""
        return self._links.get(server)

    def existing_connection(self, server: str) -> Connection | None:
        """Return the connection to `server` if one is open or opening."""
        return self._connections.get(server)

    def connection_for(self, server: str) -> Connection:
        """Return the connection to `server`, creating and opening one if none exists.

        A new connection opens in a worker, and its `client()` waits until it
        has. `local` starts a local engine. Any other server gets
        `api_key_for(server)`: the key of the profile that names it, or none.
        """
        connection = self._connections.get(server)
        if connection is not None:
            return connection
        if server == LOCAL_SERVER:
            connection = self._local_engine()
        else:
            connection = Connection(server, self.api_key_for(server))
        self._connections[server] = connection
        log.info("Connecting to %s", server)
        self.app.run_worker(
            self._open(connection),
            name=f"open {server_label(server)}",
            exit_on_error=False,
        )
        return connection

    async def _open(self, connection: Connection) -> None:
        await connection.open()
        if connection.error:
            self.app.notify(
                connection.error,
                title="Server",
                severity="error",
                timeout=15,
                markup=False,
            )
        self.app.server_changed.publish(None)

    def features_for(self, server: str) -> ServerFeatures:
        """Return the optional endpoints `server` was seen to offer or lack."""
        return self._features.setdefault(server, ServerFeatures())

    def poll_interval(self, server: str) -> float:
        """Return the seconds between polls of `server`: configured, or its policy's."""
        if self._interval is not None:
            return self._interval
        policy = LOCAL_POLICY if server == LOCAL_SERVER else REMOTE_POLICY
        return policy.interval

    def start(self) -> None:
        """Start the app's own loop, and one for every other server with active jobs."""
        self.primary.poller.start()
        self.follow_active()

    def follow_active(self) -> None:
        """Start a poll loop for every server that has active jobs and none yet."""
        for server in sorted(self.app.book.active_servers()):
            if server in self._links:
                continue
            if server == LOCAL_SERVER and server not in self._connections:
                # NOTE: history alone never starts a local engine here. A
                # build sent to `local` from the form starts one. Otherwise
                # local builds resume, and are followed again, the next time
                # the engine starts.
                if server not in self._skipped:
                    log.info("Not following local builds: the app uses a server URL")
                    self._skipped.add(server)
                continue
            link = self._make_link(self.connection_for(server), primary=False)
            self._links[server] = link
            log.info("Following active builds on %s", server)
            link.poller.start()
        self.app.server_changed.publish(None)

    async def replace_primary(self, connection: Connection) -> None:
        """Make `connection` the app's own server, and stop following the old one.

        The old server's active builds get a loop of their own through
        `follow_active` (the caller starts the new loop once the connection
        opens). The old connection is the caller's to close.
        """
        old = self.primary
        old.poller.stop()
        self._links.pop(old.server, None)
        self._connections.pop(old.server, None)
        existing = self._links.pop(connection.server, None)
        if existing is not None:
            existing.poller.stop()
        existing_connection = self._connections.pop(connection.server, None)
        if existing_connection is not None:
            await existing_connection.close()
        self.primary = self._make_link(connection, primary=True)
        self._links[connection.server] = self.primary
        self._connections[connection.server] = connection
        log.info("Now using %s as the app's own server", connection.server)

    def poll_now(self) -> None:
        """Poll every followed server now."""
        for link in self._links.values():
            link.poller.poll_now()

    async def retire(self, link: ServerLink) -> None:
        """End the loop of a server that has no active job left.

        The connection stays open for actions on that server's jobs.
        """
        link.poller.stop()
        link.retired = True
        self._links.pop(link.server, None)
        log.info("No active builds left on %s; stopped polling it", link.server)
        self.app.server_changed.publish(None)

    def stop(self) -> None:
        """Stop every poll loop; calls in flight finish on their own."""
        for link in self._links.values():
            link.poller.stop()

    async def close(self) -> None:
        """Stop every loop and close every connection, the local engine included."""
        self.stop()
        for connection in list(self._connections.values()):
            await connection.close()
