"""Where ingested events and dead letters go: JSON Lines files, or Kafka.

Both sinks take `Outcome`s one at a time and are closed once at the end. The
Kafka sink appends events through the ledger's client (`ledger.client`): each
event validated again, stamped with `received_at`, keyed by its raw session id
and partitioned with murmur2, through an idempotent producer. Dead letters go to
the dead-letter topic, unkeyed, through a second idempotent producer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import BinaryIO, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from ledger.client import LedgerClient
from ledger.errors import BrokerError
from ledger.kafka.admin import ensure_topics
from ledger.logs.ingest import Outcome, dead_letter
from ledger.settings import LedgerSettings
from ledger.topics import ledger_topics
from schemas import AuthEvent, serialize

logger = logging.getLogger(__name__)

BATCH_EVENTS = 500
"""Events appended per round trip to the broker."""

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


class Sink(Protocol):
    """Takes the outcome of every record of a run."""

    async def accept(self, outcome: Outcome) -> None:
        """Take one record's events, or its dead letter."""

    async def close(self) -> None:
        """Flush what is buffered; nothing is lost once this returns."""


class JsonLinesSink:
    """Writes events, and optionally dead letters, as JSON Lines."""

    def __init__(
        self,
        events: BinaryIO,
        dead_letters: BinaryIO | None = None,
        *,
        clock: Clock = wall_clock,
    ) -> None:
        self._events = events
        self._dead_letters = dead_letters
        self._clock = clock

    async def accept(self, outcome: Outcome) -> None:
        """Write the record's events, or its dead letter when one is kept."""
        for event in outcome.events:
            self._events.write(serialize(event) + b"\n")
        if outcome.rejection is not None and self._dead_letters is not None:
            letter = dead_letter(outcome, self._clock())
            self._dead_letters.write(serialize(letter) + b"\n")

    async def close(self) -> None:
        """Flush both files."""
        self._events.flush()
        if self._dead_letters is not None:
            self._dead_letters.flush()


class KafkaSink:
    """Appends events to the ledger topic and dead letters to the dead-letter topic."""

    def __init__(
        self,
        settings: LedgerSettings,
        *,
        batch_events: int = BATCH_EVENTS,
        clock: Clock = wall_clock,
    ) -> None:
        self.settings = settings
        self.bootstrap = settings.bootstrap_servers
        self._batch_events = batch_events
        self._clock = clock
        self._client = LedgerClient(settings, bootstrap=self.bootstrap)
        self._producer: AIOKafkaProducer | None = None
        self._events: list[AuthEvent] = []
        self._letters: list[Awaitable[object]] = []
        self.appended = 0
        self.dead_lettered = 0

    async def start(self) -> None:
        """Create the two topics if missing, then connect; BrokerError if no broker."""
        wanted = {self.settings.topic_events, self.settings.topic_dead_letters}
        specs = [spec for spec in ledger_topics(self.settings) if spec.name in wanted]
        await ensure_topics(
            self.bootstrap, specs, replication_factor=self.settings.replication_factor
        )
        await self._client.start()
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id="session-ledger-ingest",
            enable_idempotence=True,
            acks="all",
            linger_ms=self.settings.producer_linger_ms,
        )
        try:
            await producer.start()
        except (KafkaError, OSError) as error:
            await producer.stop()
            await self._client.stop()
            raise BrokerError(
                f"no Kafka broker answers at {self.bootstrap} ({error!r}); no dead "
                "letters can be written"
            ) from error
        self._producer = producer
        logger.info(
            "Ingesting into %s (dead letters: %s) at %s",
            self.settings.topic_events,
            self.settings.topic_dead_letters,
            self.bootstrap,
        )

    async def accept(self, outcome: Outcome) -> None:
        """Buffer the record's events; queue its dead letter."""
        self._events.extend(outcome.events)
        if len(self._events) >= self._batch_events:
            await self._flush_events()
        if outcome.rejection is not None:
            await self._send_dead_letter(outcome)

    async def close(self) -> None:
        """Append what is buffered, wait for every dead letter, disconnect."""
        try:
            await self._flush_events()
            await self._flush_dead_letters()
        finally:
            producer, self._producer = self._producer, None
            if producer is not None:
                await producer.stop()
            await self._client.stop()

    async def _flush_events(self) -> None:
        batch, self._events = self._events, []
        if batch:
            appended = await self._client.append_many(batch)
            self.appended += len(appended)

    async def _send_dead_letter(self, outcome: Outcome) -> None:
        if self._producer is None:
            raise BrokerError("the ingest sink is not started")
        letter = dead_letter(outcome, self._clock())
        try:
            delivery = await self._producer.send(
                self.settings.topic_dead_letters, serialize(letter)
            )
        except KafkaError as error:
            raise BrokerError(
                f"dead letter of {letter.source_topic} record {letter.offset} could "
                f"not be queued ({error!r}); ingest stops, re-run it: events are "
                "de-duplicated by event_id"
            ) from error
        self._letters.append(delivery)
        if len(self._letters) >= self._batch_events:
            await self._flush_dead_letters()

    async def _flush_dead_letters(self) -> None:
        pending, self._letters = self._letters, []
        results = await asyncio.gather(*pending, return_exceptions=True)
        failures = [result for result in results if isinstance(result, BaseException)]
        self.dead_lettered += len(results) - len(failures)
        if failures:
            raise BrokerError(
                f"{len(failures)} of {len(results)} dead letters were not "
                f"acknowledged by {self.settings.topic_dead_letters} "
                f"({failures[0]!r}); re-run the ingest"
            ) from failures[0]
