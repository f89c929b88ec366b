"""Answers for enforcement points: is a session valid now, and when to refresh.

Validity is judged at a time the caller passes in. A session the ledger holds
active whose deadline has passed by then is answered inactive at once, even while
its expiry event is still on its way through the ledger.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from ledger.domain.lifecycle import first_deadline
from ledger.domain.records import SessionRecord
from ledger.domain.revocation import FLOOR_REASON, under_floor
from ledger.policy import Policy
from schemas import Health, SessionView, ValidityAnswer

_UNWELL = frozenset({Health.DEGRADED, Health.UNHEALTHY})


def session_jitter(session_id: str) -> float:
    """A number in [0, 1) fixed by the session id, the same in every process."""
    digest = hashlib.blake2b(session_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def refresh_after(record: SessionRecord, policy: Policy) -> datetime | None:
    """When the session's holder should refresh its token, or None for no advice.

    The category's interval after the last token (or the start), shortened while
    the last heartbeat reported ill health, and made earlier by a per-session
    fraction so that a fleet started together does not refresh together. Never
    after the session's absolute deadline.
    """
    guidance = policy.for_category(record.category).refresh
    if guidance.interval is None or not record.active:
        return None
    seconds = guidance.interval.total_seconds()
    if record.health in _UNWELL:
        seconds *= guidance.degraded_factor
    seconds *= 1 - guidance.jitter_fraction * session_jitter(record.session_id)
    anchor = record.last_token_at or record.started_at
    at = anchor + timedelta(seconds=seconds)
    if record.absolute_deadline is not None and at > record.absolute_deadline:
        return record.absolute_deadline
    return at


def validity(
    session_id: str,
    record: SessionRecord | None,
    now: datetime,
    policy: Policy,
    floor: datetime | None = None,
) -> ValidityAnswer:
    """Whether the session may be used at `now`, with its grant and deadlines.

    `floor` is the emergency not-before time of the session's category: a session
    that started at or before it is inactive (`revoked:emergency`) even while its
    own revocation is still on its way through the ledger.
    """
    if record is None:
        return ValidityAnswer(
            session_id=session_id,
            active=False,
            reason="the ledger has never seen this session",
            checked_at=now,
        )
    first = first_deadline(record)
    expires_at = first[0] if first else None
    active = record.active
    reason = record.status_reason
    if active and first is not None and first[0] <= now:
        active = False
        reason = (
            f"{first[1].value} deadline passed at {first[0].isoformat()}; "
            "expiry pending"
        )
    if active and under_floor(record, floor):
        active, reason = False, FLOOR_REASON
    return ValidityAnswer(
        session_id=record.session_id,
        active=active,
        status=record.status,
        reason=reason,
        category=record.category,
        principal_id=record.principal.id,
        scopes=record.scopes,
        expires_at=expires_at if record.active else record.ended_at,
        refresh_after=refresh_after(record, policy) if active else None,
        checked_at=now,
    )


def session_view(record: SessionRecord) -> SessionView:
    """The public view of a record."""
    mark = record.revocation
    return SessionView(
        session_id=record.session_id,
        category=record.category,
        principal=record.principal,
        delegation=record.delegation,
        parent_session_id=record.parent_session_id,
        children=tuple(child.session_id for child in record.children),
        scopes=record.scopes,
        task_id=record.task_id,
        status=record.status,
        status_reason=record.status_reason,
        started_at=record.started_at,
        ended_at=record.ended_at,
        last_activity_at=record.last_activity_at,
        last_heartbeat_at=record.last_heartbeat_at,
        health=record.health,
        idle_deadline=record.idle_deadline,
        absolute_deadline=record.absolute_deadline,
        heartbeat_deadline=record.heartbeat_deadline,
        refresh_count=record.refresh_count,
        violations=record.violations,
        revocation_cause=mark.cause if mark else None,
        revocation_command_id=mark.command_id if mark else None,
        cascade_root=mark.cascade_root if mark else None,
    )
