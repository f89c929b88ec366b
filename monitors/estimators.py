"""Small online estimators that baselines are made of, serializable as JSON.

Each one learns one value at a time (`update`) and holds only a few numbers, so
that a principal's whole baseline fits in a short JSON document that a Faust
table can write to its changelog on every event. `EwMoments` follows the same
recurrence as river's `stats.EWMean` and `stats.EWVar` (the tests check that it
gives the same numbers); river's objects are not used here because their state is
private and would have to be pickled.

Times are seconds since the epoch, passed in: nothing here reads a clock.

>>> moments = EwMoments(fading_factor=0.5)
>>> for value in (10, 12, 10, 12):
...     moments.update(value)
>>> round(moments.mean, 3), round(moments.std, 3)
(11.25, 0.968)
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field


class Estimator(BaseModel):
    """Mutable state of an online estimator; unknown keys are refused on load."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class EwMoments(Estimator):
    """Exponentially weighted mean and variance (river's EWMean/EWVar recurrence).

    The first value sets the mean; each later one moves it by `fading_factor`
    of the difference, so old behaviour fades and the baseline follows drift.
    """

    fading_factor: float = Field(0.1, gt=0, le=1)
    count: int = 0
    mean: float = 0.0
    variance: float = 0.0

    def update(self, value: float) -> None:
        """Learn one value."""
        if self.count == 0:
            self.mean = value
        else:
            # Finch (2009), incremental weighted mean and variance, as river does.
            difference = value - self.mean
            increment = self.fading_factor * difference
            self.mean += increment
            self.variance = (1 - self.fading_factor) * (
                self.variance + difference * increment
            )
        self.count += 1

    @property
    def std(self) -> float:
        """The standard deviation."""
        return math.sqrt(self.variance)


class DecayingCount(Estimator):
    """Events in about the last `horizon` seconds, as an exponentially decayed sum.

    One number stands in for a sliding window: each event adds one and the sum
    decays by e per `horizon` of event time. A steady rate r gives r * horizon.
    """

    horizon: float = Field(60.0, gt=0)
    level: float = 0.0
    at: float | None = None

    def value_at(self, now: float) -> float:
        """The decayed count at `now`, without adding an event."""
        if self.at is None:
            return 0.0
        elapsed = max(now - self.at, 0.0)
        return self.level * math.exp(-elapsed / self.horizon)

    def add(self, now: float) -> float:
        """Count one event at `now`; return the new level.

        A late event (before the newest one counted) adds what is left of it
        by now, so the level does not depend on the order events come in:
        a principal's sessions reach the monitors through different partitions,
        each of which a replay may read far ahead of the others.
        """
        if self.at is None or now >= self.at:
            self.level = self.value_at(now) + 1.0
            self.at = now
        else:
            self.level += math.exp(-(self.at - now) / self.horizon)
        return self.level


class RecentTimes(Estimator):
    """The last `keep` times something happened, to count it within a window."""

    keep: int = Field(32, ge=1)
    times: list[float] = Field(default_factory=list)

    def add(self, now: float) -> None:
        """Record one occurrence at `now`."""
        self.times.append(now)
        if len(self.times) > self.keep:
            del self.times[: len(self.times) - self.keep]

    def within(self, now: float, window: float) -> int:
        """Occurrences in the `window` seconds up to `now`."""
        start = now - window
        return sum(1 for at in self.times if start <= at <= now)


class KnownValues(Estimator):
    """Values seen (countries, networks, devices) with when each was last seen.

    At most `keep` values are remembered; a new one beyond that evicts the least
    recently seen, so a principal that roams widely forgets old places rather
    than growing without bound.
    """

    keep: int = Field(64, ge=1)
    last_seen: dict[str, float] = Field(default_factory=dict)

    def __contains__(self, value: object) -> bool:
        return value in self.last_seen

    def __len__(self) -> int:
        return len(self.last_seen)

    def add(self, value: str, now: float) -> None:
        """Remember `value` as seen at `now`."""
        self.last_seen[value] = max(now, self.last_seen.get(value, now))
        if len(self.last_seen) > self.keep:
            oldest = min(self.last_seen, key=self.last_seen.__getitem__)
            del self.last_seen[oldest]
