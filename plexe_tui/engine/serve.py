"""Running the engine with uvicorn, from Python or from the command line.

``python -m plexe_tui.engine --port 8765`` runs the same ``serve`` function.
"""

import argparse
import dataclasses
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import platformdirs
import uvicorn

from plexe_tui.engine.access import TokenRequired, check_exposure
from plexe_tui.engine.app import create_app
from plexe_tui.engine.folder_lock import FolderInUse, FolderLock
from plexe_tui.engine.logs import configure_logging
from plexe_tui.engine.settings import (
    DOWNLOAD_MAX_BYTES_VARIABLE,
    DOWNLOAD_TIMEOUT_VARIABLE,
    MAX_PARALLEL_BUILDS_VARIABLE,
    TOKEN_VARIABLE,
    UPLOAD_MAX_BYTES_VARIABLE,
    EngineSettings,
    InvalidSetting,
)

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Seconds that open connections get to finish when the server stops.
GRACEFUL_SHUTDOWN_SECONDS = 5


class _TerminateRequested(Exception):
    """SIGTERM arrived; raised by our handler so that ``serve`` returns normally."""


def default_data_dir() -> Path:
    """Return the engine's data folder in the user's data directory."""
    return platformdirs.user_data_path("plexe-tui") / "engine"


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    data_dir: Path | None = None,
    fd: int | None = None,
    settings: EngineSettings | None = None,
) -> None:
    """Run the engine until SIGINT or SIGTERM, then stop it cleanly.

    Exits the process with status 1 when another engine uses the data folder,
    when a setting in the environment is invalid, or when ``host`` is not a
    loopback address and the settings have no token.

    ``fd`` is a listening socket that a parent process has already bound. When it
    is given, ``host`` and ``port`` are ignored. ``settings`` defaults to the
    environment's. Training processes still running at shutdown are terminated,
    and their builds resume at the next start.
    """
    configure_logging(rotate=True)
    folder = data_dir if data_dir is not None else default_data_dir()
    settings = settings or _settings_from_environment()
    if fd is None:
        _check_exposure(host, settings)
    _check_folder_free(folder)
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminate)
    try:
        _run_server(host, port, folder, fd, settings)
    except (KeyboardInterrupt, _TerminateRequested):
        # uvicorn has already shut down gracefully and then re-raised the signal.
        pass
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _check_folder_free(data_dir: Path) -> None:
    """Exit with a one-line message when another engine uses ``data_dir``.

    The app's lifespan takes the lock for real. Checking here first avoids the
    traceback that uvicorn prints for a failed startup, in the common case.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(data_dir.resolve())
    try:
        lock.acquire()
    except FolderInUse as error:
        logger.error("engine not started: %s", error)
        raise SystemExit(1) from None
    lock.release()


def _check_exposure(host: str, settings: EngineSettings) -> None:
    """Exit with a one-line message when ``host`` is not loopback and has no token."""
    try:
        check_exposure(host, settings.token)
    except TokenRequired as error:
        logger.error("engine not started: %s", error)
        raise SystemExit(1) from None


def _settings_from_environment() -> EngineSettings:
    try:
        return EngineSettings.from_environment()
    except InvalidSetting as error:
        logger.error("engine not started: %s", error)
        raise SystemExit(1) from None


def _run_server(
    host: str, port: int, data_dir: Path, fd: int | None, settings: EngineSettings
) -> None:
    app = create_app(data_dir, settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    # uvicorn's own fd= option assumes a Unix domain socket. Wrapping the
    # descriptor here lets the socket module detect the real family (TCP).
    sockets = [socket.socket(fileno=fd)] if fd is not None else None
    where = f"socket fd {fd}" if fd is not None else f"http://{host}:{port}"
    logger.info(
        "engine starting on %s, running up to %d builds at a time",
        where,
        settings.max_parallel_builds,
    )
    server.run(sockets=sockets)


def _raise_terminate(signum: int, frame: FrameType | None) -> None:
    raise _TerminateRequested()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse command-line options, run the engine and return the exit status."""
    options = _parser().parse_args(argv)
    settings = _settings_from_environment()
    settings = dataclasses.replace(
        settings,
        max_parallel_builds=options.max_parallel_builds or settings.max_parallel_builds,
        download_timeout=options.download_timeout or settings.download_timeout,
        download_max_bytes=options.download_max_bytes or settings.download_max_bytes,
        upload_max_bytes=options.upload_max_bytes or settings.upload_max_bytes,
    )
    serve(options.host, options.port, options.data_dir, options.fd, settings)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m plexe_tui.engine",
        description="Run the plexe-tui local engine, a Plexe-compatible HTTP server.",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default: %(default)s); any other address needs "
        f"${TOKEN_VARIABLE}, which every request must then carry as its API key",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"folder for uploads and models (default: {default_data_dir()})",
    )
    parser.add_argument(
        "--fd",
        type=int,
        default=None,
        help="descriptor of an already-bound listening socket, used instead of "
        "--host and --port",
    )

    parser.add_argument(
        "--max-parallel-builds",
        type=_positive_int,
        default=None,
        metavar="N",
        help="how many builds train at the same time; the others wait in the queue "
        f"(default: ${MAX_PARALLEL_BUILDS_VARIABLE}, else 1)",
    )
    parser.add_argument(
        "--download-timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="time limit for downloading a dataset URL given as upload_id "
        f"(default: ${DOWNLOAD_TIMEOUT_VARIABLE}, else 10)",
    )
    parser.add_argument(
        "--download-max-bytes",
        type=_positive_int,
        default=None,
        metavar="BYTES",
        help="size limit for a downloaded dataset "
        f"(default: ${DOWNLOAD_MAX_BYTES_VARIABLE}, else 1073741824, 1 GiB)",
    )
    parser.add_argument(
        "--upload-max-bytes",
        type=_positive_int,
        default=None,
        metavar="BYTES",
        help="size limit for an uploaded file; larger uploads get a 413 "
        f"(default: ${UPLOAD_MAX_BYTES_VARIABLE}, else 1073741824, 1 GiB)",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a positive whole number, not {text!r}"
        )
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
