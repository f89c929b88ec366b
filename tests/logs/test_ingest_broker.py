"""`ledger ingest` into a real broker: events keyed by session, rejects on the DLQ."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import murmur2

from ledger.logs.ingest import ingest_file
from ledger.logs.mapping import IngestOptions
from schemas import DeadLetter, parse_event

pytestmark = pytest.mark.broker

LEDGER = str(Path(sys.executable).parent / "ledger")
PARTITIONS = 4


def run_ingest(env: dict[str, str], *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LEDGER, "ingest", *map(str, files)],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )


async def consume(bootstrap: str, topic: str, count: int) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list = []
    try:
        async with asyncio.timeout(120):
            while len(records) < count:
                batches = await consumer.getmany(timeout_ms=1000)
                for batch in batches.values():
                    records.extend(batch)
        # Anything beyond `count` would be a duplicate append: wait a little more.
        extra = await consumer.getmany(timeout_ms=2000)
        records.extend(record for batch in extra.values() for record in batch)
    finally:
        await consumer.stop()
    return records


def test_ingest_to_broker_keys_events_by_session_and_dead_letters_rejects(
    kafka_bootstrap: str, topic_factory, realdata: Path
) -> None:
    events_topic = topic_factory(PARTITIONS, prefix="ingest-events")
    dlq_topic = topic_factory(1, prefix="ingest-dlq")
    env = {
        **os.environ,
        "LEDGER_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LEDGER_TOPIC_EVENTS": events_topic,
        "LEDGER_TOPIC_DEAD_LETTERS": dlq_topic,
        "LEDGER_PARTITIONS": str(PARTITIONS),
    }
    entra = (
        realdata / "elastic-integrations-azure" / "test-non-interactive-user-sample.log"
    )
    linux = realdata / "loghub" / "Linux_2k.log"
    expected = [
        event
        for path in (entra, linux)
        for outcome in ingest_file(path, "auto", IngestOptions())
        for event in outcome.events
    ]
    assert len(expected) == 3 + 618

    done = run_ingest(env, entra, linux)

    assert done.returncode == 0, done.stderr.decode()
    records = asyncio.run(consume(kafka_bootstrap, events_topic, len(expected)))
    appended = [parse_event(record.value) for record in records]
    assert sorted(str(e.event_id) for e in appended) == sorted(
        str(e.event_id) for e in expected
    )
    for record, event in zip(records, appended, strict=True):
        assert record.key == event.session_id.encode()
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % PARTITIONS
        assert event.received_at is not None
    letters = [
        DeadLetter.model_validate_json(record.value)
        for record in asyncio.run(consume(kafka_bootstrap, dlq_topic, 118))
    ]
    assert len(letters) == 118
    assert {letter.source_topic for letter in letters} == {f"file:{linux}"}
    assert all("names no user" in letter.reason for letter in letters)
    assert letters[0].offset == 1  # the first line of Linux_2k.log
