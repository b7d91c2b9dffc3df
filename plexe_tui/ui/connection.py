"""The server the app talks to: a fixed URL, or a local engine it starts itself."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from plexe_tui.api import NetworkError
from plexe_tui.engine.launcher import EngineStartError, LocalEngine

if TYPE_CHECKING:
    import httpx

    from plexe_tui.api import PlexeClient

log = logging.getLogger(__name__)

LOCAL_SERVER = "local"
"""Server name stored with jobs of the local engine, whose port changes per run."""


class Connection:
    """Hands out the API client once the server can be reached.

    For the local engine, `open()` starts the engine process and waits for it.
    Every caller of `client()` waits until then, so no request races the start.
    """

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None = None,
        *,
        engine_data_dir: Path | None = None,
        engine_log: Path | None = None,
    ) -> None:
        self.api_key = api_key
        self._base_url = base_url
        self._engine: LocalEngine | None = None
        if base_url is None:
            self._engine = LocalEngine(engine_data_dir, engine_log)
        self._client: PlexeClient | None = None
        self._ready = asyncio.Event()
        self._restart_lock = asyncio.Lock()
        self.error: str | None = None
        self.timeout: httpx.Timeout | None = None
        """The client's timeouts; None keeps the client's defaults."""
        """Timeouts of the client that `open` creates; tests shorten them."""

    @property
    def engine(self) -> LocalEngine | None:
        """The local engine this app started, if any."""
        return self._engine

    @property
    def is_local(self) -> bool:
        """Whether this app started its own engine."""
        return self._engine is not None

    @property
    def server(self) -> str:
        """The name jobs on this server are stored under."""
        return LOCAL_SERVER if self.is_local else str(self._base_url)

    @property
    def label(self) -> str:
        """A short description of the server for the screen."""
        if self._engine is None:
            return str(self._base_url)
        if self._engine.base_url:
            return f"local engine at {self._engine.base_url}"
        return "local engine"

    @property
    def starting(self) -> bool:
        """Whether the server is not ready yet and has not failed."""
        return not self._ready.is_set()

    async def open(self) -> None:
        """Start the local engine if needed, then create the client."""
        # Imported here, after the first frame: the client's module imports httpx.
        from plexe_tui.api import PlexeClient

        try:
            base_url = self._base_url
            if self._engine is not None:
                base_url = await asyncio.to_thread(self._start_engine)
            options = {} if self.timeout is None else {"timeout": self.timeout}
            self._client = PlexeClient(str(base_url), self.api_key, **options)
        except EngineStartError as exc:
            self.error = str(exc)
            log.error("The local engine did not start: %s", exc)
        finally:
            self._ready.set()

    async def restart_if_exited(self) -> bool:
        """Start the local engine again if its process died; return whether it did.

        A build interrupted this way resumes, because the engine re-queues
        unfinished builds when it starts. Callers that race get one restart:
        the first does it, and the others find the engine running.
        """
        async with self._restart_lock:
            engine = self._engine
            if engine is None or not engine.exited or self.starting:
                return False
            log.warning("The local engine exited; starting it again")
            self._ready.clear()
            old_client, self._client = self._client, None
            if old_client is not None:
                await old_client.aclose()
            self.error = None
            await self.open()
            return True

    def lost_engine(self, client: PlexeClient) -> bool:
        """Return whether a request of `client` failed because the local engine died.

        True when the engine has exited, or was started again with a new
        client since `client` was handed out.
        """
        engine = self._engine
        if engine is None:
            return False
        return engine.exited or client is not self._client

    async def client(self) -> PlexeClient:
        """Return the client, waiting for the engine to be ready."""
        await self._ready.wait()
        if self._client is None:
            raise NetworkError(self.error or "The server is not available.")
        return self._client

    async def close(self) -> None:
        """Close the client and stop the engine this app started."""
        if self._client is not None:
            await self._client.aclose()
        self.stop_engine()

    def stop_engine(self) -> None:
        """Stop the local engine, if running; safe to call more than once."""
        if self._engine is not None:
            self._engine.stop()

    def _start_engine(self) -> str:
        assert self._engine is not None
        base_url = self._engine.start()
        self._engine.wait_ready()
        return base_url
