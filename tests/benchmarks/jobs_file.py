"""Time loading and saving the jobs file, and the event loop's stalls during saves.

For each history size (1,000 jobs by default), written by `job_history.py`:

- load: a new `JobStore.load()` per run, with the JSON index current (the
  usual case) and without it (the first start after a hand edit).
- save: `JobStore.save()` after one job changed, as the app saves after a
  status update. It is also timed after another app instance wrote the file,
  because then the save reads the file again.
- the references: `tomllib.loads` and `tomli_w.dumps` of the same document,
  what a plain TOML store spends on parsing and formatting alone.
- stalls: the real app (`PlexeApp` in Textual's headless mode, against the
  fake platform) runs a probe task that sleeps 1 ms at a time and records how
  late each wake-up is. The script changes one job and saves, 20 times,
  and reports the latest wake-up that overlapped a save, next to the latest
  one while the app was idle for as long.

Run from the repository root:

    .venv/bin/python -m tests.benchmarks.jobs_file --repeats 15
"""

import argparse
import asyncio
import gc
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import tomli_w

from plexe_tui.store import JobStore, utc_now
from plexe_tui.store.job_index import INDEX_FILE_NAME
from plexe_tui.ui.app import AppSettings, create_app
from tests.benchmarks.job_history import make_jobs
from tests.benchmarks.loop_probe import PROBE_SLEEP, Probe
from tests.benchmarks.machine import describe_machine, load_average, median
from tests.fake_platform import FAKE_API_KEY, FakePlatform

LOAD_TARGET_MS = {1000: 80.0}
SAVE_TARGET_MS = {1000: 40.0}
STALL_TARGET_MS = 16.0
SAVES = 20
# Seconds between saves in the stall run, longer than one save takes.
SAVE_SPACING = 0.2
SAVE_WAIT = 10.0
MAX_REPEATS = 200
POLL_INTERVAL = 3600.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement and print the tables."""
    options = _parse_options(argv)
    print(describe_machine(), flush=True)
    for size in options.jobs:
        with tempfile.TemporaryDirectory(prefix="bench-jobs-file-") as folder:
            path = Path(folder) / "jobs.toml"
            _measure_store(path, size, options.repeats)
            _measure_stalls(Path(folder) / "app", size, options.saves)
    print(f"load average after: {load_average()}")
    return 0


def _parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="runs per figure")
    parser.add_argument(
        "--jobs", default="1000", help="comma-separated history sizes (default 1000)"
    )
    parser.add_argument(
        "--saves", type=int, default=SAVES, help="saves in each stall run (default 20)"
    )
    options = parser.parse_args(argv)
    if not 1 <= options.repeats <= MAX_REPEATS:
        parser.error(f"--repeats must be from 1 to {MAX_REPEATS}")
    if not 1 <= options.saves <= MAX_REPEATS:
        parser.error(f"--saves must be from 1 to {MAX_REPEATS}")
    options.jobs = [int(part) for part in options.jobs.split(",") if part.strip()]
    return options


def _measure_store(path: Path, size: int, repeats: int) -> None:
    jobs = make_jobs(size)
    JobStore(path).save(jobs)
    index = path.with_name(INDEX_FILE_NAME)
    text = path.read_text(encoding="utf-8")
    document = tomllib.loads(text)

    def load_cold() -> None:
        index.unlink(missing_ok=True)
        JobStore(path).load()

    store = JobStore(path)
    loaded = store.load().jobs

    def save_one_change() -> None:
        loaded[0].updated_at = utc_now()
        store.save(loaded)

    def save_after_other_writer() -> None:
        JobStore(path).save(loaded[:1])
        start = time.perf_counter()
        store.save(loaded)
        timings.append(time.perf_counter() - start)

    timings: list[float] = []
    for _ in range(repeats):
        save_after_other_writer()
    rows = [
        ("load, index current", _time(lambda: JobStore(path).load(), repeats)),
        ("load, TOML only", _time(load_cold, repeats)),
        ("save, one job changed", _time(save_one_change, repeats)),
        ("save, after another writer", timings),
        ("reference: tomllib.loads", _time(lambda: tomllib.loads(text), repeats)),
        ("reference: tomli_w.dumps", _time(lambda: tomli_w.dumps(document), repeats)),
    ]
    _print_store_table(size, path.stat().st_size, rows)


def _time(action: Callable[[], object], repeats: int) -> list[float]:
    action()  # Warm-up: imports and first-touch of the files.
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return timings


def _print_store_table(
    size: int, file_bytes: int, rows: list[tuple[str, list[float]]]
) -> None:
    parse = median(rows[4][1])
    dump = median(rows[5][1])
    print(f"\n{size} jobs, jobs.toml {file_bytes / 1024:.0f} KiB")
    print("| operation | median ms | max ms | target ms | met | x reference |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, timings in rows:
        value = median(timings)
        target = None
        reference = None
        if name.startswith("load"):
            target = LOAD_TARGET_MS.get(size)
            reference = parse
        elif name.startswith("save"):
            target = SAVE_TARGET_MS.get(size)
            reference = parse + dump
        limit = f"{target:.0f}" if target else "-"
        met = "-"
        if target is not None:
            met = "yes" if value * 1000 <= target else "NO"
        ratio = f"{value / reference:.2f}" if reference else "-"
        print(
            f"| {name} | {value * 1000:.1f} | {max(timings) * 1000:.1f} | {limit} "
            f"| {met} | {ratio} |"
        )
    print("x reference: loads against tomllib.loads, saves against tomllib + tomli_w")


def _measure_stalls(config_dir: Path, size: int, saves: int) -> None:
    JobStore(config_dir / "jobs.toml").save(make_jobs(size, server="unused"))
    platform = FakePlatform()
    platform.start()
    try:
        for quiet_screen in (False, True):
            probe = asyncio.run(
                _probe_app(config_dir, platform.url, quiet_screen, saves)
            )
            _print_stalls(probe, size, quiet_screen, saves)
    finally:
        platform.stop()


def _print_stalls(probe: Probe, size: int, quiet_screen: bool, saves: int) -> None:
    saving = probe.latest(probe.save_windows)
    idle = probe.latest(probe.idle_windows)
    kind = "screen timers paused" if quiet_screen else "as shipped"
    met = "met" if saving * 1000 <= STALL_TARGET_MS else "NOT met"
    collections = probe.full_collections(probe.save_windows)
    longest = max(collections, default=0.0) * 1000
    print(
        f"\nEvent loop, {kind}, during {saves} saves of {size} jobs: latest "
        f"wake-up {saving * 1000:.1f} ms late (target <= {STALL_TARGET_MS:.0f} ms, "
        f"{met}), loop thread's CPU in one sleep at most "
        f"{probe.busiest(probe.save_windows) * 1000:.1f} ms; idle for as long: "
        f"{idle * 1000:.1f} ms late. Full garbage "
        f"collections during the saves: {len(collections)}, longest {longest:.1f} ms"
    )


async def _probe_app(
    config_dir: Path, url: str, quiet_screen: bool, saves: int
) -> Probe:
    """Return the probe's record of saves and of as long an idle time.

    As shipped, each save follows a change of one job, which the job list
    shows at once. With `quiet_screen`, the job list's own timers (its clock
    redraws every row once a second) are paused and the saves follow no
    change on screen, so that only the saves can stall the loop.
    """
    settings = AppSettings(
        base_url=url,
        api_key=FAKE_API_KEY,
        config_dir=config_dir,
        poll_interval=POLL_INTERVAL,
    )
    app = create_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + SAVE_WAIT
        while not app.book.complete and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        if quiet_screen:
            # Textual keeps no public list of a node's timers.
            for timer in list(app.screen._timers):
                timer.pause()
        probe = Probe()
        gc.callbacks.append(probe.on_collection)
        task = asyncio.create_task(probe.run())

        idle_start = time.perf_counter()
        await asyncio.sleep(saves * SAVE_SPACING)
        idle = [(idle_start, time.perf_counter())]

        windows = []
        key = app.book.ordered()[0].key
        for _ in range(saves):
            job = app.book.get(key)
            assert job is not None
            job.updated_at = utc_now()
            start = time.perf_counter()
            if quiet_screen:
                app.request_save()
            else:
                app.jobs_updated({key})
            while app._saving and time.perf_counter() - start < SAVE_WAIT:
                await asyncio.sleep(PROBE_SLEEP)
            windows.append((start, time.perf_counter()))
            await asyncio.sleep(SAVE_SPACING)

        probe.running = False
        await task
        gc.callbacks.remove(probe.on_collection)
        for timer in list(app.screen._timers):
            timer.resume()
    probe.save_windows = windows
    probe.idle_windows = idle
    return probe


if __name__ == "__main__":
    raise SystemExit(main())
