"""How many dead letters the dead-letter topic holds, from its offsets.

The count is end offset minus earliest offset over the topic's partitions: the
records still held under its retention (30 days by default), read without
consuming a single one. The topic is neither compacted nor transactional, so every
offset in that range is one record.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from ledger.errors import BrokerError
from ledger.kafka.admin import admin_client

logger = logging.getLogger(__name__)


async def count_dead_letters(
    bootstrap: str, topic: str, timeout: float = 10.0
) -> int | None:
    """Records held in `topic`, or None when no broker answers or it is missing."""
    try:
        async with asyncio.timeout(timeout):
            return await _count(bootstrap, topic, timeout)
    except (BrokerError, KafkaError, OSError, TimeoutError) as error:
        logger.warning(
            "cannot count the dead letters in %s at %s (%s); the report says 'unknown'",
            topic,
            bootstrap,
            error,
        )
        return None


async def _count(bootstrap: str, topic: str, timeout: float) -> int | None:
    async with admin_client(bootstrap, timeout=timeout) as admin:
        # List first: describing a missing topic could auto-create it.
        if topic not in await admin.list_topics():
            logger.warning(
                "topic %s does not exist at %s (no worker has started there yet); "
                "the report says 'unknown' for dead letters",
                topic,
                bootstrap,
            )
            return None
        [description] = await admin.describe_topics([topic])
    partitions = [
        TopicPartition(topic, p["partition"]) for p in description["partitions"]
    ]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000)
    )
    await consumer.start()
    try:
        earliest = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return sum(ends[tp] - earliest[tp] for tp in partitions)
