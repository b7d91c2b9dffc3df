"""Command line: `plexe-tui` opens the app, `plexe-tui engine` runs the local engine."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from plexe_tui import __version__
from plexe_tui.store import paths

HOSTED_BASE_URL = "https://api.plexe.ai"

DESCRIPTION = """\
Build machine-learning models from a terminal. Describe a goal in plain words,
pick a dataset, and follow every build in a job list.

With no API key and no base URL, plexe-tui starts a local engine on 127.0.0.1
that trains scikit-learn models on your own machine, so everything works
offline. Set PLEXE_API_KEY to use the hosted Plexe platform instead.
"""

EPILOG = f"""\
environment:
  PLEXE_API_KEY    API key for the hosted platform (never written to disk)
  PLEXE_BASE_URL   server to use instead of the local engine; defaults to
                   {HOSTED_BASE_URL} when PLEXE_API_KEY is set

files:
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
        "--base-url",
        metavar="URL",
        help="server to talk to, e.g. http://127.0.0.1:8765 for an engine started "
        "with 'plexe-tui engine' (default: $PLEXE_BASE_URL, else the local engine)",
    )

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "engine":
        return run_engine(args)
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

    from plexe_tui.engine.serve import serve

    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
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
    """Open the app on the configured server, or on a local engine."""
    api_key = os.environ.get("PLEXE_API_KEY") or None
    base_url = args.base_url or os.environ.get("PLEXE_BASE_URL") or None
    if base_url is None and api_key:
        base_url = HOSTED_BASE_URL
    if base_url is not None:
        try:
            base_url = check_base_url(base_url)
        except ValueError as exc:
            source = "--base-url" if args.base_url else "PLEXE_BASE_URL"
            print(f"plexe-tui: {exc} (from {source})", file=sys.stderr)
            return 2

    if base_url is None:
        from plexe_tui.engine.launcher import INSTALL_HINT, missing_engine_modules

        missing = missing_engine_modules()
        if missing:
            print(
                f"plexe-tui: no server is configured and the local engine cannot "
                f"run: {', '.join(missing)} not installed.\n{INSTALL_HINT}",
                file=sys.stderr,
            )
            return 2

    setup_app_logging(paths.log_dir())

    from plexe_tui.ui.app import AppSettings, create_app

    settings = AppSettings(
        base_url=base_url,
        api_key=api_key,
        config_dir=paths.config_dir(),
        engine_data_dir=paths.data_dir() / "engine",
        log_dir=paths.log_dir(),
    )
    app = create_app(settings)
    app.run()
    return app.return_code or 0


def setup_app_logging(log_dir: Path) -> None:
    """Log to a rotating file: the terminal belongs to the app while it runs."""
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / "plexe-tui.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # httpx logs every request at INFO, which would flood the file while polling.
    logging.getLogger("httpx").setLevel(logging.WARNING)
