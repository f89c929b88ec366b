"""The agent that reads the ledger topic: validation, dead letters, session fold.

It is the one consumer of `auth.events` that sends refused records to the
dead-letter topic, so each refused record is dead-lettered once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from faust.types import EventT

from ledger.worker.app import CONTROL_HEADER, LedgerWorker
from ledger.worker.validation import (
    RecordPosition,
    RejectionLog,
    record_time,
    validate_record,
)
from schemas import DeadLetter, serialize

logger = logging.getLogger(__name__)


def is_control(event: EventT) -> bool:
    """Whether a record is one of the ledger's own control messages."""
    headers = event.message.headers or ()
    items = headers.items() if isinstance(headers, dict) else headers
    return any(name == CONTROL_HEADER for name, _ in items)


def install(worker: LedgerWorker) -> None:
    """Install the ledger agent on the worker's app."""
    settings = worker.settings
    max_future_skew = timedelta(seconds=settings.max_future_skew_seconds)
    rejections = RejectionLog(settings.topic_dead_letters)

    @worker.app.agent(worker.events, name="ledger", concurrency=1)
    async def read_ledger(stream):
        async for event in stream.events():
            if is_control(event):
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
