"""The servers a build can go to, and which API key each one gets.

The choices are the profiles of config.toml, the app's own server, and every
other server in the job history. A server gets only the key of the profile
that names it (the app's own server, the key it was started with), so a key
meant for one server never reaches another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from plexe_tui.store.config import DEFAULT_KEY_VARIABLE, Profile
from plexe_tui.ui.connection import LOCAL_SERVER

if TYPE_CHECKING:
    from plexe_tui.ui.app import PlexeApp


@dataclass(frozen=True)
class ServerOption:
    """One entry of the build form's server choice."""

    server: str
    """`local` or a base URL: the name jobs on that server are stored under."""
    label: str
    """The profile's name and the URL, as the form shows them."""
    profile: str | None = None
    """The config.toml profile that names the server, if any."""


def server_options(app: PlexeApp) -> list[ServerOption]:
    """Return the servers a build can go to: profiles first, then the history's.

    Each server appears once. A profile that names the app's own server is
    listed with the app's profile name when it has one.
    """
    options: dict[str, ServerOption] = {}
    own = app.connection.server
    profiles = list(app.config.profiles.values())
    if app.profile in app.config.profiles:
        profiles.sort(key=lambda profile: profile.name != app.profile)
    for profile in profiles:
        server = LOCAL_SERVER if profile.is_local else profile.base_url
        if profile.name == app.profile:
            server = own  # --base-url may have replaced the profile's URL.
        if server not in options:
            options[server] = ServerOption(
                server, option_label(profile.name, server, own), profile.name
            )

    history = {job.server for job in app.book.ordered()} | {own}
    for server in sorted(history - options.keys()):
        options[server] = ServerOption(server, option_label(None, server, own))

    return sorted(options.values(), key=lambda option: option.server != own)


def option_label(profile: str | None, server: str, own: str) -> str:
    """Return `profile · URL`, marked `in use` or `job history` where that applies."""
    where = "local engine on this machine" if server == LOCAL_SERVER else server
    label = f"{profile} · {where}" if profile is not None else where
    if server == own:
        return f"{label} (in use)"
    if profile is None:
        return f"{label} (job history)"
    return label


def describe_server(server: str) -> str:
    """Name a server in a sentence: `the local engine`, or its URL."""
    return "the local engine" if server == LOCAL_SERVER else server


def key_profile(app: PlexeApp, server: str) -> Profile | None:
    """Return the profile whose key `server` gets, if a profile names it."""
    if server == app.connection.server and app.profile in app.config.profiles:
        return app.config.profiles[app.profile]
    for profile in app.config.profiles.values():
        if not profile.is_local and profile.base_url == server:
            return profile
    return None


def has_api_key(app: PlexeApp, server: str) -> bool:
    """Return whether the app sends an API key to `server`."""
    if server == LOCAL_SERVER:
        return False
    connection = app.servers.existing_connection(server)
    if connection is not None:
        return connection.api_key is not None
    return app.servers.api_key_for(server) is not None


def key_variable(app: PlexeApp, server: str) -> str | None:
    """Return the variable that the key of `server` is read from, or None when
    the app sends that server no key."""
    if not has_api_key(app, server):
        return None
    profile = key_profile(app, server)
    return profile.api_key_env if profile is not None else DEFAULT_KEY_VARIABLE


def submit_note(app: PlexeApp, server: str) -> str | None:
    """Return a note on what submitting to `server` involves, or None if nothing."""
    if server == LOCAL_SERVER:
        if app.servers.existing_connection(LOCAL_SERVER) is None:
            return "The local engine is not running; submitting starts it."
        return None
    if has_api_key(app, server):
        return None
    profile = key_profile(app, server)
    if profile is None:
        return (
            "No profile in config.toml names this server, so it gets no API "
            "key. Add a profile with its base_url to send one."
        )
    return (
        f"Profile {profile.name} has no API key ({profile.api_key_env} is not "
        "set). A server that needs one rejects the build."
    )
