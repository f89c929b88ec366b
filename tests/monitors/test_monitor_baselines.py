"""Baselines survive serialization: same scores, no new warm-up, no burst of alerts."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from monitor_streams import (
    MONDAY,
    alerts_of,
    in_time_order,
    login,
    night_batches,
    office_weeks,
    replay,
)

from monitors.baselines import BaselineUnreadable, PrincipalBaseline
from monitors.context import SessionContext
from monitors.engine import MonitorEngine
from monitors.policy import MonitorPolicy
from monitors.store import EncodedStore, MemoryStore

# The learned model must be past its warm-up too, for "no new warm-up" to mean
# something for it.
POLICY = MonitorPolicy(
    agent={"learned": {"warmup_events": 600}}, user={"learned": {"warmup_events": 40}}
)


def history() -> list:
    return in_time_order(office_weeks(3), night_batches(14))


@pytest.fixture(scope="module")
def _learned() -> MonitorEngine:
    engine = MonitorEngine(POLICY)
    replay(engine, history())
    return engine


@pytest.fixture
def learned(_learned: MonitorEngine) -> MonitorEngine:
    """An engine past every warm-up: three office weeks and two weeks of nights."""
    return copy.deepcopy(_learned)


def encoded_copy(store: MemoryStore) -> EncodedStore:
    """The state of `store`, written out as bytes and nothing else."""
    return EncodedStore(
        principals={k.encode(): b.to_bytes() for k, b in store.principals.items()},
        sources={f"/{k}".encode(): b.to_bytes() for k, b in store.sources.items()},
        models={f"{c.value}@".encode(): m.to_bytes() for c, m in store.models.items()},
        contexts={k.encode(): c.to_bytes() for k, c in store.contexts.items()},
    )


def test_baselines_serialized_on_every_event_give_identical_verdicts() -> None:
    events = in_time_order(office_weeks(3), night_batches(5))
    in_memory = replay(MonitorEngine(POLICY), events)
    encoded = EncodedStore({}, {}, {}, {}, model_every=1)
    through_bytes = replay(MonitorEngine(POLICY, store=encoded), events)
    assert through_bytes == in_memory
    assert alerts_of(in_memory)  # the stream does raise alerts to compare


def test_baselines_after_a_round_trip_need_no_new_warm_up(learned) -> None:
    restored = MonitorEngine(POLICY, store=encoded_copy(learned.store))

    # Normal activity goes on: no burst of alerts after the restart.
    later = in_time_order(
        office_weeks(1, start=MONDAY + timedelta(days=21)),
        night_batches(2, first=14),
    )
    assert alerts_of(replay(restored, later)) == []

    # And the baseline still judges at once: a 3 a.m. login is unusual.
    verdict = restored.observe(login(MONDAY + timedelta(days=29, hours=3)))
    assert "user_unusual_hour" in [alert.detector for alert in verdict.alerts]


def test_baselines_round_trip_scores_the_next_events_identically(learned) -> None:
    restored = MonitorEngine(POLICY, store=encoded_copy(learned.store))
    probes = [
        login(MONDAY + timedelta(days=22, hours=3)),
        *in_time_order(night_batches(1, first=14)),
    ]
    assert replay(restored, probes) == replay(learned, probes)


def test_baseline_from_bytes_refuses_garbage_with_the_reason() -> None:
    with pytest.raises(BaselineUnreadable, match="cannot be read"):
        PrincipalBaseline.from_bytes(b'{"category": "robot"}')


def test_baseline_from_bytes_refuses_another_version() -> None:
    raw = PrincipalBaseline(category="agent", version=99).to_bytes()
    with pytest.raises(BaselineUnreadable, match="version 99"):
        PrincipalBaseline.from_bytes(raw)


def test_session_context_round_trips_through_bytes() -> None:
    store = MemoryStore()
    replay(MonitorEngine(store=store), in_time_order(office_weeks(1)))
    for context in store.contexts.values():
        assert SessionContext.from_bytes(context.to_bytes()) == context
