"""Event streams for the monitor tests, built from `schemas.examples`.

Alice logs in from Berlin on weekdays at about 09:00 UTC; the document agent
reads invoices from eu-west-1 (AWS, ASN 16509); the copilot acts for Alice.
Every builder takes the event time and optional changes to the example.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from monitors.engine import MonitorEngine, Verdict
from schemas import (
    AccessRecorded,
    Alert,
    AuthenticationFailed,
    AuthEvent,
    FailureReason,
    HeartbeatReceived,
    SessionCategory,
    SessionStarted,
    Source,
    TokenRefreshed,
)
from schemas.examples import (
    ALICE,
    COPILOT,
    EXAMPLE_TIME,
    HYBRID_SESSION,
    USER_SESSION,
    example,
    started,
)

MONDAY = EXAMPLE_TIME.replace(hour=0)
"""Monday 3 March 2025, 00:00 UTC."""

BERLIN = Source(
    ip="203.0.113.9",
    country="DE",
    region="Berlin",
    asn=3320,
    user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0",
    device_id="dev-laptop-0042",
)
CLOUD = Source(ip="10.20.0.7", cloud_region="eu-west-1", asn=16509)


def login(
    at: datetime,
    session_id: str = USER_SESSION,
    source: Source = BERLIN,
    **changes: Any,
) -> SessionStarted:
    """Alice logs in."""
    base = started(SessionCategory.USER).model_dump()
    return SessionStarted.model_validate(
        {
            **base,
            "event_id": uuid4(),
            "occurred_at": at,
            "session_id": session_id,
            "source": source,
            **changes,
        }
    )


def user_event(model: type, at: datetime, **changes: Any) -> Any:
    """An event of Alice's session (access, failure...)."""
    envelope = {
        "event_id": uuid4(),
        "occurred_at": at,
        "session_id": USER_SESSION,
        "category": SessionCategory.USER,
        "principal": ALICE,
        "parent_session_id": None,
        "delegation": None,
        "source": BERLIN,
    }
    return example(model, **{**envelope, **changes})


def agent_started(at: datetime, **changes: Any) -> SessionStarted:
    """The document agent's session starts."""
    return example(
        SessionStarted,
        **{"event_id": uuid4(), "occurred_at": at, "source": CLOUD, **changes},
    )


def agent_event(model: type, at: datetime, **changes: Any) -> Any:
    """An event of the document agent's session."""
    return example(model, event_id=uuid4(), occurred_at=at, **changes)


def hybrid_started(at: datetime, **changes: Any) -> SessionStarted:
    """The copilot starts acting for Alice."""
    base = started(SessionCategory.HYBRID).model_dump()
    return SessionStarted.model_validate(
        {**base, "event_id": uuid4(), "occurred_at": at, **changes}
    )


def hybrid_event(model: type, at: datetime, **changes: Any) -> Any:
    """An event of the copilot's hybrid session."""
    envelope = {
        "event_id": uuid4(),
        "occurred_at": at,
        "session_id": HYBRID_SESSION,
        "category": SessionCategory.HYBRID,
        "principal": COPILOT,
        "parent_session_id": USER_SESSION,
        "source": CLOUD,
    }
    return example(model, **{**envelope, **changes})


def office_weeks(weeks: int, start: datetime = MONDAY) -> Iterator[AuthEvent]:
    """Alice's normal weeks: a 09:xx login and a few reads each weekday."""
    for day in range(7 * weeks):
        if day % 7 >= 5:
            continue
        morning = start + timedelta(days=day, hours=9, minutes=(day * 7) % 40)
        session = f"sess-user-day-{day}"
        yield login(morning, session_id=session)
        for step in range(1, 6):
            yield user_event(
                AccessRecorded,
                morning + timedelta(minutes=25 * step + (day * step) % 11),
                session_id=session,
                resource=f"s3://acme-invoices/2025/03/inv-{day:02d}{step}.pdf",
            )


def night_batches(
    nights: int, start: datetime = MONDAY, first: int = 0
) -> Iterator[AuthEvent]:
    """The agent's normal nights: a batch of reads between 01:00 and 04:00 UTC.

    Each night refreshes its token first and then every 50 minutes, reads 150 to
    250 invoices and heartbeats every minute. The session starts before the
    first night, unless `first` (the first night's number) is past 0.
    """
    if first == 0:
        yield agent_started(start)
    for night in range(first, first + nights):
        begin = start + timedelta(days=night, hours=1)
        reads = 150 + (night * 37) % 100
        for n in range(reads):
            at = begin + timedelta(seconds=30 + n * 3 * 3600 / reads)
            yield agent_event(
                AccessRecorded,
                at,
                resource=f"s3://acme-invoices/2025/03/inv-{night:02d}-{n:04d}.pdf",
            )
        for minute in range(0, 180, 1):
            yield agent_event(
                HeartbeatReceived, begin + timedelta(minutes=minute, seconds=30)
            )
        for minute in range(0, 180, 50):
            at = begin + timedelta(minutes=minute)
            yield agent_event(
                TokenRefreshed,
                at,
                token_id=f"sha256:{night:04d}{minute:04d}",
                expires_at=at + timedelta(minutes=60),
            )


def in_time_order(*streams: Iterator[AuthEvent]) -> list[AuthEvent]:
    """The events of several streams, merged by event time."""
    merged = [event for stream in streams for event in stream]
    return sorted(merged, key=lambda event: event.occurred_at)


def replay(engine: MonitorEngine, events: list[AuthEvent]) -> list[Verdict]:
    """Feed `events` to `engine`; return every verdict."""
    return [engine.observe(event) for event in events]


def alerts_of(verdicts: list[Verdict], detector: str | None = None) -> list[Alert]:
    """The published alerts, all or one detector's."""
    return [
        alert
        for verdict in verdicts
        for alert in verdict.alerts
        if detector is None or alert.detector == detector
    ]


def failed_logins(
    at: datetime,
    count: int,
    reason: FailureReason = FailureReason.BAD_CREDENTIALS,
    every: timedelta = timedelta(seconds=20),
    **changes: Any,
) -> list[AuthenticationFailed]:
    """`count` failed logins of Alice, `every` apart."""
    return [
        user_event(
            AuthenticationFailed,
            at + n * every,
            session_id=f"sess-user-failed-{n}",
            reason=reason,
            **changes,
        )
        for n in range(count)
    ]
