"""Reading the newest records of a topic, or following it, for the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, TopicPartition

from ledger.errors import BrokerError
from ledger.kafka.admin import admin_client


async def partition_count(bootstrap: str, topic: str) -> int:
    """How many partitions `topic` has; BrokerError if it does not exist."""
    async with admin_client(bootstrap) as admin:
        # List first: describing a missing topic could auto-create it.
        if topic not in await admin.list_topics():
            raise BrokerError(
                f"topic {topic} does not exist on {bootstrap}; the worker creates it "
                "when it starts"
            )
        [description] = await admin.describe_topics([topic])
    return len(description["partitions"])


async def tail_topic(
    bootstrap: str,
    topic: str,
    show: Callable[[ConsumerRecord], None],
    *,
    from_beginning: bool,
    limit: int,
    follow: bool,
    on_follow: Callable[[], None] | None = None,
) -> None:
    """Show the last `limit` records of each partition (or all), then maybe follow."""
    partitions = await partition_count(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
    except (KafkaError, OSError) as error:
        await consumer.stop()
        raise BrokerError(
            f"no Kafka broker answers at {bootstrap} ({error!r}); cannot read {topic}"
        ) from error
    # aiokafka 0.14 raises CancelledError from stop() if its offset-reset task
    # never ran; one turn of the loop lets it start.
    await asyncio.sleep(0)
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        begins = await consumer.beginning_offsets(assigned)
        ends = await consumer.end_offsets(assigned)
        for tp in assigned:
            if from_beginning:
                start = begins[tp]
            elif limit:
                start = max(begins[tp], ends[tp] - limit)
            else:
                start = ends[tp]
            consumer.seek(tp, start)
        if follow and on_follow is not None:
            on_follow()

        shown = 0
        while follow or await _behind(consumer, ends):
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    if not follow and record.offset >= ends[tp]:
                        continue
                    show(record)
                    shown += 1
                    if limit and shown >= limit:
                        return
    finally:
        await consumer.stop()


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False
