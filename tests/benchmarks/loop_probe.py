"""A probe of the event loop's stalls: a task that sleeps 1 ms at a time.

The loop runs no other callback while one runs, so a wake-up comes as late as
the stall that overlapped it. A 1 ms sleep finds a stall within about 1 ms,
where a 10 ms interval timer could miss up to 10 ms of it. Full garbage
collections are recorded beside the wake-ups, because one stops every thread.

A late wake-up has two causes: work on the event loop's thread, or a wait for
a CPU or for the GIL while another process or thread runs. The probe also
records the loop thread's CPU time during each sleep, which counts only the
first cause, so a busy shared machine can be distinguished from slow app code.
"""

import asyncio
import time
from dataclasses import dataclass, field

PROBE_SLEEP = 0.001


@dataclass
class Probe:
    """Wake-ups of a task that sleeps PROBE_SLEEP at a time: (start, lateness).

    It also records the full garbage collections (generation 2) as (start,
    seconds), because one of them stops every thread of the process.
    """

    lateness: list[tuple[float, float]] = field(default_factory=list)
    loop_cpu: list[tuple[float, float]] = field(default_factory=list)
    """(start, seconds of the loop thread's CPU time) of each sleep."""
    collections: list[tuple[float, float]] = field(default_factory=list)
    running: bool = True
    save_windows: list[tuple[float, float]] = field(default_factory=list)
    idle_windows: list[tuple[float, float]] = field(default_factory=list)
    _collection_start: float = 0.0

    def on_collection(self, phase: str, info: dict[str, int]) -> None:
        """Record generation 2 collections; a callback for gc.callbacks."""
        if info["generation"] != 2:
            return
        now = time.perf_counter()
        if phase == "start":
            self._collection_start = now
        else:
            start = self._collection_start
            self.collections.append((start, now - start))

    async def run(self) -> None:
        """Sleep in a loop and record how late each wake-up came."""
        while self.running:
            before = time.perf_counter()
            cpu_before = time.thread_time()
            await asyncio.sleep(PROBE_SLEEP)
            after = time.perf_counter()
            self.lateness.append((before, after - before - PROBE_SLEEP))
            self.loop_cpu.append((before, time.thread_time() - cpu_before))

    def latest(self, windows: list[tuple[float, float]]) -> float:
        """Return the maximum lateness of wake-ups that overlap any window."""
        return max(_overlapping(self.lateness, windows), default=0.0)

    def busiest(self, windows: list[tuple[float, float]]) -> float:
        """Return the most loop-thread CPU seconds in one sleep overlapping a window."""
        pairs = zip(self.lateness, self.loop_cpu, strict=True)
        return max(
            (
                cpu
                for (start, late), (_, cpu) in pairs
                if _overlaps(start, late, windows)
            ),
            default=0.0,
        )

    def full_collections(self, windows: list[tuple[float, float]]) -> list[float]:
        """Return the seconds of each full collection that overlaps any window."""
        return _overlapping(self.collections, windows)


def _overlapping(
    spans: list[tuple[float, float]], windows: list[tuple[float, float]]
) -> list[float]:
    """Return the lengths of the (start, length) spans that overlap any window."""
    return [length for start, length in spans if _overlaps(start, length, windows)]


def _overlaps(start: float, length: float, windows: list[tuple[float, float]]) -> bool:
    return any(start < end and start + length > begin for begin, end in windows)
