"""The Textual app: wiring of the jobs, the server connection and the screens."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import Theme

from plexe_tui.api import ApiError, BuildStatus
from plexe_tui.api.errors import AuthError, NotFoundError
from plexe_tui.app_logging import ENGINE_LOG_NAME
from plexe_tui.store import Job, JobStore
from plexe_tui.store.config import FILE_NAME as CONFIG_FILE_NAME
from plexe_tui.store.config import Settings, choose_server, load_config
from plexe_tui.store.drafts import DraftStore
from plexe_tui.store.uploads import UploadCache
from plexe_tui.ui.book import JobBook
from plexe_tui.ui.connection import Connection
from plexe_tui.ui.poller import Poller

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
    monotonic: Callable[[], float] = time.monotonic
    """Source of monotonic seconds, for upload speeds and time left."""
    config: Settings | None = None
    """The settings of config.toml; None reads them from `config_dir`.

    Besides the server, they hold `poll_interval`, `theme`, `keys`, the
    profiles, and `notifications` (toast and bell) for build announcements.
    """
    config_warnings: list[str] = field(default_factory=list)
    """Problems found in config.toml, shown once when the app starts."""
    profile: str | None = None
    """The server profile in use; None when the caller chose the server directly."""


class PlexeApp(App[None]):
    """Jobs list, build form and job detail for one server."""

    TITLE = "plexe-tui"
    CSS_PATH = "app.tcss"
    # `q` quits from the lists only (see the screens): in the form it would
    # close the app while the user meant to type or pick a column.
    BINDINGS = [
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            id="quit-anywhere",
            show=False,
            priority=True,
            tooltip="Quit plexe-tui from any screen",
        ),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            id="help",
            tooltip="List every key of this screen and of the app",
        ),
        Binding(
            "ctrl+t",
            "toggle_theme",
            "Light/dark",
            id="theme",
            show=False,
            tooltip="Switch between the light and dark theme, and save the choice",
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            id="command-palette",
            show=False,
            priority=True,
            tooltip="Search every action of this screen and of the app by name",
        ),
    ]

    def __init__(self, settings: AppSettings, book: JobBook, connection: Connection):
        super().__init__()
        self.settings = settings
        self.config = settings.config or Settings()
        self.profile = settings.profile
        self.keymap: dict[str, str] = {}
        """The remaps of config.toml that were applied: binding id to keys."""
        self.saved_theme: str | None = None
        """The theme as config.toml has it, so only a change is written."""
        self.book = book
        self.connection = connection
        config_dir = book.store.path.parent
        # NOTE: drafts and the upload cache are written on the UI's path: they
        # are a few hundred bytes, and a draft must not be lost on quit.
        self.drafts = DraftStore(config_dir / "drafts.toml")
        self.uploads = UploadCache(config_dir / "uploads.toml")
        self.clock = settings.clock
        self.jobs_changed: Signal[set[str]] = Signal(self, "jobs-changed")
        """Published with the keys of jobs that were added or changed."""
        self.server_changed: Signal[None] = Signal(self, "server-changed")
        """Published when the connection or the poll state changes."""
        self.poller = Poller(
            self,
            self._poll_active,
            interval=poll_interval(settings, connection),
            on_change=lambda: self.server_changed.publish(None),
            name="poll-jobs",
        )
        self._save_pending = False
        self._saving = False

    def on_mount(self) -> None:
        from plexe_tui.ui.screens.jobs import JobsScreen
        from plexe_tui.ui.user_settings import apply_user_settings

        apply_user_settings(self)
        warning = self.book.load()
        self.push_screen(JobsScreen())
        if warning:
            self.notify(warning, title="Jobs file", severity="warning", markup=False)
        # The engine starts after the first frame, so it never delays it.
        self.call_after_refresh(self._open_connection)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Offer every action of the screen and the app, then Textual's own."""
        from plexe_tui.ui.commands import palette_commands

        titles = set()
        for command in palette_commands(self, screen):
            titles.add(command.title)
            yield command
        for command in super().get_system_commands(screen):
            if command.title not in titles:
                yield command

    def action_help(self) -> None:
        from plexe_tui.ui.user_settings import open_help

        open_help(self)

    def action_toggle_theme(self) -> None:
        from plexe_tui.ui.themes import toggled_theme

        self.theme = toggled_theme(self.current_theme)

    def theme_changed(self, theme: Theme) -> None:
        """Recolour the job states, and save a theme the user picked."""
        from plexe_tui.ui.user_settings import save_theme

        self.jobs_changed.publish({job.key for job in self.book.ordered()})
        save_theme(self, theme)

    def request_server_switch(self, profile: str) -> None:
        """Switch to another server profile in the background."""
        self.run_worker(
            self.switch_server(profile),
            name="switch-server",
            group="switch-server",
            exclusive=True,
            exit_on_error=False,
        )

    async def switch_server(self, profile: str) -> None:
        """Talk to another profile's server from now on; all jobs stay listed."""
        choice = choose_server(self.config, profile, None, os.environ)
        old = self.connection
        log.info(
            "Switching from server %s to profile %s (%s)",
            old.server,
            profile,
            choice.base_url or "local engine",
        )
        self.poller.stop()
        self.connection = make_connection(
            self.settings, choice.base_url, choice.api_key
        )
        self.profile = profile
        self.poller.interval = poll_interval(self.settings, self.connection)
        self.server_changed.publish(None)
        # Stopping an engine waits for its process; a build it was training
        # resumes when that engine starts again.
        await asyncio.to_thread(old.stop_engine)
        await old.close()
        self.notify(
            f"Now using {self.connection.label} (profile {profile}).",
            title="Server",
            markup=False,
        )
        await self._connect()

    async def on_unmount(self) -> None:
        self.poller.stop()
        if self._save_pending or self._saving:
            self.book.store.save(self.book.snapshot())
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
        self.book.add(job)
        self.jobs_updated({job.key})

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
                from_disk = await asyncio.to_thread(self.book.store.save, snapshot)
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


def poll_interval(settings: AppSettings, connection: Connection) -> float:
    """Return the seconds between polls: the caller's, config.toml's, or a default."""
    if settings.poll_interval is not None:
        return settings.poll_interval
    if settings.config is not None and settings.config.poll_interval is not None:
        return settings.config.poll_interval
    return LOCAL_POLL_INTERVAL if connection.is_local else REMOTE_POLL_INTERVAL


def make_connection(
    settings: AppSettings, base_url: str | None, api_key: str | None
) -> Connection:
    """Return a connection to `base_url`, or to a local engine when it is None."""
    engine_log = settings.log_dir / ENGINE_LOG_NAME if settings.log_dir else None
    return Connection(
        base_url,
        api_key,
        engine_data_dir=settings.engine_data_dir,
        engine_log=engine_log,
    )


def create_app(settings: AppSettings) -> PlexeApp:
    """Build the app with its store and server connection; tests use this too."""
    if settings.config is None:
        loaded = load_config(settings.config_dir / CONFIG_FILE_NAME)
        settings = dataclasses.replace(
            settings,
            config=loaded.settings,
            config_warnings=[*settings.config_warnings, *loaded.warnings],
        )
    store = JobStore(settings.config_dir / "jobs.toml")
    connection = make_connection(settings, settings.base_url, settings.api_key)
    return PlexeApp(settings, JobBook(store), connection)
