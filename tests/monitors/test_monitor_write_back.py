"""Write-back state: changes wait in memory until a flush, verdicts stay the same.

The worker keeps the monitors' baselines and contexts decoded and writes them to
their tables once for many events. These tests hold the store to that contract
over dicts; `test_monitor_crash.py` holds the worker to it on a real broker.
"""

from __future__ import annotations

from monitor_streams import (
    alerts_of,
    in_time_order,
    night_batches,
    office_weeks,
    replay,
)

from monitors.engine import MonitorEngine
from monitors.policy import MonitorPolicy
from monitors.store import EncodedStore

# Short learned warm-ups, so that the streams below raise alerts to compare.
POLICY = MonitorPolicy(
    agent={"learned": {"warmup_events": 600}}, user={"learned": {"warmup_events": 40}}
)


def write_back_store(cached: int = 50_000) -> EncodedStore:
    return EncodedStore({}, {}, {}, {}, model_every=1, cached=cached, write_back=True)


def test_write_back_store_gives_the_verdicts_of_writing_every_event() -> None:
    events = in_time_order(office_weeks(3), night_batches(5))
    every_event = replay(
        MonitorEngine(POLICY, store=EncodedStore({}, {}, {}, {})), events
    )
    # A cache of one object forces reads of unflushed changes that were evicted.
    held = replay(MonitorEngine(POLICY, store=write_back_store(cached=1)), events)
    assert held == every_event
    assert alerts_of(every_event)


def test_write_back_store_writes_nothing_before_a_flush() -> None:
    store = write_back_store()
    replay(MonitorEngine(store=store), in_time_order(office_weeks(1)))
    assert store.principals == {}
    assert store.contexts == {}
    assert store.unflushed("") > 0


def test_write_back_store_flush_writes_the_scope_it_is_asked_for_only() -> None:
    store = write_back_store()
    store.scope = "0"
    replay(MonitorEngine(store=store), in_time_order(office_weeks(1)))
    store.scope = "1"
    replay(MonitorEngine(store=store), in_time_order(night_batches(1)))
    agents_changes = store.unflushed("1")

    written = store.flush("0")

    assert written > 0 and store.unflushed("0") == 0
    assert store.unflushed("1") == agents_changes
    assert all(key.startswith(b"user:") for key in store.principals)
    assert store.flush("1") == agents_changes
    assert any(key.startswith(b"agent:") for key in store.principals)


def test_write_back_store_flushed_bytes_restore_the_same_verdicts() -> None:
    history = in_time_order(office_weeks(2), night_batches(3))
    probes = in_time_order(night_batches(1, first=3))
    store = write_back_store()
    engine = MonitorEngine(store=store)
    replay(engine, history)
    store.flush("")

    restored = EncodedStore(
        store.principals, store.sources, store.models, store.contexts, model_every=1
    )
    assert replay(MonitorEngine(store=restored), probes) == replay(engine, probes)


def test_write_back_store_forget_drops_unflushed_changes() -> None:
    store = write_back_store()
    replay(MonitorEngine(store=store), in_time_order(office_weeks(1)))
    store.forget()
    assert store.unflushed("") == 0
    assert store.flush("") == 0
    assert store.principals == {}
