"""Validation of raw records on the ledger topic, and their dead letters.

A record is refused, and dead-lettered, when its bytes are not a valid event, when
its key is not the event's session id, or when it sits on another partition than
murmur2(session id) picks. The last two would otherwise split a session's history
across partitions, where the fold and `table_route` could not find it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from aiokafka.partitioner import murmur2

from schemas import AuthEvent, DeadLetter, InvalidEvent, parse_event

logger = logging.getLogger(__name__)

DEAD_LETTER_MAX_ORIGINAL_BYTES = 512 * 1024
"""Most original bytes one dead letter keeps.

Base64 grows them by a third, and Kafka refuses messages over about 1 MB by default.
"""

REASON_MAX_CHARS = 1024
KEY_MAX_BYTES = 1024


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


@lru_cache(maxsize=65_536)
def session_partition(key: bytes, partitions: int) -> int:
    """The partition Java's and aiokafka's default partitioner pick for `key`."""
    # Pure-Python murmur2 costs ~15 µs; session ids repeat, so it is cached.
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def misplaced(
    event: AuthEvent, key: bytes | None, partition: int, partitions: int | None
) -> str | None:
    """Why a valid event sits under the wrong key or partition, else None."""
    expected_key = event.session_id.encode()
    if key != expected_key:
        shown = "no key" if key is None else f"key {key[:80]!r}"
        return (
            f"record has {shown}, not the session_id {event.session_id!r}; events "
            "are keyed by session id"
        )
    if partitions is not None:
        expected = session_partition(expected_key, partitions)
        if partition != expected:
            return (
                f"record is on partition {partition}, but murmur2 of session_id "
                f"{event.session_id!r} picks {expected} of {partitions}; producers "
                "must use the murmur2 partitioner (librdkafka: murmur2_random)"
            )
    return None


def dead_letter(
    original: bytes,
    reason: str,
    *,
    source_topic: str,
    received_at: datetime,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
    event_id: str | None = None,
    max_original_bytes: int = DEAD_LETTER_MAX_ORIGINAL_BYTES,
) -> DeadLetter:
    """A dead letter that always validates, whatever the input held.

    Reasons may quote the input (a hostile label key, say), so NUL characters are
    replaced and the reason is cut to the schema's limit. An original too large for
    the dead-letter topic keeps its first `max_original_bytes` and is marked
    truncated; a key keeps its first `KEY_MAX_BYTES` (no valid key is longer).
    """
    reason = reason.replace("\x00", "\\x00")
    if len(reason) > REASON_MAX_CHARS:
        reason = reason[: REASON_MAX_CHARS - 1] + "…"
    truncated = len(original) > max_original_bytes
    return DeadLetter(
        reason=reason,
        source_topic=source_topic,
        partition=partition,
        offset=offset,
        key=key[:KEY_MAX_BYTES] if key is not None else None,
        original=original[:max_original_bytes] if truncated else original,
        truncated=truncated,
        event_id=event_id,
        received_at=received_at,
    )


def validate_record(
    value: bytes | None,
    key: bytes | None,
    position: RecordPosition,
    *,
    max_bytes: int,
    max_future_skew: timedelta,
    partitions: int | None = None,
    max_original_bytes: int = DEAD_LETTER_MAX_ORIGINAL_BYTES,
) -> AuthEvent | DeadLetter:
    """The parsed event, or the dead letter that explains why it was refused.

    The future-skew check is made against the record's Kafka timestamp, not the
    wall clock, so that replaying the topic refuses exactly what was refused live.
    The partition check runs only when `partitions` (the topic's count) is given.
    """
    raw = value if value is not None else b""
    try:
        event = parse_event(
            raw,
            now=position.timestamp,
            max_future_skew=max_future_skew,
            max_bytes=max_bytes,
        )
    except InvalidEvent as rejected:
        reason, event_id = rejected.reason, rejected.event_id
    else:
        wrong_place = misplaced(event, key, position.partition, partitions)
        if wrong_place is None:
            return event
        reason, event_id = wrong_place, str(event.event_id)
    if value is None:
        reason = f"record has no value (a tombstone); {reason}"
    return dead_letter(
        raw,
        reason,
        source_topic=position.topic,
        received_at=datetime.now(UTC),
        partition=position.partition,
        offset=position.offset,
        key=key,
        event_id=event_id,
        max_original_bytes=max_original_bytes,
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
                "record at partition %s offset %s rejected: %s; sent to %s",
                letter.partition,
                letter.offset,
                letter.reason,
                self.topic,
            )
        else:
            self._suppressed += 1
