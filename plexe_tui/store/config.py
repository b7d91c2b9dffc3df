"""The settings file, config.toml: server profiles, polling, notifications, theme, keys.

The file is meant to be edited by hand, so it is read leniently. A file that is
not TOML, or that has another format version, is moved aside and the defaults
apply. A field of the wrong type is ignored and the default is used for it.
Every problem becomes one line in `ConfigLoad.warnings`, which the app shows
once. The app rewrites only the line of a field the user changes in the app
(the theme), so hand-written comments and layout survive.

The file may contain API keys, so it is written with mode 0600.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from plexe_tui.store.atomic import write_atomic
from plexe_tui.store.jobs import DEFAULT_MAX_JOBS

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FILE_NAME = "config.toml"
FILE_MODE = 0o600
"""Owner read and write only: the file may contain API keys."""

LOCAL = "local"
"""The `base_url` of a profile whose server is a local engine the app starts."""
HOSTED_BASE_URL = "https://api.plexe.ai"
DEFAULT_KEY_VARIABLE = "PLEXE_API_KEY"

# Seconds. Below one second the app would flood a server with status requests;
# above an hour a build's progress would look frozen.
POLL_INTERVAL_MIN = 1.0
POLL_INTERVAL_MAX = 3600.0

# Jobs the jobs file keeps. Every save writes the whole file and every start
# parses it, which takes about 0.3 s for 5,000 jobs, so the cap keeps the start
# and the saves short.
MAX_JOBS_MIN = 1
MAX_JOBS_MAX = 10_000

DARK = "dark"
LIGHT = "light"


class ConfigError(ValueError):
    """A setting or a command-line choice that cannot be used; the message names it."""


def normalize_base_url(text: str) -> str:
    """Return the URL without a trailing slash; raise ValueError naming the fix.

    Jobs are stored under their server's URL, so `http://host/` and
    `http://host` must be the same string.
    """
    url = text.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"Invalid server URL {text!r}: use http:// or https:// and a host, "
            "e.g. http://127.0.0.1:8765."
        )
    try:
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError:
        raise ValueError(
            f"Invalid server URL {text!r}: the port must be from 0 to 65535."
        ) from None
    return url


@dataclass(frozen=True)
class Profile:
    """A named server and where its API key comes from."""

    name: str
    """The table name under `[profiles]`, given to `--server`."""
    base_url: str
    """`local` for an engine the app starts itself, else the server's http(s) URL."""
    api_key_env: str = DEFAULT_KEY_VARIABLE
    """The environment variable the API key is read from."""
    api_key: str | None = field(default=None, repr=False)
    """A key written in the file, used when `api_key_env` is not set."""

    @property
    def is_local(self) -> bool:
        """Whether this profile starts a local engine."""
        return self.base_url == LOCAL

    def resolve_key(self, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
        """Return the API key and a description of its source, without the key.

        The environment variable wins over a key written in the file.
        """
        from_environment = environ.get(self.api_key_env)
        if from_environment:
            return from_environment, f"${self.api_key_env}"
        if self.api_key:
            return self.api_key, f"api_key of [profiles.{self.name}]"
        return None, None


def default_profiles() -> dict[str, Profile]:
    """Return the profiles every installation has: `local` and `hosted`."""
    return {
        "local": Profile("local", LOCAL),
        "hosted": Profile("hosted", HOSTED_BASE_URL),
    }


@dataclass(frozen=True)
class Notifications:
    """The announcements of a build that finished or failed."""

    toast: bool = True
    """Show a pop-up message in the corner of the screen."""
    bell: bool = True
    """Ring the terminal bell."""


@dataclass(frozen=True)
class Settings:
    """Everything config.toml can set; a missing file gives these defaults."""

    profiles: dict[str, Profile] = field(default_factory=default_profiles)
    """Server profiles by name: `local`, `hosted` and those of the file."""
    default_profile: str | None = None
    """The profile used without `--server`; None picks `hosted` when
    $PLEXE_API_KEY is set, else `local`."""
    poll_interval: float | None = None
    """Seconds between status polls; None picks a default per kind of server."""
    max_jobs: int = DEFAULT_MAX_JOBS
    """Jobs the jobs file keeps; beyond it the oldest finished jobs are dropped."""
    notifications: Notifications = field(default_factory=Notifications)
    theme: str = DARK
    """`dark`, `light`, or the name of any Textual theme."""
    keys: dict[str, str] = field(default_factory=dict)
    """Key remaps: binding id to a key, or to several keys separated by commas."""

    def api_keys(self, environ: Mapping[str, str]) -> list[str]:
        """Return every API key a profile can use, to keep them out of the logs."""
        keys = {
            key
            for profile in self.profiles.values()
            for key in (profile.api_key, environ.get(profile.api_key_env))
            if key
        }
        return sorted(keys)

    def api_key_for_server(
        self, base_url: str, environ: Mapping[str, str]
    ) -> str | None:
        """Return the key of the first profile whose URL is `base_url`, if any."""
        for profile in self.profiles.values():
            if not profile.is_local and profile.base_url == base_url:
                return profile.resolve_key(environ)[0]
        return None


@dataclass
class ConfigLoad:
    """The settings read from the file, and the problems to show the user once."""

    settings: Settings
    warnings: list[str] = field(default_factory=list)
    unreadable: bool = False
    """True when the file exists but is not a settings file this app reads."""


def load_config(path: Path, *, read_only: bool = False) -> ConfigLoad:
    """Read the settings; problems become warnings and never stop the app.

    An unreadable file is moved aside, so that the app never writes over it,
    unless `read_only` is set, as commands that only print settings do.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ConfigLoad(Settings())
    except OSError as exc:
        return ConfigLoad(
            Settings(), [f"Cannot read {path}: {exc.strerror}; using the defaults."]
        )

    warnings: list[str] = []
    permission = permission_warning(path)
    if permission:
        warnings.append(permission)

    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return _unreadable(path, f"{exc}", warnings, read_only)

    # A file written by hand may leave the version out; it means this version.
    version = document.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        reason = f"its format version is {version!r}, and this app reads 1"
        return _unreadable(path, reason, warnings, read_only)

    reader = _Reader(path)
    settings = reader.settings(document)
    return ConfigLoad(settings, warnings + reader.warnings)


def permission_warning(path: Path) -> str | None:
    """Return a warning when users other than the owner can read the file.

    NOTE: POSIX permission bits only; on Windows this check is skipped.
    """
    if os.name == "nt":
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    return (
        f"{path} can be read by other users (mode {mode:04o}), and it may hold "
        f"API keys. Run: chmod 600 {path}"
    )


def _unreadable(
    path: Path, reason: str, warnings: list[str], read_only: bool
) -> ConfigLoad:
    """Return the defaults with a warning, moving the file aside unless read-only."""
    if read_only:
        warning = (
            f"Cannot read {path} ({reason}). The file is left as it is; fix it, "
            "or the app moves it aside at its next start and uses the default "
            "settings."
        )
    else:
        warning = _set_aside(path, reason)
    return ConfigLoad(Settings(), [*warnings, warning], unreadable=True)


def _set_aside(path: Path, reason: str) -> str:
    """Rename an unreadable file so that nothing overwrites it; return the warning."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        path.replace(aside)
    except OSError as exc:
        log.error("Cannot move %s aside: %s", path, exc)
        return f"Cannot read {path} ({reason}); using the defaults."
    log.warning("Moved unreadable %s to %s: %s", path, aside, reason)
    return (
        f"Cannot read {path} ({reason}). It was moved to {aside.name}, and the "
        "app uses the default settings."
    )


class _Reader:
    """Turns a parsed document into Settings, collecting a warning per bad field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []

    def warn(self, where: str, value: Any, expected: str) -> None:
        self.warnings.append(
            f"Ignored {where} = {value!r} in {self.path.name}: expected {expected}."
        )

    def settings(self, document: dict[str, Any]) -> Settings:
        known = {
            "version",
            "default_profile",
            "poll_interval",
            "max_jobs",
            "theme",
            "notifications",
            "keys",
            "profiles",
        }
        for name in document.keys() - known:
            self.warnings.append(
                f"Ignored unknown setting {name!r} in {self.path.name}."
            )

        profiles = self.profiles(document.get("profiles", {}))
        return Settings(
            profiles=profiles,
            default_profile=self.default_profile(document, profiles),
            poll_interval=self.poll_interval(document.get("poll_interval")),
            max_jobs=self.max_jobs(document.get("max_jobs", DEFAULT_MAX_JOBS)),
            notifications=self.notifications(document.get("notifications", {})),
            theme=self.text(document, "theme", DARK),
            keys=self.keys(document.get("keys", {})),
        )

    def text(self, table: dict[str, Any], name: str, default: str) -> str:
        value = table.get(name, default)
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.warn(name, value, "text")
        return default

    def default_profile(
        self, document: dict[str, Any], profiles: dict[str, Profile]
    ) -> str | None:
        if "default_profile" not in document:
            return None
        name = document["default_profile"]
        if not isinstance(name, str):
            self.warn("default_profile", name, "the name of a profile")
            return None
        if name not in profiles:
            known = ", ".join(sorted(profiles))
            self.warn("default_profile", name, f"one of the profiles ({known})")
            return None
        return name

    def poll_interval(self, value: Any) -> float | None:
        if value is None:
            return None
        number_types = (int, float)
        if (
            isinstance(value, bool)
            or not isinstance(value, number_types)
            or not POLL_INTERVAL_MIN <= value <= POLL_INTERVAL_MAX
        ):
            self.warn(
                "poll_interval",
                value,
                f"seconds from {POLL_INTERVAL_MIN:g} to {POLL_INTERVAL_MAX:g}",
            )
            return None
        return float(value)

    def max_jobs(self, value: Any) -> int:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not MAX_JOBS_MIN <= value <= MAX_JOBS_MAX
        ):
            self.warn(
                "max_jobs",
                value,
                f"a whole number from {MAX_JOBS_MIN} to {MAX_JOBS_MAX}",
            )
            return DEFAULT_MAX_JOBS
        return value

    def notifications(self, table: Any) -> Notifications:
        if not isinstance(table, dict):
            self.warn("notifications", table, "a table with toast and bell")
            return Notifications()
        defaults = Notifications()
        values: dict[str, bool] = {}
        for name in ("toast", "bell"):
            value = table.get(name, getattr(defaults, name))
            if isinstance(value, bool):
                values[name] = value
            else:
                self.warn(f"notifications.{name}", value, "true or false")
        return Notifications(**values)

    def keys(self, table: Any) -> dict[str, str]:
        if not isinstance(table, dict):
            self.warn("keys", table, "a table of binding id = key")
            return {}
        keys: dict[str, str] = {}
        for binding_id, key in table.items():
            if isinstance(key, str) and key.strip():
                keys[binding_id] = key.strip()
            else:
                self.warn(f"keys.{binding_id}", key, 'a key name such as "f5"')
        return keys

    def profiles(self, tables: Any) -> dict[str, Profile]:
        profiles = default_profiles()
        if not isinstance(tables, dict):
            self.warn("profiles", tables, "a table of profiles")
            return profiles
        for name, table in tables.items():
            profile = self.profile(name, table)
            if profile is not None:
                profiles[name] = profile
        return profiles

    def profile(self, name: str, table: Any) -> Profile | None:
        where = f"profiles.{name}"
        if not isinstance(table, dict):
            self.warn(where, table, "a table with base_url")
            return None

        base_url = table.get("base_url")
        if base_url != LOCAL:
            try:
                if not isinstance(base_url, str):
                    raise ValueError(base_url)
                base_url = normalize_base_url(base_url)
            except ValueError:
                self.warn(f"{where}.base_url", base_url, '"local" or an http(s) URL')
                return None

        key_variable = table.get("api_key_env", DEFAULT_KEY_VARIABLE)
        if not isinstance(key_variable, str) or not key_variable:
            self.warn(f"{where}.api_key_env", key_variable, "a variable name")
            key_variable = DEFAULT_KEY_VARIABLE

        api_key = table.get("api_key")
        if api_key is not None and not isinstance(api_key, str):
            # The value may be a mistyped key, so the warning does not show it.
            self.warnings.append(
                f"Ignored {where}.api_key in {self.path.name}: expected text."
            )
            api_key = None

        for unknown in table.keys() - {"base_url", "api_key_env", "api_key"}:
            self.warnings.append(
                f"Ignored unknown setting {where}.{unknown} in {self.path.name}."
            )
        return Profile(name, base_url, key_variable, api_key or None)


# The file written on first start. It sets nothing that differs from the
# defaults: it lists the settings, so that they can be found and edited.
TEMPLATE = f"""\
# plexe-tui settings. The app reads this file at start; `plexe-tui locate`
# prints where it is. It may hold API keys, so keep it private (chmod 600).
version = {FORMAT_VERSION}

# The server profile used when no --server is given. Left out, the app uses
# "hosted" when $PLEXE_API_KEY is set, else "local".
# default_profile = "local"

# Seconds between status polls of unfinished builds, from 1 to 3600. Left out,
# the app polls the local engine every 2 s and other servers every 15 s.
# poll_interval = 15

# Jobs kept in the jobs file, from {MAX_JOBS_MIN} to {MAX_JOBS_MAX}. Beyond it
# the oldest finished builds are left out of the file; unfinished builds are
# always kept.
# max_jobs = {DEFAULT_MAX_JOBS}

# "dark", "light", or any Textual theme, e.g. "nord" (ctrl+p, then Theme,
# lists them). ctrl+t switches between dark and light and saves the choice here.
theme = "{DARK}"

[notifications]
# When a build finishes or fails: a pop-up message, and the terminal bell.
toast = true
bell = true

# Key remaps: binding id = key. Press ? in the app to see each key's id.
# Several keys are separated by commas.
[keys]
# refresh = "f5"
# new = "ctrl+n,n"

# Server profiles, chosen with --server NAME. base_url is "local" for an
# engine the app starts on this machine, or the server's http(s) URL. The API
# key comes from the environment variable named by api_key_env (default
# PLEXE_API_KEY) or, when that is not set, from api_key written here.
[profiles.local]
base_url = "{LOCAL}"

[profiles.hosted]
base_url = "{HOSTED_BASE_URL}"
api_key_env = "{DEFAULT_KEY_VARIABLE}"
# api_key = "..."
"""


def write_default_config(path: Path) -> bool:
    """Create the file with every setting listed; return False if it exists."""
    if path.exists():
        return False
    write_atomic(path, TEMPLATE.encode("utf-8"), mode=FILE_MODE)
    log.info("Created %s", path)
    return True


def save_setting(path: Path, name: str, value: str | float | bool) -> None:
    """Set one top-level setting, keeping the rest of the file as it was written.

    The setting's line is replaced, or added before the first table when the
    file has none. A missing or unreadable file is replaced by the template with
    this setting. The file is written atomically with mode 0600.
    """
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except FileNotFoundError:
        text, document = TEMPLATE, tomllib.loads(TEMPLATE)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("Rewriting unreadable %s from the template: %s", path, exc)
        text, document = TEMPLATE, tomllib.loads(TEMPLATE)

    edited = with_top_level_line(text, tomli_w.dumps({name: value}).strip())
    if not _sets(edited, name, value):
        # A value written over several lines defeats the line edit: keep the
        # settings and lose the comments rather than write a broken file.
        edited = tomli_w.dumps({**document, name: value})
    write_atomic(path, edited.encode("utf-8"), mode=FILE_MODE)


def _sets(text: str, name: str, value: object) -> bool:
    try:
        return bool(tomllib.loads(text).get(name) == value)
    except tomllib.TOMLDecodeError:
        return False


def with_top_level_line(text: str, line: str) -> str:
    """Return TOML text with `line` (`key = value`) replacing the key's top-level line.

    Only lines before the first table header are top level. A key written there
    is replaced in place. Otherwise the line goes just before the first table,
    or at the end of a file without tables.
    """
    key = line.split("=", 1)[0].strip()
    lines = text.splitlines(keepends=True)
    first_table = len(lines)
    for index, current in enumerate(lines):
        stripped = current.strip()
        if stripped.startswith("["):
            first_table = index
            break
        if stripped.split("=", 1)[0].strip() == key and "=" in stripped:
            lines[index] = line + "\n"
            return "".join(lines)

    before = lines[:first_table]
    if before and not before[-1].endswith("\n"):
        before[-1] += "\n"
    spacer = ["\n"] if first_table < len(lines) else []
    return "".join([*before, line + "\n", *spacer, *lines[first_table:]])


@dataclass(frozen=True)
class ServerChoice:
    """The server the app talks to and the key it sends, after every override."""

    profile: str
    """The profile's name; its URL may have been replaced by `--base-url`."""
    base_url: str | None
    """None starts a local engine."""
    api_key: str | None = field(repr=False)
    key_source: str | None = None
    """The key's source, e.g. `$PLEXE_API_KEY`, which is safe to show."""


def choose_server(
    settings: Settings,
    profile_name: str | None,
    base_url: str | None,
    environ: Mapping[str, str],
) -> ServerChoice:
    """Pick the profile, then let `base_url` (from `--base-url`) replace its URL.

    Raise ConfigError naming the known profiles when `profile_name` is unknown.
    A local engine gets no key; any other server gets the profile's key.
    """
    name = profile_name or settings.default_profile
    if name is None:
        name = "hosted" if environ.get(DEFAULT_KEY_VARIABLE) else "local"
    profile = settings.profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(settings.profiles))
        raise ConfigError(
            f"Unknown server profile {name!r}: choose one of {known}, or add "
            f"[profiles.{name}] to {FILE_NAME}."
        )

    url = base_url or (None if profile.is_local else profile.base_url)
    if url is None:
        return ServerChoice(profile.name, None, None)
    api_key, source = profile.resolve_key(environ)
    return ServerChoice(profile.name, url, api_key, source)


def describe_settings(path: Path, settings: Settings, choice: ServerChoice) -> str:
    """Return the settings in effect as labelled lines; API keys are never shown."""
    if choice.base_url is None:
        key = "none (the local engine needs no key)"
    elif choice.api_key:
        key = f"*** (from {choice.key_source})"
    else:
        key = "not set"
    poll = (
        f"{settings.poll_interval:g} s"
        if settings.poll_interval is not None
        else "the default for the server"
    )
    notifications = settings.notifications
    lines = [
        f"file: {path}",
        f"profile: {choice.profile}",
        f"server: {choice.base_url or 'local engine'}",
        f"api key: {key}",
        f"poll interval: {poll}",
        f"jobs kept: at most {settings.max_jobs} (unfinished ones always)",
        f"theme: {settings.theme}",
        f"notifications: toast {'on' if notifications.toast else 'off'}, "
        f"bell {'on' if notifications.bell else 'off'}",
    ]
    for binding_id, keys in sorted(settings.keys.items()):
        lines.append(f"key: {binding_id} = {keys}")
    for profile in settings.profiles.values():
        where = "local engine" if profile.is_local else profile.base_url
        source = "" if profile.is_local else f", key from ${profile.api_key_env}"
        if profile.api_key and not profile.is_local:
            source += " or the file"
        lines.append(f"profile {profile.name}: {where}{source}")
    return "\n".join(lines)
