"""Consumer lag and waiting for a drained group, on the real broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from ledger.errors import BrokerError
from ledger.kafka.lag import group_lag, wait_until_drained

pytestmark = pytest.mark.broker


async def produce(bootstrap: str, topic: str, partition: int, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for index in range(count):
            await producer.send(topic, f"record-{index}".encode(), partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def commit(
    bootstrap: str, group: str, offsets: dict[TopicPartition, int]
) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    await asyncio.sleep(0)
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


def test_group_lag_partly_committed_group_reports_the_gap_per_partition(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    unique_name: Callable[..., str],
) -> None:
    topic = topic_factory(2)
    group = unique_name("group")
    asyncio.run(produce(kafka_bootstrap, topic, 0, 5))
    asyncio.run(produce(kafka_bootstrap, topic, 1, 3))
    asyncio.run(commit(kafka_bootstrap, group, {TopicPartition(topic, 0): 2}))

    lags = asyncio.run(group_lag(kafka_bootstrap, group, [topic]))

    assert [(e.partition, e.end_offset, e.committed, e.lag) for e in lags] == [
        (0, 5, 2, 3),
        (1, 3, None, 3),
    ]


def test_wait_until_drained_lagging_group_times_out_naming_the_gap(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    unique_name: Callable[..., str],
) -> None:
    topic = topic_factory(1)
    asyncio.run(produce(kafka_bootstrap, topic, 0, 4))

    with pytest.raises(BrokerError, match="still trails by 4 records"):
        asyncio.run(
            wait_until_drained(
                kafka_bootstrap, unique_name("group"), [topic], timeout=1, poll=0.2
            )
        )


def test_wait_until_drained_caught_up_group_returns_zero_lag(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    unique_name: Callable[..., str],
) -> None:
    topic = topic_factory(1)
    group = unique_name("group")
    asyncio.run(produce(kafka_bootstrap, topic, 0, 4))
    asyncio.run(commit(kafka_bootstrap, group, {TopicPartition(topic, 0): 4}))

    lags = asyncio.run(
        wait_until_drained(
            kafka_bootstrap, group, [topic], timeout=30, settle=0.5, poll=0.2
        )
    )

    assert [entry.lag for entry in lags] == [0]
