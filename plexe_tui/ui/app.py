"""The Textual app: wiring of the jobs, the server connection and the screens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.signal import Signal

from plexe_tui.api import ApiError, BuildStatus
from plexe_tui.api.errors import AuthError, NotFoundError
from plexe_tui.store import Job, JobStore
from plexe_tui.store.drafts import DraftStore
from plexe_tui.store.uploads import UploadCache
from plexe_tui.ui.book import JobBook
from plexe_tui.ui.connection import Connection
from plexe_tui.ui.notifications import BuildNotifier, NotifySettings
from plexe_tui.ui.poller import Poller
from plexe_tui.ui.server_features import ServerFeatures

log = logging.getLogger(__name__)

# Seconds between status polls of active builds. The local engine answers in
# milliseconds; the hosted platform's own examples poll every 10 to 15 s.
LOCAL_POLL_INTERVAL = 2.0
REMOTE_POLL_INTERVAL = 15.0


def utc_clock() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


@dataclass
class AppSettings:
    """Everything the app needs from its caller; the CLI and tests build one."""

    base_url: str | None
    """Server URL; None starts a local engine."""
    api_key: str | None
    config_dir: Path
    """Folder of jobs.toml."""
    engine_data_dir: Path | None = None
    """Folder of the local engine's uploads and models."""
    log_dir: Path | None = None
    poll_interval: float | None = None
    """Seconds between polls; None picks a default for the kind of server."""
    clock: Callable[[], datetime] = utc_clock
    """Source of the current time, for relative times on screen."""
    notify: NotifySettings = field(default_factory=NotifySettings)
    """Toast and bell when a build ends while its detail is not in front."""


class PlexeApp(App[None]):
    """Jobs list, build form and job detail for one server."""

    TITLE = "plexe-tui"
    CSS_PATH = "app.tcss"
    # `q` quits from the lists only (see the screens): in the form it would
    # close the app while the user meant to type or pick a column.
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", show=False, tooltip="Quit"),
    ]

    def __init__(self, settings: AppSettings, book: JobBook, connection: Connection):
        super().__init__()
        self.settings = settings
        self.book = book
        self.connection = connection
        config_dir = book.store.path.parent
        # NOTE: drafts and the upload cache are written on the UI's path: they
        # are a few hundred bytes, and a draft must not be lost on quit.
        self.drafts = DraftStore(config_dir / "drafts.toml")
        self.uploads = UploadCache(config_dir / "uploads.toml")
        self.clock = settings.clock
        self.jobs_changed: Signal[set[str]] = Signal(self, "jobs-changed")
        """Published with the keys of jobs that were added, changed or removed.
        A removed job's key is no longer in the book."""
        self.server_changed: Signal[None] = Signal(self, "server-changed")
        """Published when the connection or the poll state changes."""
        interval = settings.poll_interval
        if interval is None:
            interval = (
                LOCAL_POLL_INTERVAL if connection.is_local else REMOTE_POLL_INTERVAL
            )
        self.poller = Poller(
            self,
            self._poll_active,
            interval=interval,
            on_change=lambda: self.server_changed.publish(None),
            name="poll-jobs",
        )
        self._save_pending = False
        self._saving = False
        self.notifier = BuildNotifier(self, settings.notify)
        self.server_features = ServerFeatures()
        """Optional endpoints the server was seen to offer or lack."""
        book.status_listeners.append(self.notifier.status_changed)

    def on_mount(self) -> None:
        from plexe_tui.ui.screens.jobs import JobsScreen

        warning = self.book.load()
        self.push_screen(JobsScreen())
        if warning:
            self.notify(warning, title="Jobs file", severity="warning", markup=False)
        # The engine starts after the first frame, so it never delays it.
        self.call_after_refresh(self._open_connection)

    async def on_unmount(self) -> None:
        self.poller.stop()
        if self._save_pending or self._saving:
            self.book.store.save(self.book.snapshot(), set(self.book.forgotten))
        await self.connection.close()

    def _open_connection(self) -> None:
        self.run_worker(self._connect(), name="connect", exit_on_error=False)

    async def _connect(self) -> None:
        await self.connection.open()
        self.server_changed.publish(None)
        if self.connection.error:
            self.notify(
                self.connection.error,
                title="Server",
                severity="error",
                timeout=15,
                markup=False,
            )
        self.poller.start()

    async def _poll_active(self) -> None:
        """Fetch the status of every unfinished build on this server."""
        if await self.connection.restart_if_exited():
            self.notify(
                "The local engine stopped unexpectedly and was started again; "
                "unfinished builds resume.",
                title="Server",
                severity="warning",
                markup=False,
            )
            self.server_changed.publish(None)
        client = await self.connection.client()
        jobs = self.book.active(self.connection.server)
        if not jobs:
            await client.health()  # So "updated" means the server responded.
            return

        answers = await asyncio.gather(
            *(client.get_status(job.model_name, job.model_version) for job in jobs),
            return_exceptions=True,
        )

        changed: set[str] = set()
        for job, answer in zip(jobs, answers, strict=True):
            if isinstance(answer, BuildStatus):
                if self.book.apply_status(job.key, answer):
                    changed.add(job.key)
            elif isinstance(answer, NotFoundError):
                log.warning("%s is unknown to its server: %s", job.label, answer)
                if self.book.mark_missing(job.key, answer.message):
                    changed.add(job.key)
            elif isinstance(answer, ApiError):
                log.warning("Status of %s failed: %s", job.label, answer.message)
                # A rejected key fails every job alike; raising it puts the
                # message on the server line instead of only in the log.
                if answer.retryable or isinstance(answer, AuthError):
                    self.jobs_updated(changed)
                    raise answer
            elif isinstance(answer, BaseException):
                raise answer
        self.jobs_updated(changed)

    def apply_status(self, key: str, status: BuildStatus) -> None:
        """Copy a status response into a job, and tell the screens if it changed."""
        if self.book.apply_status(key, status):
            self.jobs_updated({key})

    def add_job(self, job: Job) -> None:
        """Record a new build and tell the screens."""
        self.book.add(job, new=True)
        self.jobs_updated({job.key})

    def forget_job(self, key: str) -> None:
        """Remove a job from the history and the jobs file, and tell the screens."""
        if self.book.remove(key) is not None:
            self.jobs_updated({key})

    def jobs_updated(self, keys: set[str]) -> None:
        """Publish changed jobs and write the jobs file in the background."""
        if not keys:
            return
        self.jobs_changed.publish(keys)
        self.request_save()

    def take_jobs_from_disk(self, jobs: list[Job]) -> None:
        """Show jobs another app instance saved, without saving again for them."""
        if not jobs:
            return
        for job in jobs:
            self.book.add(job)
        self.jobs_changed.publish({job.key for job in jobs})

    def request_save(self) -> None:
        """Write the jobs file off the UI's path; saves never overlap."""
        self._save_pending = True
        if not self._saving:
            self._saving = True
            self.run_worker(self._save_loop(), name="save-jobs", exit_on_error=False)

    async def _save_loop(self) -> None:
        try:
            while self._save_pending:
                self._save_pending = False
                snapshot = self.book.snapshot()
                forget = set(self.book.forgotten)
                from_disk = await asyncio.to_thread(
                    self.book.store.save, snapshot, forget
                )
                self.take_jobs_from_disk(from_disk)
        except OSError as exc:
            log.error("Cannot write %s: %s", self.book.store.path, exc)
            self.notify(
                f"Cannot write {self.book.store.path}: {exc.strerror}. "
                "Jobs stay in memory; check the folder's permissions and space.",
                title="Jobs file",
                severity="error",
                markup=False,
            )
        finally:
            self._saving = False


def create_app(settings: AppSettings) -> PlexeApp:
    """Build the app with its store and server connection; tests use this too."""
    store = JobStore(settings.config_dir / "jobs.toml")
    engine_log = settings.log_dir / "engine.log" if settings.log_dir else None
    connection = Connection(
        settings.base_url,
        settings.api_key,
        engine_data_dir=settings.engine_data_dir,
        engine_log=engine_log,
    )
    return PlexeApp(settings, JobBook(store), connection)
