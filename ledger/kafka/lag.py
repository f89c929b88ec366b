"""Consumer lag of a consumer group: how far its committed offsets trail the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError

from ledger.errors import BrokerError
from ledger.kafka.admin import admin_client


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """One partition's end offset, the group's committed offset, and the gap."""

    topic: str
    partition: int
    end_offset: int
    committed: int | None

    @property
    def lag(self) -> int:
        """Records not yet committed by the group (all of them if none are)."""
        return self.end_offset - (self.committed or 0)


async def group_lag(
    bootstrap: str, group: str, topics: Sequence[str]
) -> list[PartitionLag]:
    """The lag of `group` on every partition of `topics`."""
    async with admin_client(bootstrap) as admin:
        committed = await admin.list_consumer_group_offsets(group)
        described = await admin.describe_topics(list(topics))
    partitions = [
        TopicPartition(topic["topic"], entry["partition"])
        for topic in described
        if topic.get("error_code", 0) == 0
        for entry in sorted(topic["partitions"], key=lambda p: p["partition"])
    ]
    if not partitions:
        raise BrokerError(f"none of the topics {list(topics)} exist on {bootstrap}")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    # aiokafka 0.14 raises CancelledError from stop() if its offset-reset task
    # never ran; one turn of the loop lets it start.
    await asyncio.sleep(0)
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return [
        PartitionLag(
            topic=tp.topic,
            partition=tp.partition,
            end_offset=ends[tp],
            committed=committed[tp].offset if tp in committed else None,
        )
        for tp in partitions
    ]


async def wait_until_drained(
    bootstrap: str,
    group: str,
    topics: Sequence[str],
    *,
    timeout: float,
    settle: float = 3.0,
    poll: float = 1.0,
) -> list[PartitionLag]:
    """Wait until the group's lag is zero on every partition and stays so.

    `settle` seconds of zero lag are required, because the worker appends derived
    events (expiries, links) after it has read the events that cause them.
    """
    deadline = time.monotonic() + timeout
    drained_since: float | None = None
    while True:
        try:
            lags = await group_lag(bootstrap, group, topics)
        except (CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
            # A new broker creates its offsets topic on the first group's
            # request; until then no group has a coordinator, and none has
            # committed anything.
            if time.monotonic() >= deadline:
                raise BrokerError(
                    f"group {group} has no coordinator on {bootstrap} after "
                    f"{timeout:.0f} s"
                ) from None
            drained_since = None
            await asyncio.sleep(poll)
            continue
        now = time.monotonic()
        if all(entry.lag == 0 for entry in lags):
            drained_since = drained_since or now
            if now - drained_since >= settle:
                return lags
        else:
            drained_since = None
        if now >= deadline:
            behind = sum(entry.lag for entry in lags)
            raise BrokerError(
                f"group {group} still trails by {behind} records after {timeout:.0f} s"
            )
        await asyncio.sleep(poll)
