"""Command line: `plexe-tui` opens the app, `plexe-tui engine` runs the local engine."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from plexe_tui import __version__
from plexe_tui.store import config, paths
from plexe_tui.store.config import HOSTED_BASE_URL

log = logging.getLogger(__name__)

DESCRIPTION = """\
Build machine-learning models from a terminal. Describe a goal in plain words,
pick a dataset, and follow every build in a job list.

With no API key and no base URL, plexe-tui starts a local engine on 127.0.0.1
that trains scikit-learn models on your own machine, so everything works
offline. Set PLEXE_API_KEY to use the hosted Plexe platform instead, or name a
server profile of config.toml with --server.
"""

EPILOG = f"""\
environment:
  PLEXE_API_KEY    API key for the hosted platform; wins over a key written in
                   config.toml
  PLEXE_BASE_URL   server to use instead of the profile's; defaults to
                   {HOSTED_BASE_URL} when PLEXE_API_KEY is set

files:
  settings         {paths.config_dir() / config.FILE_NAME}
  jobs             {paths.config_dir() / "jobs.toml"}
  engine data      {paths.data_dir() / "engine"}
  logs             {paths.log_dir()}
"""


ENGINE_EPILOG = """\
environment:
  PLEXE_ENGINE_MAX_PARALLEL_BUILDS  builds that train at once (default 1);
                                    the others wait in a queue
  PLEXE_ENGINE_DOWNLOAD_MAX_BYTES   size limit of a dataset given as a URL,
                                    in bytes (default 1 GiB)
  PLEXE_ENGINE_DOWNLOAD_TIMEOUT     seconds allowed for that download
                                    (default 10)
  PLEXE_ENGINE_UPLOAD_MAX_BYTES     size limit of an uploaded file, in bytes
                                    (default 1 GiB)
  PLEXE_ENGINE_TOKEN                secret that every request must carry in
                                    x-api-key or Authorization: Bearer;
                                    required with a --host other than
                                    127.0.0.1 or localhost
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for the app and its `engine` subcommand."""
    parser = argparse.ArgumentParser(
        prog="plexe-tui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    parser.add_argument(
        "-s",
        "--server",
        metavar="NAME",
        help="server profile of config.toml to use, e.g. local or hosted "
        "(default: its default_profile, else hosted when PLEXE_API_KEY is set, "
        "else local)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="server to talk to instead of the profile's, e.g. "
        "http://127.0.0.1:8765 for an engine started with 'plexe-tui engine' "
        "(default: $PLEXE_BASE_URL)",
    )

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "locate",
        help="print where the settings, jobs, data and logs are",
        description="Print the paths of plexe-tui's files, one per line.",
    )
    commands.add_parser(
        "config",
        help="print the settings in effect, with API keys masked",
        description="Print the server, key source and settings that the app "
        "would use with the same options. API keys are shown as ***. No file is "
        "changed; the exit status is 1 when config.toml cannot be read.",
    )
    engine = commands.add_parser(
        "engine",
        help="run the local engine in the foreground (Ctrl+C stops it)",
        description="Run the local Plexe-compatible engine in the foreground. "
        "It logs to stderr; Ctrl+C stops it.",
        epilog=ENGINE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    engine.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s)",
    )
    engine.add_argument(
        "--port", type=port_number, default=8765, help="TCP port (default: %(default)s)"
    )
    engine.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="folder for uploads, builds and models "
        f"(default: {paths.data_dir() / 'engine'})",
    )
    engine.add_argument(
        "--log-file",
        type=Path,
        metavar="FILE",
        help="write the log to FILE, rotated at 2 MB with 3 old files kept, "
        "instead of stderr",
    )
    # A listening socket passed by the app, which binds the port itself.
    engine.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    # Set by the app: stop when standard input closes, which happens when the app
    # exits for any reason, SIGKILL included, so no engine outlives its app.
    engine.add_argument(
        "--exit-with-stdin", action="store_true", help=argparse.SUPPRESS
    )
    return parser


def port_number(text: str) -> int:
    """Parse a TCP port for argparse: a whole number from 0 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 0 and 65535")
    return port


def check_base_url(text: str) -> str:
    """Return the URL without a trailing slash; raise ValueError naming the fix."""
    return config.normalize_base_url(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "engine":
        return run_engine(args)
    if args.command == "locate":
        return run_locate()
    if args.command == "config":
        return run_config(args)
    return run_app(args)


def run_engine(args: argparse.Namespace) -> int:
    """Run the engine until Ctrl+C or SIGTERM."""
    from plexe_tui.engine.launcher import INSTALL_HINT, missing_engine_modules

    missing = missing_engine_modules()
    if missing:
        print(
            f"plexe-tui: {', '.join(missing)} not installed. {INSTALL_HINT}",
            file=sys.stderr,
        )
        return 2

    from plexe_tui.engine.logs import LOG_FILE_VARIABLE, configure_logging
    from plexe_tui.engine.serve import serve

    if args.log_file is not None:
        args.log_file.parent.mkdir(parents=True, exist_ok=True)
        # Training processes inherit the variable and log to the same file.
        os.environ[LOG_FILE_VARIABLE] = str(args.log_file)
    configure_logging(rotate=True)
    if args.exit_with_stdin:
        threading.Thread(target=_stop_on_stdin_eof, daemon=True).start()
    data_dir = args.data_dir or paths.data_dir() / "engine"
    if data_dir.exists() and not data_dir.is_dir():
        print(
            f"plexe-tui: --data-dir {data_dir} is a file; give a folder (it is "
            "created if missing).",
            file=sys.stderr,
        )
        return 2
    serve(host=args.host, port=args.port, data_dir=data_dir, fd=args.fd)
    return 0


def _stop_on_stdin_eof() -> None:
    """Wait for standard input to close, then stop this process like Ctrl+C would."""
    # os.read, not sys.stdin: a thread blocked in a buffered read holds the
    # buffer's lock, which makes interpreter shutdown abort.
    while os.read(0, 4096):
        pass
    logging.getLogger(__name__).info("The app closed the engine's input; stopping")
    os.kill(os.getpid(), signal.SIGTERM)


def run_app(args: argparse.Namespace) -> int:
    """Open the app on the chosen server, or on a local engine."""
    config_path = paths.config_dir() / config.FILE_NAME
    loaded = config.load_config(config_path)
    choice = server_from_options(args, loaded.settings)
    if isinstance(choice, int):
        return choice

    if choice.base_url is None:
        from plexe_tui.engine.launcher import INSTALL_HINT, missing_engine_modules

        missing = missing_engine_modules()
        if missing:
            print(
                f"plexe-tui: no server is configured and the local engine cannot "
                f"run: {', '.join(missing)} not installed.\n{INSTALL_HINT}",
                file=sys.stderr,
            )
            return 2

    from plexe_tui.app_logging import setup_app_logging

    secrets = loaded.settings.api_keys(os.environ)
    secret_filter = setup_app_logging(paths.log_dir(), secrets)
    if choice.api_key:
        secret_filter.add_secret(choice.api_key)
    _create_config_file(config_path, loaded)

    from plexe_tui.ui.app import AppSettings, create_app

    settings = AppSettings(
        base_url=choice.base_url,
        api_key=choice.api_key,
        config_dir=paths.config_dir(),
        engine_data_dir=paths.data_dir() / "engine",
        log_dir=paths.log_dir(),
        config=loaded.settings,
        config_warnings=loaded.warnings,
        profile=choice.profile,
    )
    log.info(
        "plexe-tui %s started: profile %s, server %s, %s",
        __version__,
        choice.profile,
        choice.base_url or "local engine",
        key_source_text(choice),
    )
    app = create_app(settings)
    app.run()
    log.info("plexe-tui stopped with exit code %s", app.return_code or 0)
    return app.return_code or 0


def key_source_text(choice: config.ServerChoice) -> str:
    """Say where the API key comes from, for the log; never the key itself."""
    if choice.base_url is None:
        return "no API key (the local engine needs none)"
    if choice.api_key:
        return f"API key from {choice.key_source}"
    return "no API key set"


def server_from_options(
    args: argparse.Namespace, settings: config.Settings
) -> config.ServerChoice | int:
    """Apply --server, --base-url and the environment; an int is an exit status."""
    base_url = args.base_url or os.environ.get("PLEXE_BASE_URL") or None
    if base_url is not None:
        try:
            base_url = check_base_url(base_url)
        except ValueError as exc:
            source = "--base-url" if args.base_url else "PLEXE_BASE_URL"
            print(f"plexe-tui: {exc} (from {source})", file=sys.stderr)
            return 2
    try:
        return config.choose_server(settings, args.server, base_url, os.environ)
    except config.ConfigError as exc:
        print(f"plexe-tui: {exc}", file=sys.stderr)
        return 2


def _create_config_file(path: Path, loaded: config.ConfigLoad) -> None:
    """Write the documented defaults on first start, so the file can be edited."""
    try:
        config.write_default_config(path)
    except OSError as exc:
        log.error("Cannot create %s: %s", path, exc)
        loaded.warnings.append(
            f"Cannot create {path}: {exc.strerror}. The app uses the defaults."
        )


def run_locate() -> int:
    """Print the paths of the app's files, one line each, labelled as in --help."""
    log_dir = paths.log_dir()
    rows = [
        ("settings", paths.config_dir() / config.FILE_NAME),
        ("jobs", paths.config_dir() / "jobs.toml"),
        ("engine data", paths.data_dir() / "engine"),
        ("logs", log_dir),
    ]
    for label, path in rows:
        print(f"{label}: {path}")
    return 0


def run_config(args: argparse.Namespace) -> int:
    """Print the settings the app would use with these options, keys masked."""
    from textual.theme import BUILTIN_THEMES

    from plexe_tui.ui.themes import config_value
    from plexe_tui.ui.user_settings import check_user_settings

    config_path = paths.config_dir() / config.FILE_NAME
    loaded = config.load_config(config_path, read_only=True)
    # The app checks theme names and key remaps once its screens exist. The
    # same check here keeps this command from listing what the app ignores.
    check = check_user_settings(loaded.settings, BUILTIN_THEMES)
    for warning in [*loaded.warnings, *check.warnings]:
        print(f"plexe-tui: {warning}", file=sys.stderr)
    choice = server_from_options(args, loaded.settings)
    if isinstance(choice, int):
        return choice

    in_effect = dataclasses.replace(
        loaded.settings, theme=config_value(check.theme), keys=check.keymap
    )
    print(config.describe_settings(config_path, in_effect, choice))
    return 1 if loaded.unreadable else 0
