"""The simulation sent to Kafka as raw records, malformed ones included.

The ledger's client validates everything it sends, so it cannot deliver the
deliberately malformed records the dead-letter path is tested with; this adapter
sends the bytes as they are, through an idempotent producer keyed by session id
with murmur2 partitioning, as every producer to auth.events must.

It also sends event-time ticks (the worker's partition clock, see
`ledger.worker.clock`) every `TICK_EVERY` of simulated time and at the end of the
period, so that a worker running with `LEDGER_WALL_CLOCK_TICKS=false` expires
sessions at simulated time even on partitions that fall silent. A worker with
wall-clock ticks on would instead expire every simulated (past) session at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from ledger.errors import BrokerError
from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.simulate.clock import MINUTE, to_datetime
from ledger.simulate.simulation import Record
from ledger.topics import ledger_topics
from ledger.worker.clock import TICK_HEADERS, tick_value

logger = logging.getLogger(__name__)

IN_FLIGHT = 5000
"""Sends awaited together; bounds memory while keeping the producer busy."""

TICK_EVERY = 5 * MINUTE
"""Simulated time between two rounds of ticks."""


@dataclass
class Sent:
    """What went to the ledger topic."""

    records: int = 0
    ticks: int = 0


async def send_records(
    settings: LedgerSettings,
    records: Iterable[Record],
    *,
    until: int | None = None,
    ticks: bool = True,
    rate: float | None = None,
) -> Sent:
    """Send every record to the ledger topic in order, with ticks unless told not.

    `until` is the end of the simulated period: the last round of ticks. `rate`
    caps the records sent per second, as live traffic comes: a worker that keeps
    up reads every partition at the same event time, which the monitors need
    (a backlog shows them a principal's sessions out of order).
    """
    bootstrap, topic = settings.bootstrap_servers, settings.topic_events
    for warning in await ensure_topics(bootstrap, ledger_topics(settings)):
        logger.warning("%s; sending the simulation anyway", warning)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="session-ledger-simulator",
        enable_idempotence=True,
        acks="all",
        linger_ms=max(settings.producer_linger_ms, 20),
        max_batch_size=512 * 1024,
        # Routing depends on this: murmur2(session id) % partitions.
        partitioner=DefaultPartitioner(),
    )
    try:
        await producer.start()
    except (KafkaError, OSError) as error:
        await producer.stop()
        raise BrokerError(
            f"no Kafka broker answers at {bootstrap} ({error!r}); nothing was sent"
        ) from error
    sent = Sent()
    pending: list[asyncio.Future[object]] = []
    partitions = sorted(await producer.partitions_for(topic))

    async def flush() -> None:
        await asyncio.gather(*pending)
        pending.clear()

    async def tick(at: int) -> None:
        # Every record before `at` is queued first; each partition keeps order.
        value = tick_value(to_datetime(at))
        for partition in partitions:
            pending.append(
                await producer.send(
                    topic, value, partition=partition, headers=TICK_HEADERS
                )
            )
            sent.ticks += 1

    try:
        next_tick: int | None = None
        began = time.monotonic()
        for record in records:
            if rate and sent.records % 50 == 0:
                ahead = began + sent.records / rate - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
            if ticks:
                if next_tick is None:
                    next_tick = record.at - record.at % TICK_EVERY + TICK_EVERY
                while record.at >= next_tick:
                    await tick(next_tick)
                    next_tick += TICK_EVERY
            pending.append(await producer.send(topic, record.value, key=record.key))
            sent.records += 1
            if len(pending) >= IN_FLIGHT:
                await flush()
        if ticks and until is not None:
            await tick(until)
        await flush()
    except KafkaError as error:
        raise BrokerError(
            f"the broker at {bootstrap} did not take every record for {topic} "
            f"({error!r}); up to {sent.records} were queued: send the simulation "
            "again, consumers de-duplicate on event_id"
        ) from error
    finally:
        await producer.stop()
    logger.info(
        "sent %d records and %d ticks to %s on %s",
        sent.records,
        sent.ticks,
        topic,
        bootstrap,
    )
    return sent
