"""The agent that reads the ledger topic: validation, dead letters, session fold.

It is the one consumer of `auth.events` that sends refused records to the
dead-letter topic, so each refused record is dead-lettered once. Every valid event
is folded into the sessions table (`ledger.domain.fold.apply`) one at a time,
from `stream.events()`, and every record and tick moves its partition's
watermark. Whenever a watermark moves, sessions whose deadline it passed get a
`session.expired` appended; the expiry takes effect when that event comes back
through the fold, so replaying the topic gives the same table.

Derived events are produced with `send_soon`, never awaited one by one. With
`append_derived` off (a verification replay) nothing is appended, yet every table
write happens as it would live, so the tables still equal the live ones.

Known shortcomings:

- An expiry is marked pending in the table before its event is produced. Should
  the producer lose that event (it sends with acks=all, so only a broker failure
  would), the session stays active with its expiry pending: validity answers
  still say inactive once the deadline has passed, but no `session.expired` is
  ever appended for it.
- Every folded event costs one changelog write, the dominant cost per event
  (see benchmarks/bench_projection.py). Caching records and flushing them once
  per interval, with acks held back until the flush, would cut that, at the
  price of manual acks across rebalances.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from faust.types import EventT

from ledger.domain.fold import already_applied, apply
from ledger.domain.lifecycle import due_expiry, mark_expiry_pending, next_expiry
from ledger.policy import Policy, policy_from_settings
from ledger.worker.app import LedgerWorker, control_kind
from ledger.worker.clock import TICK, tick_time
from ledger.worker.sessions_table import SessionTables, session_tables
from ledger.worker.validation import (
    RecordPosition,
    RejectionLog,
    record_time,
    validate_record,
)
from schemas import AuthEvent, DeadLetter, Event, serialize

logger = logging.getLogger(__name__)


class SessionProjection:
    """Folds events and ticks of the ledger topic into the session tables."""

    def __init__(
        self, worker: LedgerWorker, tables: SessionTables, policy: Policy
    ) -> None:
        self.events = worker.events
        self.tables = tables
        self.policy = policy
        self.append_derived = worker.settings.append_derived
        self.max_future_skew = timedelta(
            seconds=worker.settings.max_future_skew_seconds
        )
        self.withheld = 0

    def fold(self, event: EventT, parsed: AuthEvent) -> None:
        """Fold one valid event, append what it decided, expire what is due."""
        message = event.message
        partition = message.partition
        key = message.key
        tables = self.tables
        tables.folded += 1
        record = tables.get(key)
        tables.events_in[parsed.category] += 1
        folded, effects = apply(
            record, parsed, self.policy, partition=partition, offset=message.offset
        )
        if folded is not None and folded is not record:
            tables.put(key, folded)
            for listener in tables.listeners:
                listener(record, folded, parsed)
        elif record is not None and already_applied(record, partition, message.offset):
            for replayed in tables.replay_listeners:
                replayed(record, parsed)
        for effect in effects:
            self.append(effect)
        # A producer's clock running ahead cannot pull expiries forward past the
        # record's own timestamp.
        stamped = record_time(message.timestamp)
        occurred = parsed.occurred_at
        self.expire_due(partition, occurred if occurred < stamped else stamped)

    def tick(self, event: EventT) -> None:
        """Advance the partition's watermark to a tick's time and expire what is
        due; never beyond the tick record's own timestamp plus the allowed skew."""
        message = event.message
        self.tables.folded += 1
        try:
            at = tick_time(event.value)
        except ValueError as error:
            logger.warning(
                "control record at partition %d offset %d ignored: %s",
                message.partition,
                message.offset,
                error,
            )
            return
        limit = record_time(message.timestamp) + self.max_future_skew
        self.expire_due(message.partition, at if at < limit else limit)
        self.tables.persist_watermark(message.partition)

    def expire_due(self, partition: int, at: datetime) -> None:
        """Advance the watermark to `at`; append an expiry for each session due."""
        tables = self.tables
        watermark = tables.advance(partition, at)
        # Checked even when the watermark stays: a late start can bring deadlines
        # that have passed already. Nothing due costs one comparison.
        index = tables.index(partition)
        for key in index.due(watermark):
            record = tables.get(key)
            expiry = None if record is None else due_expiry(record, watermark)
            if record is None or expiry is None:
                # The index was behind the table; watch what the table says.
                first = None if record is None else next_expiry(record)
                index.watch(key, first[0] if first else None)
                continue
            # Remember the expiry in the record, so a restart never decides it twice.
            tables.put(key, mark_expiry_pending(record, expiry))
            self.append(expiry)

    def append(self, event: Event) -> None:
        """Produce a derived event keyed by its session, without waiting for it."""
        if not self.append_derived:
            self.withheld += 1
            return
        self.events.send_soon(key=event.session_id.encode(), value=serialize(event))


def install(worker: LedgerWorker) -> None:
    """Install the ledger agent on the worker's app."""
    settings = worker.settings
    max_future_skew = timedelta(seconds=settings.max_future_skew_seconds)
    rejections = RejectionLog(settings.topic_dead_letters)
    projection = SessionProjection(
        worker, session_tables(worker), policy_from_settings(settings)
    )
    if not settings.append_derived:
        logger.info(
            "append_derived is off: this worker folds %s but appends nothing to it",
            settings.topic_events,
        )

    observers = worker.valid_event_observers

    @worker.app.agent(worker.events, name="ledger", concurrency=1)
    async def read_ledger(stream):
        async for event in stream.events():
            control = control_kind(event)
            if control is not None:
                if control == TICK:
                    projection.tick(event)
                continue
            message = event.message
            position = RecordPosition(
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                timestamp=record_time(message.timestamp),
            )
            outcome = validate_record(
                event.value,
                event.key,
                position,
                max_bytes=settings.max_event_bytes,
                max_future_skew=max_future_skew,
                partitions=settings.partitions,
                max_original_bytes=settings.dead_letter_max_original_bytes,
            )
            if isinstance(outcome, DeadLetter):
                await worker.dead_letters.send(value=serialize(outcome))
                rejections.rejected(outcome)
                continue
            for observe in observers:
                observe(event, outcome)
            projection.fold(event, outcome)
