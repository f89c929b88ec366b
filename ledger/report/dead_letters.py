"""What the dead-letter topic holds: how many records, from where, and why.

The count is end offset minus earliest offset over the topic's partitions: the
records still held under its retention (30 days by default). The topic is neither
compacted nor transactional, so every offset in that range is one record. The
breakdown by source and reason reads the records themselves, up to a limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition
from pydantic import ValidationError

from ledger.errors import BrokerError
from ledger.kafka.admin import admin_client
from ledger.report.model import DeadLetterBreakdown
from schemas import DeadLetter

# Reading is what costs; past this many records the breakdown says it is partial.
BREAKDOWN_LIMIT = 100_000
GROUPS_SHOWN = 8
REASON_CHARS = 100

logger = logging.getLogger(__name__)


async def count_dead_letters(
    bootstrap: str, topic: str, timeout: float = 10.0
) -> int | None:
    """Records held in `topic`, or None when no broker answers or it is missing."""
    try:
        async with asyncio.timeout(timeout):
            held, _ = await _count(bootstrap, topic, timeout)
            return held
    except (BrokerError, KafkaError, OSError, TimeoutError) as error:
        _cannot(topic, bootstrap, error, "count")
        return None


async def break_down_dead_letters(
    bootstrap: str,
    topic: str,
    *,
    limit: int = BREAKDOWN_LIMIT,
    timeout: float = 120.0,
) -> DeadLetterBreakdown | None:
    """Read up to `limit` dead letters and group them by source and by reason.

    None when no broker answers or the topic is missing.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _break_down(bootstrap, topic, limit, timeout)
    except (BrokerError, KafkaError, OSError, TimeoutError) as error:
        _cannot(topic, bootstrap, error, "read")
        return None


def _cannot(topic: str, bootstrap: str, error: BaseException, verb: str) -> None:
    logger.warning(
        "cannot %s the dead letters in %s at %s (%s); the report says 'unknown'",
        verb,
        topic,
        bootstrap,
        error,
    )


async def _break_down(
    bootstrap: str, topic: str, limit: int, timeout: float
) -> DeadLetterBreakdown | None:
    held, offsets = await _count(bootstrap, topic, min(timeout, 10.0))
    if held is None:
        return None
    sources: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    read = 0
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        request_timeout_ms=int(min(timeout, 30.0) * 1000),
    )
    await consumer.start()
    try:
        remaining = {tp: end for tp, (start, end) in offsets.items() if end > start}
        if remaining:
            consumer.assign(list(remaining))
            for tp, (start, _) in offsets.items():
                if tp in remaining:
                    consumer.seek(tp, start)
        while remaining and read < limit:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= remaining.get(tp, 0) or read >= limit:
                        continue
                    read += 1
                    source, reason = _grouped(record.value)
                    sources[source] += 1
                    reasons[reason] += 1
                if records and records[-1].offset + 1 >= remaining.get(tp, 0):
                    remaining.pop(tp, None)
    finally:
        await consumer.stop()
    return DeadLetterBreakdown(
        read=read,
        held=held,
        by_source=_top(sources),
        by_reason=_top(reasons),
    )


def _grouped(value: bytes | None) -> tuple[str, str]:
    """(source, reason) of one dead letter, in words fit for a table."""
    try:
        letter = DeadLetter.model_validate_json(value or b"")
    except ValidationError:
        return "unknown", "not a dead-letter record (written by another program?)"
    source = letter.source_topic
    if source.startswith("file:"):
        # Files are named by absolute path; the name alone reads better.
        source = "file " + source.rsplit("/", 1)[-1]
    reason = " ".join(letter.reason.split())
    if len(reason) > REASON_CHARS:
        reason = reason[: REASON_CHARS - 1] + "…"
    return source, reason


def _top(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    ranked = counter.most_common()
    shown = ranked[:GROUPS_SHOWN]
    rest = sum(n for _, n in ranked[GROUPS_SHOWN:])
    if rest:
        shown.append((f"{len(ranked) - GROUPS_SHOWN} others", rest))
    return tuple(shown)


async def _count(
    bootstrap: str, topic: str, timeout: float
) -> tuple[int | None, dict[TopicPartition, tuple[int, int]]]:
    async with admin_client(bootstrap, timeout=timeout) as admin:
        # List first: describing a missing topic could auto-create it.
        if topic not in await admin.list_topics():
            logger.warning(
                "topic %s does not exist at %s (no worker has started there yet); "
                "the report says 'unknown' for dead letters",
                topic,
                bootstrap,
            )
            return None, {}
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
    offsets = {tp: (earliest[tp], ends[tp]) for tp in partitions}
    return sum(end - start for start, end in offsets.values()), offsets
