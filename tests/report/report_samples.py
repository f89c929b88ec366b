"""A small, fully known week for the report tests, as Kafka records and labels.

Monday 3 March 2025 to Saturday 8 March, UTC. Every figure the report shows is
worked out by hand below and asserted in test_report_model.py.

| session | category | principal (kind) | events | times |
|---|---|---|---|---|
| u-alice-1 | user | alice (human) | 4 | Mon 09:00 start, 09:30, 10:15, 17:00 end |
| u-bob-failed | user | bob (human) | 1 | Mon 19:55 authentication.failed |
| u-bob-1 | user | bob (human) | 2 | Mon 20:00 start, 21:00 end |
| u-legacy-1 | user | svc-legacy (service account) | 1 | Wed 12:00 start |
| a-batch-1 | agent | svc-batch | 7 | Mon 22:00 start, 5 beats 23-07, Tue 09:00 end |
| a-crawl-1 | agent | svc-crawler | 132 | Tue 10:00, 130 reads at 10:01, 10:30 expiry |
| a-rogue-1 | agent | svc-rogue | 2 | Wed 14:00 start, 14:05 revoked (policy) |
| a-night-1 | agent | svc-night | 3 | Sat 12:00 start, beats 13:00, 23:30 (newest) |
| h-copilot-1 | hybrid | copilot | 3 | Mon 10:00 start, 10:05, 11:00 revoked (command) |
| h-copilot-2 | hybrid | copilot | 2 | Mon 23:10 start, Tue 08:30 heartbeat expiry |
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel

from projections.messages import KafkaRecord
from projections.rows import Position
from schemas import (
    AccessRecorded,
    Actor,
    Alert,
    AuthenticationFailed,
    Delegation,
    EndReason,
    ExpiryReason,
    FailureReason,
    HeartbeatReceived,
    Principal,
    PrincipalKind,
    RevocationCause,
    RevocationNotice,
    SessionEnded,
    SessionExpired,
    SessionRevoked,
    SessionStarted,
    Severity,
    serialize,
)

MONDAY = datetime(2025, 3, 3, tzinfo=UTC)
GENERATED_AT = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
DEAD_LETTERS = 3
HUMAN_RATE = 120.0

ALICE = Principal(id="alice@example.com", kind=PrincipalKind.HUMAN)
BOB = Principal(id="bob@example.com", kind=PrincipalKind.HUMAN)
LEGACY = Principal(id="svc-legacy", kind=PrincipalKind.SERVICE_ACCOUNT)
BATCH = Principal(id="svc-batch", kind=PrincipalKind.SERVICE_ACCOUNT)
CRAWLER = Principal(id="svc-crawler", kind=PrincipalKind.AI_AGENT)
ROGUE = Principal(id="svc-rogue", kind=PrincipalKind.AI_AGENT)
NIGHT = Principal(id="svc-night", kind=PrincipalKind.WORKLOAD)
COPILOT = Principal(id="agent:copilot-42", kind=PrincipalKind.AI_AGENT)

REVOKE_COMMAND = uuid5(NAMESPACE_URL, "urn:test:report:revoke-command")
REVOKE_POLICY = uuid5(NAMESPACE_URL, "urn:test:report:revoke-policy")


def at(day: int, hour: int, minute: int = 0, second: float = 0) -> datetime:
    """Day 0 is Monday 3 March 2025."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


class _Events:
    def __init__(self) -> None:
        self.events: list[BaseModel] = []

    def add(
        self,
        model: type[BaseModel],
        session: str,
        category: str,
        principal: Principal,
        when: datetime,
        **fields: Any,
    ) -> None:
        number = len(self.events)
        if category == "hybrid":
            fields.setdefault(
                "delegation",
                Delegation(
                    subject=ALICE.id,
                    subject_session_id="u-alice-1",
                    actors=(Actor(id=COPILOT.id, kind=PrincipalKind.AI_AGENT),),
                ),
            )
        self.events.append(
            model(
                event_id=uuid5(NAMESPACE_URL, f"urn:test:report:event:{number}"),
                occurred_at=when,
                session_id=session,
                category=category,
                principal=principal,
                **fields,
            )
        )


def sample_events() -> list[BaseModel]:
    """Every event of the table above."""
    log = _Events()
    add = log.add

    add(SessionStarted, "u-alice-1", "user", ALICE, at(0, 9))
    for minute_of_day in (9 * 60 + 30, 10 * 60 + 15):
        add(
            AccessRecorded,
            "u-alice-1",
            "user",
            ALICE,
            at(0, 0, minute_of_day),
            resource="app:ledger/reports",
            operation="read",
        )
    add(SessionEnded, "u-alice-1", "user", ALICE, at(0, 17), reason=EndReason.LOGOUT)

    add(
        AuthenticationFailed,
        "u-bob-failed",
        "user",
        BOB,
        at(0, 19, 55),
        reason=FailureReason.BAD_CREDENTIALS,
    )
    add(SessionStarted, "u-bob-1", "user", BOB, at(0, 20))
    add(SessionEnded, "u-bob-1", "user", BOB, at(0, 21), reason=EndReason.LOGOUT)
    add(SessionStarted, "u-legacy-1", "user", LEGACY, at(2, 12))

    add(SessionStarted, "a-batch-1", "agent", BATCH, at(0, 22))
    for hour in (23, 25, 27, 29, 31):
        add(HeartbeatReceived, "a-batch-1", "agent", BATCH, at(0, hour))
    add(SessionEnded, "a-batch-1", "agent", BATCH, at(1, 9), reason=EndReason.COMPLETED)

    add(SessionStarted, "a-crawl-1", "agent", CRAWLER, at(1, 10))
    for number in range(130):
        add(
            AccessRecorded,
            "a-crawl-1",
            "agent",
            CRAWLER,
            at(1, 10, 1, number * 0.4),
            resource=f"https://intranet.example/page/{number}",
            operation="read",
        )
    add(
        SessionExpired,
        "a-crawl-1",
        "agent",
        CRAWLER,
        at(1, 10, 30),
        reason=ExpiryReason.HEARTBEAT,
        deadline=at(1, 10, 30),
    )

    add(SessionStarted, "a-rogue-1", "agent", ROGUE, at(2, 14))
    add(
        SessionRevoked,
        "a-rogue-1",
        "agent",
        ROGUE,
        at(2, 14, 5),
        reason="scope violation",
        cause=RevocationCause.POLICY,
        requester="policy",
        command_id=REVOKE_POLICY,
        cascade_root="a-rogue-1",
    )

    add(SessionStarted, "a-night-1", "agent", NIGHT, at(5, 12))
    add(HeartbeatReceived, "a-night-1", "agent", NIGHT, at(5, 13))
    add(HeartbeatReceived, "a-night-1", "agent", NIGHT, at(5, 23, 30))

    add(
        SessionStarted,
        "h-copilot-1",
        "hybrid",
        COPILOT,
        at(0, 10),
        parent_session_id="u-alice-1",
    )
    add(
        AccessRecorded,
        "h-copilot-1",
        "hybrid",
        COPILOT,
        at(0, 10, 5),
        resource="app:ledger/reports",
        operation="read",
    )
    add(
        SessionRevoked,
        "h-copilot-1",
        "hybrid",
        COPILOT,
        at(0, 11),
        reason="requested by secops",
        cause=RevocationCause.COMMAND,
        requester="secops@example.com",
        command_id=REVOKE_COMMAND,
        cascade_root="h-copilot-1",
    )
    add(
        SessionStarted,
        "h-copilot-2",
        "hybrid",
        COPILOT,
        at(0, 23, 10),
        parent_session_id="u-alice-1",
    )
    add(
        SessionExpired,
        "h-copilot-2",
        "hybrid",
        COPILOT,
        # Noticed two days after its deadline, as a worker reading a backlog
        # would: the lifetime ends at the deadline all the same.
        at(3, 8, 30),
        reason=ExpiryReason.HEARTBEAT,
        deadline=at(1, 8, 30),
    )
    return log.events


def _alert(
    number: int,
    detector: str,
    category: str,
    principal: Principal,
    session: str,
    severity: Severity,
    first: datetime,
    last: datetime,
) -> Alert:
    return Alert(
        alert_id=uuid5(NAMESPACE_URL, f"urn:test:report:alert:{number}"),
        detector=detector,
        category=category,
        principal_id=principal.id,
        session_id=session,
        severity=severity,
        score=1.0,
        explanation=f"test alert {number}",
        first_seen=first,
        last_seen=last,
    )


def sample_alerts() -> list[Alert]:
    """Two rate alerts on the crawler, one unusual hour for Bob, one on the copilot."""
    return [
        _alert(
            1,
            "rate_limit",
            "agent",
            CRAWLER,
            "a-crawl-1",
            Severity.HIGH,
            at(1, 10, 1),
            at(1, 10, 2),
        ),
        _alert(
            2,
            "rate_limit",
            "agent",
            CRAWLER,
            "a-crawl-1",
            Severity.MEDIUM,
            at(1, 10, 20),
            at(1, 10, 25),
        ),
        _alert(
            3,
            "unusual_hour",
            "user",
            BOB,
            "u-bob-1",
            Severity.LOW,
            at(0, 20),
            at(0, 20),
        ),
        _alert(
            4,
            "delegation_drift",
            "hybrid",
            COPILOT,
            "h-copilot-1",
            Severity.CRITICAL,
            at(0, 10, 5),
            at(0, 10, 5),
        ),
    ]


def sample_notices() -> list[RevocationNotice]:
    """The notices of the two revocations in the events."""
    return [
        RevocationNotice(
            session_id="h-copilot-1",
            principal_id=COPILOT.id,
            category="hybrid",
            command_id=REVOKE_COMMAND,
            cause=RevocationCause.COMMAND,
            reason="requested by secops",
            cascade_root="h-copilot-1",
            revoked_at=at(0, 11),
        ),
        RevocationNotice(
            session_id="a-rogue-1",
            principal_id=ROGUE.id,
            category="agent",
            command_id=REVOKE_POLICY,
            cause=RevocationCause.POLICY,
            reason="scope violation",
            cascade_root="a-rogue-1",
            revoked_at=at(2, 14, 5),
        ),
    ]


HOSTILE_ID = 'inc-003"><script>alert(1)</script>'
HOSTILE_PRINCIPAL = "bob@example.com'; DROP TABLE alerts; --"
HOSTILE_DESCRIPTION = "<img src=x onerror=alert(1)> see https://evil.example/a.js"


def sample_labels() -> dict[str, Any]:
    """Four incidents: caught by rate alerts, missed, hostile but caught, too late."""

    def window(start: datetime, end: datetime) -> dict[str, str]:
        return {"start": start.isoformat(), "end": end.isoformat()}

    return {
        "format": "session-ledger/simulation-labels/1",
        "incidents": [
            {
                "id": "inc-001-rate-abuse",
                "kind": "rate_abuse",
                **window(at(1, 10), at(1, 10, 5)),
                "principals": [CRAWLER.id],
                "sessions": ["a-crawl-1"],
                "description": "a crawler hammers the intranet",
            },
            {
                "id": "inc-002-night-exfil",
                "kind": "night_exfil",
                **window(at(5, 12), at(5, 13)),
                "principals": [NIGHT.id],
                "sessions": ["a-night-1"],
                "description": "nobody noticed",
            },
            {
                "id": HOSTILE_ID,
                "kind": "x' OR '1'='1",
                **window(at(0, 19), at(0, 20, 30)),
                "principals": [HOSTILE_PRINCIPAL],
                "sessions": ["u-bob-1"],
                "description": HOSTILE_DESCRIPTION,
            },
            {
                "id": "inc-004-late",
                "kind": "delegation_abuse",
                **window(at(0, 8), at(0, 9)),
                "principals": [COPILOT.id],
                "sessions": [],
                "description": "alerted 65 minutes after the end: too late",
            },
        ],
    }


def records(messages: list[BaseModel], topic: str) -> list[KafkaRecord]:
    """Messages as consumed records on partition 0, offsets 0, 1, 2, ..."""
    now = datetime.now(UTC)
    return [
        KafkaRecord(
            Position(topic, 0, offset, now),
            getattr(message, "session_id", "").encode() or None,
            serialize(message),
        )
        for offset, message in enumerate(messages)
    ]
