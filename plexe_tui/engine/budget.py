"""The time budget of a build: what is left, and whether an approach still fits.

A build with a ``timeout`` should end within it. An approach starts only when its
estimated validation time, plus the time to refit the model that would be chosen
afterwards, plus a reserve for saving, fits in the time left. Estimates scale the
approach's ``cost`` by the slowest measured seconds per cost unit of the approaches
that ran before it. While an approach runs, each further validation split, and
each step of a forest, must fit as well, judged by the work already done.

NOTE: the first approach (the baseline) always runs, and loading the data is not
estimated, so a timeout shorter than loading plus one baseline fit is exceeded.
A single split or forest step that runs far over its estimate can also overrun.
"""

import math
import time
from dataclasses import dataclass, field

from plexe_tui.engine.approaches import Approach

# Part of the timeout kept for saving the model and its description, and its
# minimum in seconds.
SAVE_RESERVE_SHARE = 0.05
MIN_SAVE_RESERVE_SECONDS = 1.0


@dataclass
class TimeBudget:
    """The monotonic deadline of a build, or None for a build without a timeout."""

    deadline: float | None
    timeout: float | None

    @classmethod
    def starting_at(cls, started: float, timeout: float | None) -> "TimeBudget":
        """Return the budget of a build that started at monotonic time ``started``."""
        deadline = started + timeout if timeout else None
        return cls(deadline=deadline, timeout=timeout)

    def remaining(self) -> float:
        """Return the seconds left, infinite without a timeout."""
        if self.deadline is None:
            return math.inf
        return self.deadline - time.monotonic()

    def save_reserve(self) -> float:
        """Return the seconds kept for saving the model at the end."""
        if self.timeout is None:
            return 0.0
        return max(MIN_SAVE_RESERVE_SECONDS, SAVE_RESERVE_SHARE * self.timeout)


@dataclass
class TimeEstimator:
    """Estimates of validation and refit times from the approaches measured so far.

    ``refit_factor`` is the data's row count over the training rows summed over
    the validation splits: a refit on all rows takes about that share of an
    approach's validation time.
    """

    refit_factor: float
    _seconds_per_cost: dict[str, float] = field(default_factory=dict)
    _validation_seconds: dict[str, float] = field(default_factory=dict)

    def record(self, approach: Approach, seconds: float) -> None:
        """Store the validation time an approach took."""
        self._validation_seconds[approach.name] = seconds
        if approach.cost > 0:
            self._seconds_per_cost[approach.name] = seconds / approach.cost

    def validation_seconds(self, approach: Approach) -> float:
        """Return the measured or estimated validation time of an approach."""
        measured = self._validation_seconds.get(approach.name)
        if measured is not None:
            return measured
        if not self._seconds_per_cost:
            return 0.0
        return approach.cost * self._slowest_rate()

    def refit_seconds(self, approach: Approach) -> float:
        """Return the estimated time to refit an approach on all rows."""
        return self.validation_seconds(approach) * self.refit_factor

    def _slowest_rate(self) -> float:
        # The baseline's time is mostly fixed overhead, so its rate is used only
        # until another approach has run.
        rates = [
            rate for name, rate in self._seconds_per_cost.items() if name != "baseline"
        ]
        return max(rates) if rates else max(self._seconds_per_cost.values())
