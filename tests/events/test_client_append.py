"""The Python client appends validated events keyed and partitioned by session id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from kafka_fixtures import end_offsets, read_records
from running_ledger import java_partition

from ledger.client import LedgerClient, SyncLedgerClient
from ledger.errors import EventRejected
from ledger.settings import LedgerSettings
from schemas import (
    EVENT_TYPES,
    AccessRecorded,
    Event,
    InvalidEvent,
    Scope,
    SessionStarted,
    parse_event,
)
from schemas.examples import example, examples

pytestmark = pytest.mark.broker

PARTITIONS = 8
EXAMPLE_EVENTS = [item for item in examples().values() if isinstance(item, Event)]


def settings_for(bootstrap: str, topic: str) -> LedgerSettings:
    return LedgerSettings(kafka_bootstrap=bootstrap, topic_events=topic)


async def append_all(settings: LedgerSettings, events: list[Event]):
    async with LedgerClient(settings) as client:
        return await client.append_many(events)


def test_client_every_event_type_round_trips_on_its_murmur2_partition(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = topic_factory(PARTITIONS, prefix="client-types")
    before = datetime.now(UTC)

    appended = asyncio.run(
        append_all(settings_for(kafka_bootstrap, topic), EXAMPLE_EVENTS)
    )
    records = asyncio.run(read_records(kafka_bootstrap, topic))

    assert {type(item) for item in EXAMPLE_EVENTS} == set(EVENT_TYPES.values())
    sent = {item.event_id: item for item in EXAMPLE_EVENTS}
    where = {item.event_id: (item.partition, item.offset) for item in appended}
    assert len(records) == len(sent)
    for record in records:
        event = parse_event(record.value)
        assert event.received_at is not None and event.received_at >= before
        assert event.model_copy(update={"received_at": None}) == sent[event.event_id]
        assert record.key == event.session_id.encode()
        assert record.partition == java_partition(record.key, PARTITIONS)
        assert where[event.event_id] == (record.partition, record.offset)


def test_client_many_sessions_spread_over_murmur2_partitions(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = topic_factory(PARTITIONS, prefix="client-spread")
    events = [
        example(AccessRecorded, event_id=uuid4(), session_id=f"spread-{n}")
        for n in range(200)
    ]

    appended = asyncio.run(append_all(settings_for(kafka_bootstrap, topic), events))

    for item in appended:
        assert item.partition == java_partition(item.session_id.encode(), PARTITIONS)
    assert len({item.partition for item in appended}) == PARTITIONS


def test_sync_client_agent_flow_appends_in_order_on_one_partition(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = topic_factory(PARTITIONS, prefix="client-flow")

    with SyncLedgerClient(settings_for(kafka_bootstrap, topic)) as client:
        session_id, started = session = client.start_agent_session(
            "svc-report@acme", "task-nightly-report"
        )
        client.heartbeat(session)
        client.record_access(session, "db://finance/ledger", "select")
        client.complete_task(session)
        client.end_session(session)
    records = asyncio.run(read_records(kafka_bootstrap, topic))

    events = [parse_event(record.value) for record in records]
    assert [event.type for event in events] == [
        "session.started",
        "task.started",
        "heartbeat.received",
        "access.recorded",
        "task.completed",
        "session.ended",
    ]
    assert {record.partition for record in records} == {
        java_partition(session_id.encode(), PARTITIONS)
    }
    assert [record.offset for record in records] == sorted(r.offset for r in records)
    assert events[0] == started.model_copy(
        update={"received_at": events[0].received_at}
    )
    assert started.lifecycle.task_id == "task-nightly-report"
    assert started.lifecycle.heartbeat_ttl_seconds is not None
    assert {event.principal.id for event in events} == {"svc-report@acme"}
    assert events[4].task_id == "task-nightly-report"


def rejected_batches() -> dict[str, tuple[list[Event], str]]:
    access = examples()[AccessRecorded]
    naive = access.model_copy(update={"occurred_at": datetime(2025, 3, 3, 9, 0)})
    ahead = access.model_copy(
        update={"occurred_at": datetime.now(UTC) + timedelta(hours=1)}
    )
    huge = example(
        SessionStarted,
        scopes=[
            Scope(resource=f"s3://{'x' * 1000}/{n}", operations=("read",))
            for n in range(80)
        ],
    )
    return {
        "naive": ([naive], "timezone missing"),
        "future": ([ahead], "ahead of now"),
        "oversized": ([huge], "over the 65536-byte limit"),
        "one bad in a batch": ([access, naive, access], "events[1]: occurred_at"),
    }


@pytest.mark.parametrize("case", list(rejected_batches()))
def test_client_invalid_event_raises_event_rejected_and_sends_nothing(
    kafka_bootstrap: str, topic_factory, case: str
) -> None:
    topic = topic_factory(PARTITIONS, prefix="client-rejects")
    events, reason = rejected_batches()[case]

    with pytest.raises(EventRejected) as caught:
        asyncio.run(append_all(settings_for(kafka_bootstrap, topic), events))

    assert reason in caught.value.reason
    cause = caught.value.__cause__
    assert isinstance(cause, InvalidEvent | EventRejected)
    assert set(asyncio.run(end_offsets(kafka_bootstrap, topic)).values()) == {0}


def test_client_helper_with_bad_principal_raises_event_rejected(
    kafka_bootstrap: str, topic_factory
) -> None:
    topic = topic_factory(PARTITIONS, prefix="client-helper")

    async def start_with_bad_principal() -> None:
        async with LedgerClient(settings_for(kafka_bootstrap, topic)) as client:
            await client.start_agent_session("robot; rm -rf /", "task-1")

    with pytest.raises(EventRejected, match=r"principal\.id: not an identifier"):
        asyncio.run(start_with_bad_principal())
    assert set(asyncio.run(end_offsets(kafka_bootstrap, topic)).values()) == {0}
