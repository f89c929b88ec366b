"""Thousands of hostile records end in the dead-letter topic; the worker carries on.

The records go straight to auth.events with a plain aiokafka producer, bypassing
every client-side check, with valid events sent between them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from hostile_records import Record, assert_refused_locally, hostile_records
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from kafka_fixtures import end_offsets, wait_for
from running_ledger import (
    PARTITIONS,
    RunningLedger,
    committed_offsets,
    dead_letters,
    java_partition,
)

from ledger.worker.validation import KEY_MAX_BYTES
from schemas import AccessRecorded, SessionStarted, serialize
from schemas.examples import example

pytestmark = pytest.mark.broker

BATCHES = 40
Position = tuple[int, int]


def draw_records() -> list[Record]:
    """About 3,000 hostile records from hypothesis, with valid events between."""
    drawn: list[Record] = []

    @settings(
        max_examples=BATCHES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(hostile_records(), min_size=60, max_size=90))
    def collect(batch: list[Record]) -> None:
        drawn.extend(batch)
        session = f"steady-{uuid4()}"
        for event in (
            example(SessionStarted, event_id=uuid4(), session_id=session),
            example(AccessRecorded, event_id=uuid4(), session_id=session),
        ):
            drawn.append(Record("valid", serialize(event), session.encode()))

    collect()
    return drawn


async def send(bootstrap: str, topic: str, records: list[Record]) -> list[Position]:
    """Send every record in order; return where each landed."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, max_request_size=1024 * 1024, linger_ms=20
    )
    await producer.start()
    try:
        deliveries = []
        for record in records:
            partition = None
            if record.wrong_partition:
                assert record.key is not None
                partition = (java_partition(record.key, PARTITIONS) + 1) % PARTITIONS
            deliveries.append(
                await producer.send(
                    topic, record.value, key=record.key, partition=partition
                )
            )
        landed = await asyncio.gather(*deliveries)
    finally:
        await producer.stop()
    return [(meta.partition, meta.offset) for meta in landed]


def test_hostile_records_all_dead_lettered_while_worker_keeps_going(
    running_ledger: RunningLedger,
) -> None:
    settings_ = running_ledger.settings
    bootstrap, topic = settings_.bootstrap_servers, settings_.topic_events
    records = draw_records()
    for record in records:
        if record.kind != "valid":
            assert_refused_locally(record)
    kinds = Counter(record.kind for record in records)
    letters_before = asyncio.run(end_offsets(bootstrap, settings_.topic_dead_letters))

    positions = asyncio.run(send(bootstrap, topic, records))

    sent = dict(zip(positions, records, strict=True))
    hostile = {pos: r for pos, r in sent.items() if r.kind != "valid"}
    valid = {pos: r for pos, r in sent.items() if r.kind == "valid"}
    print(f"sent {len(hostile)} hostile and {len(valid)} valid records: {kinds}")
    assert len(hostile) >= 2000
    assert set(kinds) > {"random bytes", "huge string", "not an object", "wrong key"}

    letters: dict[Position, list] = {}

    def all_dead_lettered() -> bool:
        letters.clear()
        for letter in dead_letters(running_ledger, letters_before):
            letters.setdefault((letter.partition, letter.offset), []).append(letter)
        return len(letters) >= len(hostile)

    wait_for(
        all_dead_lettered,
        300,
        f"{len(hostile)} dead letters",
        interval=5.0,
        on_timeout=lambda: (
            f"{len(letters)} so far\n{running_ledger.process.log_tail()}"
        ),
    )

    assert set(letters) == set(hostile)
    for position, record in hostile.items():
        [letter] = letters[position]
        assert letter.source_topic == topic
        assert letter.original == record.value and not letter.truncated
        # Keys are cut to KEY_MAX_BYTES; no valid session id is that long.
        assert letter.key == (record.key[:KEY_MAX_BYTES] if record.key else record.key)
        assert letter.reason
    assert not set(letters) & set(valid)

    assert running_ledger.process.alive(), running_ledger.process.log_tail()
    assert running_ledger.health() == 200
    last_valid: dict[int, int] = {}
    for partition, offset in valid:
        last_valid[partition] = max(last_valid.get(partition, -1), offset)
    sessions = {r.key.decode() for r in valid.values() if r.key is not None}
    for session_id in sessions:
        status, answer = running_ledger.get_session(session_id)
        assert (status, answer["session_id"]) == (200, session_id)
    wait_for(
        lambda: all(
            asyncio.run(committed_offsets(bootstrap, settings_.app_id, topic)).get(p, 0)
            > offset
            for p, offset in last_valid.items()
        ),
        120,
        "the worker's committed offsets past every valid event",
        interval=2.0,
        on_timeout=running_ledger.process.log_tail,
    )
