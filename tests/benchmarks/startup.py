"""Time from process start to the job list's first frame, against a floor app.

Each run spawns a process on a pseudo-terminal of 120 x 40 cells, as a user's
terminal would run it, and reads its output until a marker text appears on
screen (escape sequences removed). For plexe-tui the marker is the newest
job's name, or "No jobs yet" with an empty history. The floor is
`floor_app.py`, a minimal Textual app with a header, a 50-row DataTable and a
footer, measured the same way. Runs of every case alternate, so a change in
the machine's load hits all of them alike, and the medians are compared.

plexe-tui runs with a temporary HOME and XDG folders, no API key and no base
URL, so it starts its local engine. The script reads the engine's start time
from the app's log and reports whether any engine started before the first
frame was read.

Run from the repository root:

    .venv/bin/python -m tests.benchmarks.startup --repeats 7

`--baseline DIR` adds the same cases for an older version of the package
(for example `git archive 8d30f51 plexe_tui | tar -x -C DIR`), so both are
measured under the same load.

`--profile PREFIX` also runs each plexe-tui case once under cProfile up to its
first frame (see `profile_first_frame.py`), writes PREFIX-<jobs>.prof and
prints the functions with the highest cumulative time.
"""

import argparse
import io
import os
import pstats
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tests.benchmarks.floor_app import MARKER as FLOOR_MARKER
from tests.benchmarks.job_history import newest_name, write_history
from tests.benchmarks.machine import describe_machine, load_average, median

HERE = Path(__file__).resolve().parent
COLUMNS, LINES = 120, 40
EMPTY_MARKER = "No jobs yet"
# Highest ratio to the floor's median allowed per history size.
TARGET_RATIOS = {0: 1.25, 1000: 1.5, 5000: 2.0}
DEFAULT_TARGET_RATIO = 2.0
# Seconds. A run that shows no marker by then counts as failed.
FRAME_TIMEOUT = 30.0
# Seconds to wait after the first frame for the app to log its engine's start.
ENGINE_LOG_WAIT = 10.0
ENGINE_EXIT_WAIT = 15.0
MAX_REPEATS = 50
PROFILE_LINES = 30
# CSI, OSC, and two-byte escape sequences, as Textual writes them.
ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
)
ENGINE_STARTED = re.compile(
    r"^(\S+ \S+) INFO \S+: Started the local engine, pid (\d+)", re.MULTILINE
)


@dataclass
class Case:
    """One program to start, what it draws first, and the runs so far."""

    name: str
    command: list[str]
    marker: str
    env: dict[str, str]
    home: Path | None = None
    """Temporary HOME of a plexe-tui case, where its log is written."""
    seconds: list[float] = field(default_factory=list)
    engine_margins: list[float] = field(default_factory=list)
    """Seconds from reading the first frame to the engine's start, per run."""


@dataclass
class FrameRun:
    """One run: seconds to the marker, and the wall clock when it was read."""

    seconds: float
    frame_wall_time: float


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every case and print the table."""
    options = _parse_options(argv)
    print(describe_machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        cases = _make_cases(Path(folder), options.jobs, options.source)
        if options.baseline is not None:
            cases += _make_cases(
                Path(folder) / "baseline", options.jobs, options.baseline
            )[1:]
            for case in cases[len(options.jobs) + 1 :]:
                case.name = case.name.replace("plexe-tui", "baseline")
        for case in cases:
            for _ in range(options.warm_up):
                _run_case(case)
        for repeat in range(options.repeats):
            for case in cases:
                _run_case(case)
            print(f"repeat {repeat + 1}/{options.repeats} done", flush=True)
        if options.profile:
            for case in cases[1 : len(options.jobs) + 1]:
                _profile_case(case, options.profile)
    _print_table(cases)
    print(f"load average after: {load_average()}")
    return 0


def _parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=7, help="timed runs per case (default 7)"
    )
    parser.add_argument(
        "--warm-up", type=int, default=1, help="untimed runs per case first"
    )
    parser.add_argument(
        "--jobs",
        default="0,1000,5000",
        help="comma-separated history sizes (default 0,1000,5000)",
    )
    parser.add_argument(
        "--source",
        metavar="DIR",
        type=Path,
        help="run the plexe_tui package in DIR instead of the installed one, "
        "e.g. DIR made by 'git archive OLD plexe_tui | tar -x -C DIR'",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        type=Path,
        help="also run the plexe_tui package in DIR (an older version, made like "
        "--source's), interleaved with the others",
    )
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="also profile each plexe-tui case up to its first frame",
    )
    options = parser.parse_args(argv)
    if not 1 <= options.repeats <= MAX_REPEATS:
        parser.error(f"--repeats must be from 1 to {MAX_REPEATS}")
    options.jobs = [int(part) for part in options.jobs.split(",") if part.strip()]
    return options


def _make_cases(folder: Path, sizes: list[int], source: Path | None) -> list[Case]:
    python = sys.executable
    app = shutil.which("plexe-tui", path=str(Path(python).parent))
    if app is None:
        raise SystemExit("plexe-tui is not installed beside this Python; run pip -e.")
    floor_env = _clean_environment(folder / "floor-home")
    cases = [
        Case("floor", [python, str(HERE / "floor_app.py")], FLOOR_MARKER, floor_env)
    ]
    for size in sizes:
        home = folder / f"home-{size}"
        env = _clean_environment(home)
        if source is not None:
            env["PYTHONPATH"] = str(source.resolve())
        if size:
            home.mkdir(parents=True, exist_ok=True)
            write_history(home / ".config" / "plexe-tui" / "jobs.toml", size)
        marker = newest_name(size) if size else EMPTY_MARKER
        cases.append(Case(f"plexe-tui, {size} jobs", [app], marker, env, home))
    return cases


def _profile_case(case: Case, prefix: str) -> None:
    """Run the case once under cProfile and print where its start goes."""
    output = Path(f"{prefix}-{case.name.split(', ')[1].split()[0]}.prof").resolve()
    output.unlink(missing_ok=True)
    script = str(HERE / "profile_first_frame.py")
    profiled = Case(
        case.name, [sys.executable, script, str(output)], case.marker, case.env
    )
    profiled.env = {**case.env, "PYTHONPATH": str(HERE.parent.parent)}
    log = case.home / ".local/state/plexe-tui/log/plexe-tui.log" if case.home else None
    log_size = log.stat().st_size if log is not None and log.exists() else 0
    _, process, master = _start_and_wait(profiled)
    deadline = time.monotonic() + ENGINE_LOG_WAIT
    while not output.exists() and time.monotonic() < deadline:
        _read_some(master, 0.05)
    time.sleep(0.2)  # dump_stats writes the file in one go, but let it finish
    _stop(process, master)
    if log is not None:
        _wait_engine_exit(log, log_size)
    text = io.StringIO()
    stats = pstats.Stats(str(output), stream=text)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    print(f"\nProfile of {case.name} up to its first frame ({output}):")
    print(text.getvalue())


def _clean_environment(home: Path) -> dict[str, str]:
    """Return an environment with a fresh HOME and no plexe-tui settings.

    PYTHON* variables go too. PYTHONDONTWRITEBYTECODE, for one, would make every
    run compile plexe_tui from source, which an installed app never does.
    """
    home.mkdir(parents=True, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PLEXE_", "XDG_", "TEXTUAL", "PYTHON"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        TERM="xterm-256color",
        COLORTERM="truecolor",
        COLUMNS=str(COLUMNS),
        LINES=str(LINES),
    )
    return env


def _run_case(case: Case) -> None:
    log = case.home / ".local/state/plexe-tui/log/plexe-tui.log" if case.home else None
    log_size = log.stat().st_size if log is not None and log.exists() else 0
    run, process, master = _start_and_wait(case)
    try:
        if log is not None:
            margin = _engine_margin(log, log_size, run.frame_wall_time, master)
            case.engine_margins.append(margin)
    finally:
        _stop(process, master)
        if log is not None:
            _wait_engine_exit(log, log_size)
    case.seconds.append(run.seconds)


def _start_and_wait(case: Case) -> tuple[FrameRun, subprocess.Popen[bytes], int]:
    """Start the case on a new pseudo-terminal and read until its marker shows."""
    import fcntl
    import termios

    master, slave = os.openpty()
    size = struct.pack("HHHH", LINES, COLUMNS, 0, 0)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
    started = time.perf_counter()
    process = subprocess.Popen(
        case.command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=case.env,
        cwd=case.env["HOME"],
        start_new_session=True,
    )
    os.close(slave)

    marker = case.marker.encode()
    output = bytearray()
    deadline = started + FRAME_TIMEOUT
    while time.perf_counter() < deadline:
        chunk = _read_some(master, deadline - time.perf_counter())
        now = time.perf_counter()
        wall = time.time()
        if chunk is None:
            break
        output += chunk
        if marker in ESCAPES.sub(b"", bytes(output)):
            return FrameRun(now - started, wall), process, master
    _stop(process, master)
    tail = ESCAPES.sub(b"", bytes(output))[-400:].decode(errors="replace")
    raise SystemExit(
        f"{case.name}: no {case.marker!r} within {FRAME_TIMEOUT} s: {tail}"
    )


def _read_some(master: int, timeout: float) -> bytes | None:
    """Return the next output, b'' on a timeout, or None when the program closed."""
    ready, _, _ = select.select([master], [], [], max(0.0, timeout))
    if not ready:
        return b""
    try:
        data = os.read(master, 65536)
    except OSError:
        return None
    return data or None


def _engine_margin(
    log: Path, offset: int, frame_wall_time: float, master: int
) -> float:
    """Return seconds from the frame to the engine's logged start (negative: before).

    The pseudo-terminal is drained meanwhile, so the app never blocks on output.
    """
    deadline = time.monotonic() + ENGINE_LOG_WAIT
    while time.monotonic() < deadline:
        match = _engine_line(log, offset)
        if match is not None:
            logged = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
            return logged.timestamp() - frame_wall_time
        _read_some(master, 0.05)
    raise SystemExit(f"The app did not log an engine start within {ENGINE_LOG_WAIT} s.")


def _engine_line(log: Path, offset: int) -> re.Match[str] | None:
    try:
        with log.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return None
    return ENGINE_STARTED.search(text)


def _stop(process: subprocess.Popen[bytes], master: int) -> None:
    """Kill the program; its engine stops by itself when its input pipe closes."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    os.close(master)


def _wait_engine_exit(log: Path, offset: int) -> None:
    """Wait until the engine of this run exited, so it loads no later run."""
    match = _engine_line(log, offset)
    if match is None:
        return
    pid = int(match.group(2))
    deadline = time.monotonic() + ENGINE_EXIT_WAIT
    while time.monotonic() < deadline:
        if not _is_engine(pid):
            return
        time.sleep(0.05)
    if _is_engine(pid):
        os.kill(pid, signal.SIGKILL)


def _is_engine(pid: int) -> bool:
    """Return whether `pid` is a live plexe-tui engine (not a zombie, not reused)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"plexe_tui" in command and b"engine" in command


def _print_table(cases: list[Case]) -> None:
    floor = median(cases[0].seconds)
    print()
    print("| program | median ms | min / max ms | x floor | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    for case in cases:
        value = median(case.seconds)
        ratio = value / floor
        if case.home is None:
            target, met = "-", "-"
        else:
            size = int(case.name.split(", ")[1].split()[0])
            limit = TARGET_RATIOS.get(size, DEFAULT_TARGET_RATIO)
            target, met = f"<= {limit}x", "yes" if ratio <= limit else "NO"
        print(
            f"| {case.name} | {value * 1000:.0f} | {min(case.seconds) * 1000:.0f} / "
            f"{max(case.seconds) * 1000:.0f} | {ratio:.2f} | {target} | {met} |"
        )
    print()
    for case in cases:
        if case.engine_margins:
            earliest = min(case.engine_margins) * 1000
            before = sum(margin < 0 for margin in case.engine_margins)
            print(
                f"{case.name}: engine started {earliest:.0f} ms after the first frame "
                f"at the earliest; {before} of {len(case.engine_margins)} runs "
                "started it before the frame"
            )


if __name__ == "__main__":
    sys.exit(main())
