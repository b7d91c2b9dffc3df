"""Count the poll loop's requests to one server with 50 active builds.

The app follows the fake platform on 127.0.0.1 (`tests/fake_platform.py`)
with its default policy for a remote server, on a clock that the script moves
by hand (`tests/ui/manual_time.py`), so minutes of polling take seconds. The
script moves the clock one second at a time and records the simulated second
at which each request arrived. For each case it prints the requests a minute
at steady state, after a minute of warm-up, against the target of 12:

- list: the server serves `GET /models`, so one list a round covers every build;
- no list: the server returns 405 for it, so the app sends per-build status calls;
- Retry-After: the list case, where one poll gets 429 with `Retry-After: 40`.

In each case, FINISHED_BUILDS builds finish after the warm-up. Requests that
name one of them after the app displayed it as finished are counted, and the
target is zero. Run from the repository root:

    .venv/bin/python -m tests.benchmarks.polling --minutes 5
"""

import argparse
import asyncio
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plexe_tui.api import is_terminal
from plexe_tui.ui.servers import REMOTE_POLICY
from tests.benchmarks.machine import describe_machine, load_average
from tests.fake_platform import FakePlatform, RecordedRequest
from tests.ui.helpers import TERMINAL_SIZE, job_table, make_app, settle, write_jobs
from tests.ui.manual_time import ManualTime

ACTIVE_BUILDS = 50
FINISHED_BUILDS = 10
TARGET_PER_MINUTE = 12
WARM_UP_SECONDS = 60
RETRY_AFTER_SECONDS = 40
MAX_MINUTES = 60
STEP_SECONDS = 1.0


@dataclass
class Timeline:
    """The requests of one case, each with the simulated second it arrived."""

    name: str
    requests: list[tuple[float, RecordedRequest]] = field(default_factory=list)
    finished_at: dict[str, float] = field(default_factory=dict)
    """Simulated second at which the app first showed each finished build ended."""
    after_warm_up: int = 0
    """Index in `requests` of the first request sent after the warm-up."""

    def measured(self) -> list[tuple[float, RecordedRequest]]:
        return self.requests[self.after_warm_up :]

    def busiest_minute(self) -> int:
        """Return the most requests in any 60 s window after the warm-up."""
        seconds = [second for second, _ in self.measured()]
        return max(
            (sum(1 for s in seconds if first <= s < first + 60) for first in seconds),
            default=0,
        )

    def after_finishing(self) -> list[tuple[float, RecordedRequest]]:
        """Return the requests that name a build after the app showed it ended."""
        late = []
        for second, request in self.requests:
            for name, finished in self.finished_at.items():
                if second > finished and f"/models/{name}/" in request.path:
                    late.append((second, request))
        return late


def build_name(index: int) -> str:
    return f"model-{index:02d}"


async def run_case(
    platform: FakePlatform,
    config_dir: Path,
    name: str,
    minutes: int,
    builds: int,
    *,
    with_list: bool = True,
    rate_limit_once: bool = False,
) -> Timeline:
    """Run the app for the warm-up and `minutes` more, and record its requests."""
    platform.reset()
    if not with_list:
        platform.respond(
            "GET", "/models", status=405, text="Method Not Allowed", times=None
        )
    tables = []
    for index in range(builds):
        platform.set_build(
            build_name(index), "1", status="building", build_progress=10.0
        )
        tables.append(
            job_table(build_name(index), "1", platform.url, status="building")
        )
    write_jobs(config_dir, tables)

    time = ManualTime()
    app = make_app(
        platform.url,
        config_dir,
        poll_interval=None,
        monotonic=time.monotonic,
        scheduler=time.schedule,
    )
    timeline = Timeline(name)
    start = time.now
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await settle(pilot)
        seen = await step(pilot, time, platform, timeline, start, 0, WARM_UP_SECONDS)
        timeline.after_warm_up = len(timeline.requests)
        finishing = [build_name(index) for index in range(min(FINISHED_BUILDS, builds))]
        for model in finishing:
            platform.set_build(
                model,
                "1",
                status="completed",
                result={"metric_name": "accuracy", "metric_value": 0.9},
            )
        if rate_limit_once:
            platform.respond(
                "GET",
                "/models",
                status=429,
                headers={"retry-after": str(RETRY_AFTER_SECONDS)},
            )
        seconds = int(minutes * 60)
        for _ in range(seconds):
            seen = await step(pilot, time, platform, timeline, start, seen, 1)
            note_finished(app, platform.url, finishing, timeline, time.now - start)
    return timeline


async def step(
    pilot: Any,
    time: ManualTime,
    platform: FakePlatform,
    timeline: Timeline,
    start: float,
    seen: int,
    seconds: int,
) -> int:
    """Move the clock `seconds` on, one STEP_SECONDS at a time, recording requests.

    Return how many of the platform's requests are recorded now.
    """
    for _ in range(round(seconds / STEP_SECONDS)):
        await time.run_for(pilot, STEP_SECONDS)
        requests = platform.requests
        for request in requests[seen:]:
            timeline.requests.append((time.now - start, request))
        seen = len(requests)
    return seen


def note_finished(
    app: Any, server: str, names: list[str], timeline: Timeline, second: float
) -> None:
    for name in names:
        job = app.book.get(f"{name}:1@{server}")
        if job is not None and is_terminal(job.status):
            timeline.finished_at.setdefault(name, second)


def report(timeline: Timeline, minutes: int) -> None:
    measured = timeline.measured()
    per_minute = len(measured) / minutes
    busiest = timeline.busiest_minute()
    met = "yes" if busiest <= TARGET_PER_MINUTE else "NO"
    paths = Counter(
        "GET .../status" if r.path.endswith("/status") else f"{r.method} {r.path}"
        for _, r in measured
    )
    late = timeline.after_finishing()
    shown = len(timeline.finished_at)
    print(
        f"| {timeline.name} | {per_minute:.1f} | {busiest} | {TARGET_PER_MINUTE} "
        f"| {met} | {dict(paths)} | {shown} of {FINISHED_BUILDS} | {len(late)} |"
    )


def retry_gap(timeline: Timeline) -> tuple[float, float] | None:
    """Return (second of the 429, seconds until the next request), if one came."""
    # The 429 is queued after the warm-up, so it is the response to the first list
    # request sent after it.
    lists = [second for second, r in timeline.measured() if r.path == "/models"]
    if len(lists) < 2:
        return None
    return lists[0], lists[1] - lists[0]


async def measure(platform: FakePlatform, folder: Path, options: Any) -> None:
    minutes, builds = options.minutes, options.builds
    print(
        f"\n{builds} building jobs on one server, policy: a round every "
        f"{REMOTE_POLICY.interval:.0f} s, at most {REMOTE_POLICY.status_calls} "
        f"status calls a round; {minutes} simulated minutes after "
        f"{WARM_UP_SECONDS} s of warm-up"
    )
    print(
        "| case | requests a minute | busiest 60 s | target | met | requests "
        "| finished builds shown | requests about them afterwards |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    cases = [
        ("list", {}),
        ("no list", {"with_list": False}),
        ("Retry-After 40 s", {"rate_limit_once": True}),
    ]
    timelines = {}
    for index, (name, flags) in enumerate(cases):
        config_dir = folder / f"config-{index}"
        timeline = await run_case(platform, config_dir, name, minutes, builds, **flags)
        timelines[name] = timeline
        report(timeline, minutes)

    gap = retry_gap(timelines["Retry-After 40 s"])
    if gap is None:
        print("\nRetry-After: no request followed the 429 within the run")
    else:
        second, wait = gap
        met = "yes" if wait >= RETRY_AFTER_SECONDS else "NO"
        print(
            f"\nRetry-After: the poll at {second:.0f} s got 429 with Retry-After: "
            f"{RETRY_AFTER_SECONDS}; the next request came {wait:.0f} s later "
            f"(respected: {met})"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=int, default=5, help="simulated minutes after the warm-up"
    )
    parser.add_argument(
        "--builds", type=int, default=ACTIVE_BUILDS, help="active builds (default 50)"
    )
    options = parser.parse_args(argv)
    if not 1 <= options.minutes <= MAX_MINUTES:
        parser.error(f"--minutes must be from 1 to {MAX_MINUTES}")
    if not FINISHED_BUILDS <= options.builds <= 1000:
        parser.error(f"--builds must be from {FINISHED_BUILDS} to 1000")
    print(describe_machine(), flush=True)
    with FakePlatform() as platform, tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(platform, Path(folder), options))
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
