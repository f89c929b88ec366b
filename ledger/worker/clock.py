"""Partition clock ticks: how silence still moves event time forward.

Expiry runs on each partition's watermark, the newest event time seen on it. A
partition with no traffic would never expire anything, so a tick, a control
message carrying a time, is sent to every partition of the ledger topic. The
projection handles it in-stream, on that partition, like an event.

- Live workers send wall-clock ticks every `tick_interval_seconds` from a Faust
  timer on the leader (`LEDGER_WALL_CLOCK_TICKS`, on by default).
- Simulations and tests in event time turn those off and call `send_ticks` with
  their simulated time, so that a replay sees exactly the same ticks.

A tick is a record with no key, the header `ledger-control: tick` and the JSON
body `{"at": "<ISO 8601 UTC>"}`. Ticks stay in the ledger topic for good, so that
replaying the topic from its start replays time as well.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from ledger.worker.app import CONTROL_HEADER, LedgerWorker

logger = logging.getLogger(__name__)

TICK = b"tick"
TICK_HEADERS = [(CONTROL_HEADER, TICK)]


def tick_value(at: datetime) -> bytes:
    """The body of a tick at `at` (an aware time)."""
    if at.tzinfo is None:
        raise ValueError(f"tick time {at.isoformat()} has no time zone")
    return json.dumps({"at": at.astimezone(UTC).isoformat()}).encode()


def tick_time(value: bytes | None) -> datetime:
    """The time a tick body carries; ValueError if it is not a tick body."""
    try:
        at = datetime.fromisoformat(json.loads(value or b"")["at"])
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"not a tick body: {value[:80]!r}") from error
    if at.tzinfo is None:
        raise ValueError(f"tick time {at.isoformat()} has no time zone")
    return at.astimezone(UTC)


async def send_ticks(
    producer: AIOKafkaProducer,
    topic: str,
    partitions: int | Iterable[int],
    at: datetime,
) -> None:
    """Send a tick at `at` to each partition (a count means all of them); wait
    until every tick is acknowledged."""
    numbers = range(partitions) if isinstance(partitions, int) else partitions
    value = tick_value(at)
    sent = [
        await producer.send(topic, value, partition=partition, headers=TICK_HEADERS)
        for partition in numbers
    ]
    await asyncio.gather(*sent)


def install(worker: LedgerWorker) -> None:
    """Send wall-clock ticks from the leader, unless the settings turn them off."""
    settings = worker.settings
    if not settings.wall_clock_ticks or not settings.append_derived:
        logger.info(
            "wall-clock ticks are off; only ticks already in %s move silent "
            "partitions' event time",
            settings.topic_events,
        )
        return
    events = worker.events
    partitions = settings.partitions

    @worker.app.timer(settings.tick_interval_seconds, on_leader=True)
    async def send_wall_clock_ticks() -> None:
        value = tick_value(datetime.now(UTC))
        for partition in range(partitions):
            events.send_soon(value=value, partition=partition, headers=TICK_HEADERS)
