"""Measure the job list with a 5,000-job history: filter, refresh, first frame, memory.

Not a test: run it by hand from the repository root::

    .venv/bin/python -m tests.benchmarks.job_list

`--jobs`, `--idle-seconds` and `--polls` shrink the run for a smoke test.

It writes a history of 5,000 jobs (100 of them building) to a temporary config
folder, starts the app headless with Pilot against the fake platform on
127.0.0.1, and prints, beside each target:

- filter keystroke: one key typed into the `/` filter, from the key to the end
  of the frame that shows the result;
- refresh of 50 changed jobs: the app taking 50 changed jobs from a poll,
  to the end of the frame;
- first frame: from mounting the jobs screen to its first frame, and how many
  rows were prepared for filtering by then;
- resident memory of the whole process (app, fake platform and Python);
- event loop stalls (see `loop_probe.py`): the latest wake-up of a probe task
  while the app idles with every row loaded, when the job list's one-second
  clock redraws the relative times, and while polls change 50 jobs at a time
  and the app saves the jobs file after each.

"Work" is the time spent in the jobs screen's handler plus the screen's
compositor refreshes that follow it. Textual paints at most 60 frames a
second by default (textual.constants.MAX_FPS), so a terminal may show a frame
up to 17 ms after the work ends. That wait is pacing, not work, and is left
out, as are Pilot's own waits for the app to go idle.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.screen import Screen

from plexe_tui.api import BuildStatus
from plexe_tui.store import JobStore
from plexe_tui.ui.book import JobBook
from plexe_tui.ui.screens.jobs import JobsScreen
from tests.benchmarks.loop_probe import Probe
from tests.benchmarks.machine import describe_machine, load_average
from tests.fake_platform import FakePlatform
from tests.ui.helpers import TERMINAL_SIZE, job_table, make_app, settle, write_jobs

JOB_COUNT = 5000
MAX_JOBS = 100_000
BUILDING_EVERY = 50
"""One job in this many is still building, the rest have ended."""
CHANGED_JOBS = 50
FILTER_TEXT = "job-12"
REPEATS = 5

# Bound of the wait for the frame that shows a refresh: Textual paints one
# within 1/60 s, so 50 steps of 20 ms are far more than needed.
FRAME_WAIT_STEPS = 50
FRAME_WAIT_SECONDS = 0.02

FILTER_TARGET_MS = 50.0
REFRESH_TARGET_MS = 30.0
MEMORY_TARGET_MB = 150.0
# One frame at 60 frames a second: a longer stall delays a key's echo visibly.
STALL_TARGET_MS = 16.0

# Seconds of the idle run of the stall probe: the clock ticks once a second.
IDLE_SECONDS = 10.0
# Polls in the stall run, and seconds between them: longer than a save of
# 5,000 jobs takes, so saves do not queue.
STALL_POLLS = 10
STALL_POLL_SPACING = 1.0
SAVE_WAIT_SECONDS = 10.0
# Bound of the wait for the whole history, in steps of FRAME_WAIT_SECONDS;
# reading 5,000 jobs takes about 0.3 s.
LOAD_WAIT_STEPS = 500


@dataclass(frozen=True)
class RunSize:
    """How many jobs, and how long the stall runs last."""

    jobs: int = JOB_COUNT
    idle_seconds: float = IDLE_SECONDS
    polls: int = STALL_POLLS


def history(server: str, count: int) -> list[dict[str, Any]]:
    """Return `count` jobs a minute apart, newest first."""
    start = datetime(2025, 3, 14, 11, 59, tzinfo=UTC)
    goals = ("predict churn", "forecast prices", "classify tumours", "rank leads")
    tables = []
    for index in range(count):
        created = (start - timedelta(minutes=index)).isoformat()
        building = index % BUILDING_EVERY == 0
        fields: dict[str, Any] = {
            "status": "building" if building else "completed",
            "goal": f"{goals[index % len(goals)]} from table {index}",
            "created_at": created,
            "updated_at": created,
        }
        if not building:
            fields.update(metric_name="roc_auc", metric_value=0.5 + index % 500 / 1000)
        tables.append(job_table(f"job-{index:04d}", "1", server, **fields))
    return tables


class Timer:
    """Sums the wall time and this thread's CPU time of wrapped functions.

    CPU time leaves out the waits for a CPU that other processes cause, so
    on a loaded machine it is closer to what an idle one would take.
    """

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self.calls = 0

    def reset(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self.calls = 0

    def milliseconds(self) -> tuple[float, float]:
        """Return the sums since the last reset, as (wall, CPU) in ms."""
        return self.wall * 1000, self.cpu * 1000

    @contextmanager
    def span(self) -> Iterator[None]:
        """Time the block inside the context."""
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.thread_time() - cpu

    @contextmanager
    def wrap(self, owner: type, name: str) -> Iterator[None]:
        """Time every call of `owner.name` while the context is open."""
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            with self.span():
                return original(*args, **kwargs)

        setattr(owner, name, timed)
        try:
            yield
        finally:
            setattr(owner, name, original)


def resident_mb() -> tuple[float, float]:
    """Return the process's current and peak resident memory, in MB (Linux)."""
    current = 0.0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


async def measure(
    platform: FakePlatform, config_dir: Path, size: RunSize
) -> dict[str, Any]:
    """Start the app twice on one history: for the first frame, then for keys."""
    write_jobs(config_dir, history(platform.url, size.jobs))
    for index in range(0, size.jobs, BUILDING_EVERY):
        platform.set_build(f"job-{index:04d}", "1", status="building")

    results = await measure_startup(platform, config_dir, size.jobs)
    # The first app's saves kept only the store's newest 1,000 jobs
    # (DEFAULT_MAX_JOBS), so the history is written again.
    write_jobs(config_dir, history(platform.url, size.jobs))
    work = Timer()
    app = make_app(platform.url, config_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for_all_jobs(pilot, screen, size.jobs)
        start = time.perf_counter()
        pilot.app.book.snapshot()
        results["first_copy_ms"] = (time.perf_counter() - start) * 1000
        with (
            work.wrap(JobsScreen, "show_jobs"),
            work.wrap(Screen, "_compositor_refresh"),
        ):
            results["filter_ms"] = await filter_keystrokes(pilot, work)
            results["refresh_ms"] = await refreshes(pilot, screen, work)
        results["memory_mb"] = resident_mb()
        results["save_s"] = save_seconds(pilot.app)
        results["stalls"] = await measure_stalls(pilot, screen, size)
    return results


async def wait_for_all_jobs(pilot: Any, screen: JobsScreen, count: int) -> None:
    """Wait until the job list has every job, which the app reads after its
    first frame, and its workers have ended."""
    for _ in range(LOAD_WAIT_STEPS):
        await settle(pilot)
        if len(screen.jobs) == count:
            return
        await pilot.pause(FRAME_WAIT_SECONDS)
    raise AssertionError(f"The job list has {len(screen.jobs)} of {count} jobs.")


async def measure_startup(
    platform: FakePlatform, config_dir: Path, count: int
) -> dict[str, Any]:
    """Time reading jobs.toml, and the jobs screen from mount to first frame.

    The app reads the newest jobs before the first frame and the whole file
    in a thread after it, so the two reads are timed apart.
    """
    head = Timer()
    full = Timer()
    first_frame: dict[str, Any] = {}
    original_mount = JobsScreen.on_mount
    original_refresh = Screen._compositor_refresh

    def mount(screen: JobsScreen) -> None:
        first_frame["mounted"] = time.perf_counter()
        original_mount(screen)

    def refresh(screen: Screen[Any]) -> None:
        original_refresh(screen)
        if isinstance(screen, JobsScreen) and "frame" not in first_frame:
            first_frame["frame"] = time.perf_counter()
            first_frame["prepared"] = screen.jobs.prepared_count
            first_frame["listed"] = len(screen.jobs)

    JobsScreen.on_mount = mount  # type: ignore[method-assign]
    Screen._compositor_refresh = refresh  # type: ignore[method-assign]
    try:
        with head.wrap(JobBook, "load_newest"), full.wrap(JobStore, "load"):
            app = make_app(platform.url, config_dir)
            async with app.run_test(size=TERMINAL_SIZE) as pilot:
                screen = pilot.app.screen
                assert isinstance(screen, JobsScreen)
                await wait_for_all_jobs(pilot, screen, count)
    finally:
        JobsScreen.on_mount = original_mount  # type: ignore[method-assign]
        Screen._compositor_refresh = original_refresh  # type: ignore[method-assign]

    return {
        "head_load_ms": head.wall * 1000,
        "full_load_ms": full.wall * 1000,
        "first_frame_ms": (first_frame["frame"] - first_frame["mounted"]) * 1000,
        "prepared": first_frame["prepared"],
        "listed": first_frame["listed"],
    }


async def filter_keystrokes(pilot: Any, work: Timer) -> list[tuple[float, float]]:
    """Type FILTER_TEXT into the filter, REPEATS times; return each key's work."""
    timings = []
    for _ in range(REPEATS):
        await pilot.press("slash")
        for key in FILTER_TEXT:
            work.reset()
            await pilot.press(key)
            timings.append(work.milliseconds())
        await pilot.press("escape")
        await settle(pilot)
    return timings


async def refreshes(
    pilot: Any, screen: JobsScreen, work: Timer
) -> list[tuple[float, float]]:
    """Change CHANGED_JOBS jobs as a poll would, REPEATS times; return the work."""
    keys = screen.jobs.order[: CHANGED_JOBS * 3 : 3]
    timings = []
    for repeat in range(REPEATS):
        change_jobs(pilot.app, keys, progress=float(repeat * 10))
        work.reset()
        # What `jobs_updated` does for the screens; it also starts a save of
        # the jobs file, which `save_seconds` measures on its own.
        with work.span():
            pilot.app.jobs_changed.publish(set(keys))
        for _ in range(FRAME_WAIT_STEPS):
            if work.calls:
                break
            await pilot.pause(FRAME_WAIT_SECONDS)
        assert work.calls, "No frame followed the refresh."
        timings.append(work.milliseconds())
    return timings


async def measure_stalls(
    pilot: Any, screen: JobsScreen, size: RunSize
) -> dict[str, Any]:
    """Probe the event loop while the app idles, then while polls change jobs.

    Each poll changes CHANGED_JOBS jobs and goes through `jobs_updated`, as a
    real poll does, so the job list redraws them and a save of every job runs
    in a thread. A window lasts from the change to the end of its save.
    """
    app = pilot.app
    probe = Probe()
    gc.callbacks.append(probe.on_collection)
    task = asyncio.create_task(probe.run())
    try:
        idle_start = time.perf_counter()
        await asyncio.sleep(size.idle_seconds)
        idle = [(idle_start, time.perf_counter())]

        polls = []
        keys = screen.jobs.order[1 : CHANGED_JOBS * 3 : 3]
        for repeat in range(size.polls):
            start = time.perf_counter()
            change_jobs(app, keys, progress=float(repeat))
            app.jobs_updated(set(keys))
            while app._saving and time.perf_counter() - start < SAVE_WAIT_SECONDS:
                await asyncio.sleep(0.005)
            polls.append((start, time.perf_counter()))
            await asyncio.sleep(STALL_POLL_SPACING)
    finally:
        probe.running = False
        await task
        gc.callbacks.remove(probe.on_collection)
    return {
        "idle_ms": probe.latest(idle) * 1000,
        "idle_cpu_ms": probe.busiest(idle) * 1000,
        "poll_ms": probe.latest(polls) * 1000,
        "poll_cpu_ms": probe.busiest(polls) * 1000,
        "poll_collections": probe.full_collections(polls),
        "idle_collections": probe.full_collections(idle),
    }


def change_jobs(app: Any, keys: list[str], progress: float) -> None:
    """Apply a building status with this progress to each job, as a poll would."""
    for key in keys:
        job = app.book.get(key)
        status = BuildStatus(
            job.model_name,
            job.model_version,
            "building",
            build_progress=progress,
            best_metric_name="roc_auc",
            best_metric_value=0.8 + progress / 1000,
        )
        app.book.apply_status(key, status)


def save_seconds(app: Any) -> tuple[float, float]:
    """Return the seconds of a save: the copy on the UI's thread, then the write.

    The refreshes changed CHANGED_JOBS jobs since the first snapshot, which
    `measure` takes before them, so only those are copied again.
    """
    start = time.perf_counter()
    snapshot = app.book.snapshot()
    copied = time.perf_counter()
    app.book.store.save(snapshot)
    return copied - start, time.perf_counter() - copied


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def summary(timings: list[tuple[float, float]], target: float) -> str:
    """Describe wall and CPU times: median and max, each against the target."""
    parts = []
    for kind, values in (
        ("wall", [t[0] for t in timings]),
        ("CPU", [t[1] for t in timings]),
    ):
        worst = max(values)
        parts.append(
            f"{kind} median {statistics.median(values):.1f} ms, "
            f"max {worst:.1f} ms ({verdict(worst, target)})"
        )
    return f"{'; '.join(parts)}; target {target:.0f} ms, {len(timings)} samples"


def report(results: dict[str, Any], size: RunSize) -> None:
    current, peak = results["memory_mb"]
    copy_s, write_s = results["save_s"]

    print(f"jobs in history:       {size.jobs:,}")
    print(f"filter keystroke:      {summary(results['filter_ms'], FILTER_TARGET_MS)}")
    print(
        f"refresh of {CHANGED_JOBS} jobs:    "
        f"{summary(results['refresh_ms'], REFRESH_TARGET_MS)}"
    )
    listed = results["listed"]
    print(
        f"first frame:           {results['first_frame_ms']:.1f} ms after mount, "
        f"{results['prepared']:,} of {listed:,} rows prepared; reading "
        f"the newest jobs of jobs.toml before it took {results['head_load_ms']:.0f} "
        f"ms, and all {size.jobs:,} in a thread after it "
        f"{results['full_load_ms']:.0f} ms (no target)"
    )
    print(
        f"resident memory:       {current:.0f} MB now, {peak:.0f} MB peak "
        f"(target {MEMORY_TARGET_MB:.0f} MB: {verdict(peak, MEMORY_TARGET_MB)})"
    )
    print(
        f"jobs file save:        {copy_s * 1000:.1f} ms copying {CHANGED_JOBS} changed "
        f"jobs on the UI's thread ({results['first_copy_ms']:.0f} ms for the first "
        f"save's {size.jobs:,}), then {write_s * 1000:.0f} ms writing in a thread "
        "(no target)"
    )
    stalls = results["stalls"]
    print(
        f"event loop, idle:      {describe_stall(stalls, 'idle')} over "
        f"{size.idle_seconds:.0f} s of one-second clock ticks"
    )
    print(
        f"event loop, polls:     {describe_stall(stalls, 'poll')} during "
        f"{size.polls} polls of {CHANGED_JOBS} changed jobs, each with a save"
    )


def describe_stall(stalls: dict[str, Any], run: str) -> str:
    """Describe a stall run: the latest wake-up, the loop's CPU and collections."""
    late = stalls[f"{run}_ms"]
    collections = stalls[f"{run}_collections"]
    longest = max(collections, default=0.0) * 1000
    return (
        f"latest wake-up {late:.1f} ms late ({verdict(late, STALL_TARGET_MS)} "
        f"{STALL_TARGET_MS:.0f} ms), loop thread's CPU in one sleep at most "
        f"{stalls[f'{run}_cpu_ms']:.1f} ms, {len(collections)} full garbage "
        f"collections (longest {longest:.1f} ms)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    size = parse_size(argv)
    print(describe_machine(), flush=True)
    with FakePlatform() as platform, tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(measure(platform, Path(folder) / "config", size))
    report(results, size)
    print(f"load average after: {load_average()}")
    return 0


def parse_size(argv: Sequence[str] | None) -> RunSize:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=JOB_COUNT, help="jobs in the history"
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=IDLE_SECONDS,
        help="seconds of the idle stall run",
    )
    parser.add_argument(
        "--polls", type=int, default=STALL_POLLS, help="polls in the stall run"
    )
    options = parser.parse_args(argv)
    if not 1 <= options.jobs <= MAX_JOBS:
        parser.error(f"--jobs must be from 1 to {MAX_JOBS:,}")
    if not 0 < options.idle_seconds <= 600:
        parser.error("--idle-seconds must be above 0 and at most 600")
    if not 1 <= options.polls <= 100:
        parser.error("--polls must be from 1 to 100")
    return RunSize(options.jobs, options.idle_seconds, options.polls)


if __name__ == "__main__":
    sys.exit(main())
