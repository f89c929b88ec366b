"""Validation of raw records on the ledger topic, and their dead letters."""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from schemas import AuthEvent, DeadLetter, InvalidEvent, parse_event

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordPosition:
    """Where a record sits in Kafka."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime


def record_time(timestamp_seconds: float | None) -> datetime:
    """A Kafka record timestamp as an aware UTC datetime (now when absent)."""
    if timestamp_seconds is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(timestamp_seconds, UTC)


def validate_record(
    value: bytes | None,
    key: bytes | None,
    position: RecordPosition,
    *,
    max_bytes: int,
    max_future_skew: timedelta,
) -> AuthEvent | DeadLetter:
    """The parsed event, or the dead letter that explains why it was refused.

    The future-skew check is made against the record's Kafka timestamp, not the
    wall clock, so that replaying the topic refuses exactly what was refused live.
    """
    raw = value if value is not None else b""
    try:
        return parse_event(
            raw,
            now=position.timestamp,
            max_future_skew=max_future_skew,
            max_bytes=max_bytes,
        )
    except InvalidEvent as rejected:
        return DeadLetter(
            reason=rejected.reason,
            source_topic=position.topic,
            partition=position.partition,
            offset=position.offset,
            key=base64.b64encode(key).decode() if key is not None else None,
            original=base64.b64encode(raw).decode(),
            received_at=datetime.now(UTC),
        )


class RejectionLog:
    """Logs rejected records at WARNING without flooding the log under attack."""

    def __init__(self, topic: str, per_minute: int = 20) -> None:
        self.topic = topic
        self.per_minute = per_minute
        self._window_start = time.monotonic()
        self._logged = 0
        self._suppressed = 0

    def rejected(self, letter: DeadLetter) -> None:
        """Record one rejection, logging it while under the per-minute budget."""
        now = time.monotonic()
        if now - self._window_start >= 60:
            if self._suppressed:
                logger.warning(
                    "%d more records rejected in the last minute; all are in %s",
                    self._suppressed,
                    self.topic,
                )
            self._window_start, self._logged, self._suppressed = now, 0, 0
        if self._logged < self.per_minute:
            self._logged += 1
            logger.warning(
                "record at partition %d offset %d rejected: %s; sent to %s",
                letter.partition,
                letter.offset,
                letter.reason,
                self.topic,
            )
        else:
            self._suppressed += 1
