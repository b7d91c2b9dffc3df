"""The Textual app: wiring of the jobs, the server connection and the screens."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import Theme

from plexe_tui.api import BuildStatus
from plexe_tui.app_logging import ENGINE_LOG_NAME
from plexe_tui.store import Job, JobStore
from plexe_tui.store.config import FILE_NAME as CONFIG_FILE_NAME
from plexe_tui.store.config import Settings, choose_server, load_config
from plexe_tui.store.drafts import DraftStore
from plexe_tui.store.uploads import UploadCache
from plexe_tui.ui.book import JobBook
from plexe_tui.ui.connection import Connection
from plexe_tui.ui.early_keys import EarlyKeyFilter
from plexe_tui.ui.engine_builds import announce_resumed, request_quit
from plexe_tui.ui.notifications import BuildNotifier, NotifySettings
from plexe_tui.ui.poller import Poller, Scheduler
from plexe_tui.ui.server_features import ServerFeatures
from plexe_tui.ui.servers import ApiKeyLookup, ServerRegistry

log = logging.getLogger(__name__)

# A save slower than this many seconds makes the next one wait
# SAVE_PAUSE_FACTOR times as long, so saving takes at most a fifth of the time.
SLOW_SAVE_SECONDS = 0.1
SAVE_PAUSE_FACTOR = 4.0
# Seconds the jobs file's warning stays: it names a file path to read.
JOBS_FILE_WARNING_SECONDS = 20.0
# Jobs read before the first frame, more than a tall terminal shows. The rest
# of the file is read in a thread right after it.
FIRST_FRAME_JOBS = 100


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
    """Seconds for poll timing, "updated 5 s ago" and upload speeds; tests drive
    it by hand."""
    scheduler: Scheduler | None = None
    """Runs the poll loops' delayed calls; None uses Textual timers."""
    api_key_for: ApiKeyLookup | None = None
    """API key of servers other than `base_url` whose jobs are in the history;
    None sends the key of the config.toml profile with that URL, else none."""
    config: Settings | None = None
    """The settings of config.toml; None reads them from `config_dir`.

    Besides the server, they hold `poll_interval`, `theme`, `keys`, the
    profiles, and `notifications` (toast and bell) for build announcements.
    """
    config_warnings: list[str] = field(default_factory=list)
    """Problems found in config.toml, shown once when the app starts."""
    profile: str | None = None
    """The server profile in use; None when the caller chose the server directly."""
    notify: NotifySettings | None = None
    """Toast and bell when a build ends while its detail is not in front; None
    takes them from config.toml's `notifications`."""


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
        """Published with the keys of jobs that were added, changed or removed.
        A removed job's key is no longer in the book."""
        self.server_changed: Signal[None] = Signal(self, "server-changed")
        """Published when the connection or the poll state changes."""
        self.servers = ServerRegistry(
            self,
            connection,
            api_key_for=settings.api_key_for or self.profile_api_key,
            local_engine=lambda: make_connection(settings, None, None),
            interval=configured_poll_interval(settings),
            clock=settings.monotonic,
            scheduler=settings.scheduler,
        )
        """One connection and poll loop per server with active jobs."""
        self._save_pending = False
        self._saving = False
        self._rows_frozen = False
        self._announce_after_load = False
        self.notifier = BuildNotifier(
            self,
            settings.notify
            or NotifySettings(
                toast=self.config.notifications.toast,
                bell=self.config.notifications.bell,
            ),
        )
        book.status_listeners.append(self.notifier.status_changed)
        self.early_keys = EarlyKeyFilter()
        """Drops keys pressed while a new screen was still being built."""

    @property
    def server_features(self) -> ServerFeatures:
        """Optional endpoints the app's own server was seen to offer or lack."""
        return self.servers.features_for(self.connection.server)

    @property
    def poller(self) -> Poller:
        """The poll loop of the app's own server."""
        return self.servers.primary.poller

    def profile_api_key(self, base_url: str) -> str | None:
        """Return the key of the config.toml profile whose URL is `base_url`.

        A server that no profile names gets no key, so a key meant for one
        server never reaches another recorded in the history.
        """
        return self.config.api_key_for_server(base_url, os.environ)

    def on_mount(self) -> None:
        from plexe_tui.ui.screens.jobs import JobsScreen
        from plexe_tui.ui.user_settings import apply_user_settings

        apply_user_settings(self)
        self.early_keys.watch(self)
        first = self.book.load_newest(FIRST_FRAME_JOBS)
        self.push_screen(JobsScreen())
        self.warn_about_jobs_file(first.warning)
        # The rest of the jobs and the engine come after the first frame, so
        # they never delay it.
        self.call_after_refresh(self._after_first_frame)

    async def on_event(self, event: events.Event) -> None:
        if self.early_keys.is_early(event, self):
            return
        await super().on_event(event)

    def warn_about_jobs_file(self, warning: str | None) -> None:
        """Show a problem with the jobs file, once per start."""
        if warning:
            # It names a file path to read: longer than the 5 s default.
            self.notify(
                warning,
                title="Jobs file",
                severity="warning",
                timeout=JOBS_FILE_WARNING_SECONDS,
                markup=False,
            )

    def _after_first_frame(self) -> None:
        if self.book.complete:
            self.call_after_refresh(freeze_startup_objects)
        else:
            self.run_worker(self._load_all_jobs(), name="load-jobs")
        self._open_connection()

    async def _load_all_jobs(self) -> None:
        """Read the whole jobs file in a thread and add what the first frame lacked."""
        result = await asyncio.to_thread(self.book.store.load)
        added = self.book.add_loaded(result)
        if added:
            self.jobs_changed.publish(added)
            self.servers.follow_active()
        # After the refresh, so that the rows of these jobs exist by then.
        self.call_after_refresh(freeze_startup_objects)
        self.warn_about_jobs_file(result.warning)
        if self._announce_after_load:
            self._announce_after_load = False
            announce_resumed(self)

    def history_rows_prepared(self) -> None:
        """Freeze the objects made for the whole history, once it is read.

        The job list prepares the rows of the history after the first frame,
        and the first save copies every job. Both live as long as their jobs
        do, so they are left out of later full collections like the startup
        objects.
        """
        if self.book.complete and not self._rows_frozen:
            self._rows_frozen = True
            freeze_startup_objects()

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

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Add `$readable-warning` and its kin: theme colours shaded for text."""
        from plexe_tui.ui.themes import readable_text_variables

        return readable_text_variables(self.current_theme)

    async def action_quit(self) -> None:
        """Quit, asking first while builds run on the local engine."""
        request_quit(self)

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
        self.connection = make_connection(
            self.settings, choice.base_url, choice.api_key
        )
        self.profile = profile
        await self.servers.replace_primary(self.connection)
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
        self.servers.stop()
        # Also save when something else changed the file since the last save:
        # were it emptied or broken, the jobs in memory would otherwise be lost.
        store = self.book.store
        if self._save_pending or self._saving or not store.is_current():
            store.save(self.book.snapshot(), dict(self.book.forgotten))
        await self.servers.close()

    def _open_connection(self) -> None:
        self.run_worker(self._connect(), name="connect", exit_on_error=False)

    async def _connect(self) -> None:
        await self.connection.open()
        self.server_changed.publish(None)
        if self.book.complete:
            announce_resumed(self)
        else:
            # Builds to name may be in the part of the file still loading.
            self._announce_after_load = True
        if self.connection.error:
            self.notify(
                self.connection.error,
                title="Server",
                severity="error",
                timeout=15,
                markup=False,
            )
        self.servers.start()

    def apply_status(self, key: str, status: BuildStatus) -> None:
        """Copy a status response into a job, and tell the screens if it changed."""
        if self.book.apply_status(key, status):
            self.jobs_updated({key})

    def add_job(self, job: Job) -> None:
        """Record a new build, follow its server, and tell the screens."""
        self.book.add(job, new=True)
        self.jobs_updated({job.key})
        self.servers.follow_active()

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
        keys = self.book.take_from_disk(jobs)
        if not keys:
            return
        self.jobs_changed.publish(keys)
        self.servers.follow_active()

    def take_forgotten_from_disk(self) -> None:
        """Remove the jobs that another app instance forgot, per the jobs file."""
        removed = self.book.take_forgotten(self.book.store.forgotten)
        if removed:
            self.jobs_changed.publish(removed)

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
                forget = dict(self.book.forgotten)
                started = time.monotonic()
                from_disk = await asyncio.to_thread(
                    self.book.store.save, snapshot, forget
                )
                took = time.monotonic() - started
                self.take_jobs_from_disk(from_disk)
                self.take_forgotten_from_disk()
                for warning in self.book.store.take_warnings():
                    self.warn_about_jobs_file(warning)
                if took > SLOW_SAVE_SECONDS and self._save_pending:
                    # Encoding TOML holds the GIL, so back-to-back saves of a
                    # long history would slow every key press. Later changes
                    # wait, and a quit writes whatever is still pending.
                    await asyncio.sleep(took * SAVE_PAUSE_FACTOR)
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


def configured_poll_interval(settings: AppSettings) -> float | None:
    """Return the caller's or config.toml's seconds between polls, if either sets
    them; None lets each server's poll policy decide."""
    if settings.poll_interval is not None:
        return settings.poll_interval
    if settings.config is not None:
        return settings.config.poll_interval
    return None


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


def freeze_startup_objects() -> None:
    """Leave the objects made so far out of later full garbage collections.

    A full collection walks every tracked object while no other thread runs.
    With the app showing 1,000 jobs, one took 150 to 300 ms on a loaded 2-core
    Xeon, and a save or a poll that allocated enough set one off, which stalled
    the screen (tests/benchmarks/jobs_file.py). Objects made at startup
    (modules, styles, widgets, jobs) mostly live until the app exits.

    NOTE: frozen objects that later become garbage in a reference cycle are
    never freed. Those freed by reference counting, most of them, still are.
    """
    gc.freeze()


def create_app(settings: AppSettings) -> PlexeApp:
    """Build the app with its store and server connection; tests use this too."""
    if settings.config is None:
        loaded = load_config(settings.config_dir / CONFIG_FILE_NAME)
        settings = dataclasses.replace(
            settings,
            config=loaded.settings,
            config_warnings=[*settings.config_warnings, *loaded.warnings],
        )
    max_jobs = (settings.config or Settings()).max_jobs
    store = JobStore(settings.config_dir / "jobs.toml", max_jobs=max_jobs)
    connection = make_connection(settings, settings.base_url, settings.api_key)
    return PlexeApp(settings, JobBook(store), connection)
