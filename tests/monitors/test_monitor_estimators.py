"""The online estimators behind baselines: river's numbers, windows, memory bounds."""

from __future__ import annotations

import math

import pytest
from river import stats

from monitors.estimators import DecayingCount, EwMoments, KnownValues, RecentTimes


def test_ew_moments_on_a_series_matches_river_ewmean_and_ewvar() -> None:
    values = [1, 3, 5, 4, 6, 8, 7, 9, 11, 2, 40, 3]
    ours = EwMoments(fading_factor=0.3)
    mean, variance = stats.EWMean(0.3), stats.EWVar(0.3)
    for value in values:
        ours.update(value)
        mean.update(value)
        variance.update(value)
        assert ours.mean == pytest.approx(mean.get())
        assert ours.variance == pytest.approx(variance.get())


def test_ew_moments_round_trip_through_json_keeps_every_number() -> None:
    moments = EwMoments(fading_factor=0.2)
    for value in (3.5, 7.25, 1.0):
        moments.update(value)
    assert EwMoments.model_validate_json(moments.model_dump_json()) == moments


def test_decaying_count_at_a_steady_rate_approaches_rate_times_horizon() -> None:
    count = DecayingCount(horizon=60.0)
    for second in range(0, 600):
        count.add(float(second))
    assert count.value_at(599.0) == pytest.approx(60.0, rel=0.02)
    assert count.value_at(599.0 + 60.0) == pytest.approx(60.0 / math.e, rel=0.02)


def test_recent_times_outside_the_window_are_not_counted() -> None:
    recent = RecentTimes(keep=8)
    for at in (0.0, 100.0, 500.0, 550.0, 590.0):
        recent.add(at)
    assert recent.within(600.0, window=120.0) == 3
    assert recent.within(600.0, window=1000.0) == 5


def test_known_values_beyond_capacity_forget_the_least_recently_seen() -> None:
    known = KnownValues(keep=3)
    for at, value in enumerate(["DE", "FR", "DE", "GB", "US"]):
        known.add(value, float(at))
    assert sorted(known.last_seen) == ["DE", "GB", "US"]
    assert "FR" not in known


def test_decaying_count_is_the_same_whatever_order_the_events_come_in() -> None:
    times = [7.0 * n for n in range(60)]
    in_order, shuffled = DecayingCount(), DecayingCount()
    for at in times:
        in_order.add(at)
    for at in times[1::2] + times[::2]:  # one session read far ahead of another
        shuffled.add(at)
    assert shuffled.at == in_order.at
    assert math.isclose(shuffled.level, in_order.level, rel_tol=1e-9)
