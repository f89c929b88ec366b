"""Events of made-up sessions in simulated time, and folding them in order."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.domain.fold import apply
from ledger.domain.records import SessionRecord
from ledger.policy import Policy
from schemas import (
    AccessRecorded,
    Actor,
    Delegation,
    Event,
    HeartbeatReceived,
    LifecycleRequest,
    Principal,
    PrincipalKind,
    Scope,
    SessionCategory,
    SessionEnded,
    SessionStarted,
    TaskCompleted,
    TokenRefreshed,
)

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
ALICE = Principal(id="alice@example.com", kind=PrincipalKind.HUMAN)
BOT = Principal(id="svc-docs@acme", kind=PrincipalKind.AI_AGENT)
COPILOT = Principal(id="agent:copilot", kind=PrincipalKind.AI_AGENT)
INVOICES = Scope(resource="s3://invoices/*", operations=("read", "list"))


def at(minutes: float = 0, hours: float = 0) -> datetime:
    """Simulated time: minutes and hours after T0."""
    return T0 + timedelta(minutes=minutes, hours=hours)


def envelope(session: str, when: datetime, principal: Principal, **more: Any) -> dict:
    category = more.pop("category", None) or (
        SessionCategory.USER
        if principal.kind is PrincipalKind.HUMAN
        else SessionCategory.AGENT
    )
    return {
        "event_id": uuid.uuid4(),
        "occurred_at": when,
        "session_id": session,
        "category": category,
        "principal": principal,
        **more,
    }


def user_started(session: str, when: datetime, **more: Any) -> SessionStarted:
    return SessionStarted(**envelope(session, when, ALICE), **more)


def agent_started(
    session: str,
    when: datetime,
    *,
    task: str | None = None,
    ttl: float | None = None,
    lifetime: float | None = None,
    **more: Any,
) -> SessionStarted:
    lifecycle = LifecycleRequest(
        task_id=task, heartbeat_ttl_seconds=ttl, max_lifetime_seconds=lifetime
    )
    return SessionStarted(**envelope(session, when, BOT), lifecycle=lifecycle, **more)


def hybrid_started(
    session: str, user_session: str, when: datetime, **more: Any
) -> SessionStarted:
    delegation = Delegation(
        subject=ALICE.id,
        subject_session_id=user_session,
        actors=(Actor(id=COPILOT.id, kind=COPILOT.kind),),
    )
    return SessionStarted(
        **envelope(session, when, COPILOT, category=SessionCategory.HYBRID),
        delegation=delegation,
        **more,
    )


def heartbeat(session: str, when: datetime, **more: Any) -> HeartbeatReceived:
    return HeartbeatReceived(**envelope(session, when, BOT), **more)


def access(
    session: str, when: datetime, resource: str, operation: str = "read"
) -> AccessRecorded:
    return AccessRecorded(
        **envelope(session, when, BOT), resource=resource, operation=operation
    )


def refreshed(session: str, when: datetime) -> TokenRefreshed:
    return TokenRefreshed(
        **envelope(session, when, BOT), reason="proactive", token_id="sha256:ab12"
    )


def task_completed(session: str, when: datetime, task: str) -> TaskCompleted:
    return TaskCompleted(
        **envelope(session, when, BOT), task_id=task, outcome="succeeded"
    )


def ended(session: str, when: datetime, principal: Principal = ALICE) -> SessionEnded:
    return SessionEnded(**envelope(session, when, principal), reason="logout")


def fold_all(
    events: Iterable[Event],
    policy: Policy | None = None,
    records: dict[str, SessionRecord] | None = None,
    *,
    first_offset: int = 0,
    settle: bool = False,
) -> tuple[dict[str, SessionRecord], list[Event]]:
    """Fold events in order, one offset each; return the records and all effects.

    With `settle`, effects are folded too, after the events, as the ledger does
    when they come back through the topic.
    """
    policy = policy or Policy()
    records = {} if records is None else records
    queue = list(events)
    effects: list[Event] = []
    offset = first_offset
    while queue:
        event = queue.pop(0)
        record, produced = apply(
            records.get(event.session_id), event, policy, partition=0, offset=offset
        )
        offset += 1
        if record is not None:
            records[event.session_id] = record
        effects.extend(produced)
        if settle:
            queue.extend(produced)
    return records, effects
