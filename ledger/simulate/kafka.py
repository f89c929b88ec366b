"""The simulation sent to Kafka as raw records, malformed ones included.

The ledger's client validates everything it sends, so it cannot deliver the
deliberately malformed records the dead-letter path is tested with; this adapter
sends the bytes as they are, through an idempotent producer keyed by session id
with murmur2 partitioning, as every producer to auth.events must.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from ledger.errors import BrokerError
from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.simulate.simulation import Record
from ledger.topics import ledger_topics

logger = logging.getLogger(__name__)

IN_FLIGHT = 5000
"""Sends awaited together; bounds memory while keeping the producer busy."""


async def send_records(settings: LedgerSettings, records: Iterable[Record]) -> int:
    """Send every record to the ledger topic in order; return how many were sent."""
    bootstrap = settings.bootstrap_servers
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
    sent = 0
    pending: list[asyncio.Future[object]] = []
    try:
        for record in records:
            pending.append(
                await producer.send(settings.topic_events, record.value, key=record.key)
            )
            if len(pending) >= IN_FLIGHT:
                await asyncio.gather(*pending)
                sent += len(pending)
                pending.clear()
        await asyncio.gather(*pending)
        sent += len(pending)
    except KafkaError as error:
        raise BrokerError(
            f"the broker at {bootstrap} did not take record {sent + 1} for "
            f"{settings.topic_events} ({error!r}); {sent} records were sent before "
            "it: send the simulation again, consumers de-duplicate on event_id"
        ) from error
    finally:
        await producer.stop()
    logger.info("sent %d records to %s on %s", sent, settings.topic_events, bootstrap)
    return sent
