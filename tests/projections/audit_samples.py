"""Events, alerts and notices as Kafka records, for the audit projection tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel

from projections.messages import KafkaRecord
from projections.rows import Position
from schemas import (
    AccessRecorded,
    AuthenticationFailed,
    HeartbeatReceived,
    SessionStarted,
    serialize,
)
from schemas.examples import examples, started

EVENTS_TOPIC = "auth.events"
BASE_TIME = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def record(
    message: BaseModel,
    partition: int = 0,
    offset: int = 0,
    topic: str = EVENTS_TOPIC,
    *,
    control: bool = False,
) -> KafkaRecord:
    """A record as the worker would consume it, keyed by the session id."""
    session_id = getattr(message, "session_id", None)
    return KafkaRecord(
        Position(topic, partition, offset, datetime.now(UTC)),
        session_id.encode() if session_id else None,
        serialize(message),
        control,
    )


def event_id(seed: str, number: int) -> Any:
    return uuid5(NAMESPACE_URL, f"urn:test:{seed}:{number}")


def varied_event(number: int, seed: str = "audit") -> BaseModel:
    """Event `number` of a mixed stream: agent accesses and heartbeats, human
    failures and starts, hybrid starts; 20 sessions, times spread over 30 hours.
    """
    bases = examples()
    kind = number % 5
    base = {
        0: bases[AccessRecorded],
        1: bases[HeartbeatReceived],
        2: bases[AuthenticationFailed],
        3: started("user"),
        4: started("hybrid"),
    }[kind]
    session = f"{base.category}-session-{number % 20}"
    changes: dict[str, Any] = {
        "event_id": event_id(seed, number),
        "session_id": session,
        "occurred_at": BASE_TIME + timedelta(minutes=(number * 7) % 1800),
    }
    if base.category == "hybrid":
        changes["parent_session_id"] = f"user-session-{number % 20}"
    return base.model_copy(update=changes)


def event_records(
    count: int, partitions: int = 3, seed: str = "audit"
) -> list[KafkaRecord]:
    """`count` varied events spread round-robin over partitions, offsets spaced by 2."""
    return [
        record(
            varied_event(n, seed),
            partition=n % partitions,
            offset=(n // partitions) * 2,
        )
        for n in range(count)
    ]


def session_start(category: str, **changes: Any) -> SessionStarted:
    """The example start of a category's session, with changes applied (validated)."""
    return SessionStarted.model_validate({**started(category).model_dump(), **changes})
