"""Start the local engine as a child process and wait until it responds.

This module runs in the app's process, so it imports nothing of the engine's
modelling stack: the child process does that.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from plexe_tui.engine.settings import TOKEN_VARIABLE

log = logging.getLogger(__name__)

# Packages of the `local` extra that the engine process imports.
ENGINE_MODULES = ("fastapi", "uvicorn", "sklearn", "pandas")
INSTALL_HINT = (
    "The local engine needs the 'local' extra: pip install 'plexe-tui[local]'. "
    "To use the hosted platform instead, set PLEXE_API_KEY "
    "(and PLEXE_BASE_URL or --base-url for another server)."
)

# Seconds. Python with pandas, scikit-learn and FastAPI takes a few seconds to
# import on a cold disk; the limit only guards against a child that hangs.
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0


class EngineStartError(RuntimeError):
    """The engine process exited or did not respond to /health in time."""


def missing_engine_modules() -> list[str]:
    """Return the engine's packages that are not installed."""
    missing = []
    for name in ENGINE_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


class LocalEngine:
    """A local engine child process on a free loopback port.

    The parent binds the listening socket and hands its descriptor to the child,
    so no other program can take the port between choosing and listening.
    """

    def __init__(self, data_dir: Path | None = None, log_path: Path | None = None):
        self.data_dir = data_dir
        self.log_path = log_path
        self.base_url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start the child process; return its base URL. Does not wait for it."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = listener.getsockname()[1]

        command = [sys.executable, "-m", "plexe_tui", "engine", "--exit-with-stdin"]
        command += ["--fd", str(listener.fileno())]
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir)]
        if self.log_path is not None:
            command += ["--log-file", str(self.log_path)]

        # The app's client sends no key to its own engine, which listens on
        # loopback only, so a token meant for a shared engine must not reach it.
        environment = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
        log_file = self._open_log()
        try:
            self._process = subprocess.Popen(
                command,
                env=environment,
                pass_fds=(listener.fileno(),),
                # The child stops when this pipe closes: see `stop`.
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                # The engine logs to the file itself and rotates it. Its stderr
                # goes there too, for a crash before logging is set up.
                # NOTE: after a rotation, stderr still writes to the renamed
                # file (engine.log.1), which `_log_reason` does not read.
                stderr=log_file if log_file is not None else subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            listener.close()
            if log_file is not None:
                log_file.close()  # The child has its own descriptor.

        self.base_url = f"http://127.0.0.1:{port}"
        log.info(
            "Started the local engine, pid %s, at %s", self._process.pid, self.base_url
        )
        return self.base_url

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Block until /health responds; raise EngineStartError if it never does."""
        if self._process is None or self.base_url is None:
            raise EngineStartError("The local engine was not started.")

        # Imported here: the app's first frame does not wait for httpx.
        import httpx

        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise EngineStartError(self._exit_message())
                try:
                    if http.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise EngineStartError(
            f"The local engine did not respond within {timeout:g} s. "
            f"See {self.log_path} for its log."
        )

    @property
    def pid(self) -> int | None:
        """Process id of the child, once started."""
        return self._process.pid if self._process is not None else None

    @property
    def exited(self) -> bool:
        """Whether the child was started and has since exited."""
        return self._process is not None and self._process.poll() is not None

    def stop(self) -> None:
        """Stop the child: close its input, then SIGKILL if it does not exit in time.

        Closing the input is the same signal the child gets when this process
        dies, so the child has one shutdown path.
        """
        process = self._process
        if process is None or process.poll() is not None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning(
                "The local engine did not stop in %s s; killing it", STOP_TIMEOUT
            )
            process.kill()
            process.wait()
        log.info("Stopped the local engine, pid %s", process.pid)

    def _open_log(self) -> IO[bytes] | None:
        if self.log_path is None:
            return None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        return self.log_path.open("ab")

    def _exit_message(self) -> str:
        code = self._process.returncode if self._process else None
        reason = self._log_reason()
        detail = f" {reason}" if reason else ""
        where = f" See {self.log_path}." if self.log_path else ""
        return (
            f"The local engine exited with status {code} before it was ready."
            f"{detail}{where}"
        )

    def _log_reason(self) -> str:
        """Return the engine's last error message from its log, if any."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        errors = [line for line in lines[-50:] if " ERROR " in line]
        if not errors:
            return ""
        return errors[-1].split(": ", 1)[-1]
