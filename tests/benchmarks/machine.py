"""The machine, the package versions and the load, printed with every result.

Timings on a shared machine depend on what else runs, so each benchmark script
prints this header and the load average after its runs.
"""

import os
import platform
import statistics
from collections.abc import Sequence
from importlib import metadata

PACKAGES = (
    "textual",
    "httpx",
    "tomli-w",
    "fastapi",
    "starlette",
    "uvicorn",
    "h11",
    "scikit-learn",
    "numpy",
    "pandas",
)


def describe_machine() -> str:
    """Return cores, memory, CPU model, Python and package versions, one per line."""
    lines = [
        f"cores (nproc): {os.cpu_count()}",
        f"memory: {_total_memory_gib():.1f} GiB",
        f"CPU: {_cpu_model()}",
        f"Python: {platform.python_version()} ({platform.system()})",
        "packages: " + ", ".join(_versions()),
        f"load average before: {load_average()}",
    ]
    return "\n".join(lines)


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def median(values: Sequence[float]) -> float:
    """Return the median; raise ValueError for no values."""
    if not values:
        raise ValueError("median of no values")
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the value at `fraction` (0 to 1) of the sorted values, nearest rank."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _total_memory_gib() -> float:
    pages = os.sysconf("SC_PHYS_PAGES")
    page_size = os.sysconf("SC_PAGE_SIZE")
    return pages * page_size / 2**30


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions() -> list[str]:
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return versions
