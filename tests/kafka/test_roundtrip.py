"""A keyed message survives the real broker, on the partition Java would choose.

The design relies on this: producers in any language, aiokafka and Faust's
table_route must all put a session id on the same partition, murmur2(key) % n.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.partitioner import murmur2

# Kafka's Java Utils.murmur2 (signed int), checked with kafka-clients 4.1.1; the
# first three are also in Kafka's own UtilsTest.
JAVA_MURMUR2 = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"abc": 479470107,
    b"session-7f3a": -233933163,
    b"agent-42": 802296718,
}


def java_partition(key: bytes, partitions: int) -> int:
    """Java's default partition for a keyed record: toPositive(murmur2) % n."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def test_murmur2_known_keys_match_java() -> None:
    for key, java_hash in JAVA_MURMUR2.items():
        assert murmur2(key) == java_hash & 0xFFFFFFFF, key


@pytest.mark.broker
def test_roundtrip_keyed_messages_land_on_murmur2_partition(
    kafka_bootstrap: str, topic_factory
) -> None:
    partitions = 8
    topic = topic_factory(partitions)
    sent = {f"session-{n}".encode(): f"event {n}".encode() for n in range(24)}

    received, metadata = asyncio.run(_roundtrip(kafka_bootstrap, topic, sent))

    assert {key: value for key, value, _ in received} == sent
    for key, _, partition in received:
        assert partition == java_partition(key, partitions), key
        assert metadata[key] == partition, key
    # The check means little if every key landed on one partition.
    assert len({partition for _, _, partition in received}) > 4


async def _roundtrip(
    bootstrap: str, topic: str, sent: dict[bytes, bytes]
) -> tuple[list[tuple[bytes, bytes, int]], dict[bytes, int]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        metadata = {
            key: (await producer.send_and_wait(topic, value, key=key)).partition
            for key, value in sent.items()
        }
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[tuple[bytes, bytes, int]] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < len(sent):
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    received.extend(
                        (record.key, record.value, record.partition)
                        for record in records
                    )
    finally:
        await consumer.stop()
    return received, metadata
