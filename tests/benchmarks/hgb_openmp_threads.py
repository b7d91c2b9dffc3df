"""Time default HistGradientBoosting fits on digits with 1 and with 2 OpenMP threads.

HistGradientBoosting uses every core through OpenMP. When other processes keep the
cores busy, a fit with every core can take many times longer than with one thread.
This script shows the effect on the machine it runs on.

Run from the repository root: .venv/bin/python -m tests.benchmarks.hgb_openmp_threads
"""

import os
import time

from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

REPEATS = 2


def main() -> None:
    """Print wall time, CPU time and load average of each fit."""
    features, target = load_digits(return_X_y=True)
    for _ in range(REPEATS):
        for threads in (2, 1):
            with threadpool_limits(limits=threads, user_api="openmp"):
                wall_started = time.monotonic()
                cpu_started = time.process_time()
                HistGradientBoostingClassifier(random_state=0).fit(features, target)
                wall = time.monotonic() - wall_started
                cpu = time.process_time() - cpu_started
            print(
                f"digits, {threads} OpenMP thread(s): wall {wall:.1f} s, "
                f"CPU {cpu:.1f} s, 1-minute load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
