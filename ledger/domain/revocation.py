"""Revocation rules in plain Python: whom a command hits, and what follows from it.

- A command names its targets: one session (`revoke.session`), the active
  sessions a selector matches (`revoke.selector`, every criterion must match), or
  every active session of a category that started at or before the command's
  `issued_at` (`revoke.emergency`).
- Each revoked session gets one `session.revoked` with the id
  uuid5(command_id, session_id), so that a command applied twice, or a cascade
  reaching a session by two paths, appends the same event; the fold ignores a
  revocation of a session that is already over.
- A revocation cascades along the links recorded on the revoked session: each
  child and delegate gets a `session.revoked` with cause `cascade`, the same
  command, and the first revoked session as `cascade_root`, transitively.
  Without cascade (`revoke.session` with `cascade: false`, and every emergency
  revocation) only delegates follow, because a hybrid can never outlive the user
  session it acts for; plain children stay active.
- An emergency sets a not-before floor for its category: a session of the
  category that started at or before the floor is answered inactive
  (`revoked:emergency`) by validity checks at once, before its own revocation has
  been folded.
- When the fold applies a revocation, the session's notice is due; activity the
  fold records as use after revocation or expiry raises an alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic_core import to_json

from ledger.domain.derived import expired_with_parent
from ledger.domain.lifecycle import first_deadline
from ledger.domain.records import ChildLink, RevocationMark, SessionRecord
from schemas import (
    AccessRecorded,
    Alert,
    EmergencyRevoke,
    Event,
    Evidence,
    HeartbeatReceived,
    LinkKind,
    Principal,
    RevocationCause,
    RevocationNotice,
    RevokeBySelector,
    RevokeSession,
    SessionCategory,
    SessionExpired,
    SessionRevoked,
    SessionSelector,
    SessionStatus,
    Severity,
    TaskCompleted,
    TaskStarted,
    TokenIssued,
    TokenRefreshed,
    ViolationKind,
    serialize,
)

Command = RevokeSession | RevokeBySelector | EmergencyRevoke
Broadcast = RevokeBySelector | EmergencyRevoke

FLOOR_REASON = "revoked:emergency"
"""Validity reason of a session cut off by its category's emergency floor."""

USE_AFTER_REVOCATION = "use_after_revocation"
USE_AFTER_EXPIRY = "use_after_expiry"

ALERT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:session-ledger:revocation-alert")

_CAUSES: dict[type, RevocationCause] = {
    RevokeSession: RevocationCause.COMMAND,
    RevokeBySelector: RevocationCause.SELECTOR,
    EmergencyRevoke: RevocationCause.EMERGENCY,
}

# The events the fold counts as use of a session; lifecycle events never are.
_ACTIVITY = (
    AccessRecorded,
    HeartbeatReceived,
    TokenIssued,
    TokenRefreshed,
    TaskStarted,
    TaskCompleted,
)


class NoticeFormat(StrEnum):
    """How revocation notices are written to `session.revocations`."""

    LEDGER = "ledger"
    CAEP = "caep"
    BOTH = "both"


def revocation_id(command_id: UUID, session_id: str) -> UUID:
    """The id of the `session.revoked` a command appends for one session."""
    return uuid5(command_id, session_id)


def matches(selector: SessionSelector, record: SessionRecord) -> bool:
    """Whether every criterion the selector gives matches the session."""
    principal = record.principal
    if selector.category is not None and record.category is not selector.category:
        return False
    if selector.agent_type is not None and principal.agent_type != selector.agent_type:
        return False
    if selector.role is not None and selector.role not in principal.roles:
        return False
    if selector.principal_id is not None and principal.id != selector.principal_id:
        return False
    labels = record.labels
    if any(labels.get(key) != value for key, value in selector.labels.items()):
        return False
    started_before = selector.started_before
    return started_before is None or record.started_at < started_before


def under_floor(record: SessionRecord, floor: datetime | None) -> bool:
    """Whether an emergency floor cuts the session off: it started at or before."""
    return floor is not None and record.started_at <= floor


def selects(command: Broadcast, record: SessionRecord) -> bool:
    """Whether a broadcast command revokes the session."""
    if not record.active:
        return False
    if isinstance(command, EmergencyRevoke):
        return record.category is command.category and under_floor(
            record, command.issued_at
        )
    return matches(command.selector, record)


def cascades(command: Command) -> bool:
    """Whether the command's revocations also revoke the sessions below."""
    if isinstance(command, RevokeSession):
        return command.cascade
    # An emergency sweeps its category itself; its cascade would reach into
    # other categories (a user session under an agent) that it must not touch.
    return not isinstance(command, EmergencyRevoke)


def revoked_by_command(command: Command, record: SessionRecord) -> SessionRevoked:
    """The revocation `command` asks for, aimed at the session (its own root).

    Stamped at the command's `issued_at`, or at the session's start if that is
    later, so that the same command always yields the same event.
    """
    at = max(command.issued_at, record.started_at)
    return SessionRevoked(
        event_id=revocation_id(command.command_id, record.session_id),
        occurred_at=at,
        session_id=record.session_id,
        category=record.category,
        principal=record.principal,
        delegation=record.delegation,
        parent_session_id=record.parent_session_id,
        reason=command.reason,
        cause=_CAUSES[type(command)],
        requester=command.requester,
        command_id=command.command_id,
        cascade_root=record.session_id,
        cascade=cascades(command),
    )


def mark_of(event: SessionRevoked) -> RevocationMark:
    """What a revoked session keeps of the event that revoked it."""
    return RevocationMark(
        command_id=event.command_id,
        cause=event.cause,
        requester=event.requester,
        cascade_root=event.cascade_root,
        cascade=event.cascade,
    )


def follows(mark: RevocationMark, child: ChildLink) -> bool:
    """Whether a revocation reaches `child`: every child when it cascades, and
    delegates always."""
    return mark.cascade or child.link is LinkKind.DELEGATE


def revoked_with_parent(
    parent: SessionRecord, mark: RevocationMark, child: ChildLink, at: datetime
) -> SessionRevoked:
    """The cascade revocation of `child` because `parent` was revoked."""
    return SessionRevoked(
        event_id=revocation_id(mark.command_id, child.session_id),
        occurred_at=at,
        session_id=child.session_id,
        category=child.category,
        principal=Principal(id=child.principal_id, kind=child.principal_kind),
        parent_session_id=parent.session_id,
        reason=parent.status_reason or "",
        cause=RevocationCause.CASCADE,
        requester=mark.requester,
        command_id=mark.command_id,
        cascade_root=mark.cascade_root,
    )


def revoked_below(record: SessionRecord, at: datetime) -> tuple[SessionRevoked, ...]:
    """The revocations a revoked session's children and delegates follow it with."""
    mark = record.revocation
    if mark is None:
        return ()
    return tuple(
        revoked_with_parent(record, mark, child, at)
        for child in record.children
        if follows(mark, child)
    )


def below_closed_parent(
    parent: SessionRecord, child: ChildLink, at: datetime
) -> SessionRevoked | SessionExpired | None:
    """What a link reaching a parent already over appends for the child.

    The child of a revoked parent is revoked with it (None when the revocation
    did not cascade to plain children); of an ended or expired parent, expired.
    """
    mark = parent.revocation
    if parent.status is SessionStatus.REVOKED and mark is not None:
        if not follows(mark, child):
            return None
        return revoked_with_parent(parent, mark, child, at)
    return expired_with_parent(parent, child, at)


def notice_of(
    before: SessionRecord | None, after: SessionRecord
) -> RevocationNotice | None:
    """The notice due when a fold turned an active session into a revoked one."""
    if before is None or not before.active:
        return None
    return _notice(after)


def notice_of_replay(
    record: SessionRecord | None, event: Event
) -> RevocationNotice | None:
    """The notice again, when the event that revoked the session is read again.

    A worker that crashed after folding a revocation, but before the producer sent
    its notice, reads the event again on restart and the fold skips it as applied.
    Sending the notice from there closes that gap; the copy is identical, so
    receivers de-duplicate it by session and command (or the SET's `jti`). The
    caller calls this only for events at or below the record's applied offset.
    """
    if (
        record is None
        or not isinstance(event, SessionRevoked)
        or record.revocation is None
        or record.revocation.command_id != event.command_id
    ):
        return None
    return _notice(record)


def _notice(after: SessionRecord) -> RevocationNotice | None:
    mark = after.revocation
    if after.status is not SessionStatus.REVOKED or mark is None:
        return None
    return RevocationNotice(
        session_id=after.session_id,
        principal_id=after.principal.id,
        category=after.category,
        command_id=mark.command_id,
        cause=mark.cause,
        reason=after.status_reason or "",
        cascade_root=mark.cascade_root,
        revoked_at=after.ended_at or after.last_activity_at,
    )


def notice_bodies(
    notice: RevocationNotice,
    form: NoticeFormat,
    issuer: str,
    audience: str | None = None,
) -> list[tuple[NoticeFormat, bytes]]:
    """The records a notice is published as, each with the format it is in.

    `caep` is the OpenID CAEP "session-revoked" Security Event Token claims set
    as plain JSON, unsigned (no JWS).
    """
    bodies: list[tuple[NoticeFormat, bytes]] = []
    if form in (NoticeFormat.LEDGER, NoticeFormat.BOTH):
        bodies.append((NoticeFormat.LEDGER, serialize(notice)))
    if form in (NoticeFormat.CAEP, NoticeFormat.BOTH):
        caep = notice.as_caep_set(issuer, audience)
        bodies.append((NoticeFormat.CAEP, to_json(caep)))
    return bodies


def _deadline_in_force(record: SessionRecord) -> datetime | None:
    if record.expiry_pending is not None:
        return record.expiry_pending
    first = first_deadline(record)
    return None if first is None else first[0]


def misuse(before: SessionRecord | None, after: SessionRecord, event: Event) -> str:
    """The detector a fold's new violation belongs to, or "" when it is none of
    use after revocation or expiry (out of scope, use after a logout)."""
    if (
        before is None
        or not isinstance(event, _ACTIVITY)
        or after.violation_count == before.violation_count
    ):
        return ""
    if before.status is SessionStatus.REVOKED:
        return USE_AFTER_REVOCATION
    if before.status is SessionStatus.EXPIRED:
        return USE_AFTER_EXPIRY
    deadline = _deadline_in_force(before) if before.active else None
    if deadline is not None and event.occurred_at >= deadline:
        return USE_AFTER_EXPIRY
    return ""


def _activity(event: Event) -> str:
    if isinstance(event, AccessRecorded):
        return f"{event.operation} on {event.resource} ({event.outcome.value})"
    return event.type


def use_after_alert(
    before: SessionRecord | None, after: SessionRecord, event: Event
) -> Alert | None:
    """The alert for activity on a revoked or expired session, else None.

    One alert per session and detector: its id derives from both, so a replayed
    fold raises the same alert, and a session used on and on after it ended
    grows one alert instead of raising one per event. `count` is the session's
    misuses of that kind so far (violations past the kept ones are assumed to be
    of the same kind); the alert is published at the 1st, 2nd, 4th, 8th...
    misuse, so its version on the topic is at most half behind. Severity: high
    for agents and hybrids, medium for people.
    """
    detector = misuse(before, after, event)
    if not detector or before is None:
        return None
    kind = (
        ViolationKind.USE_AFTER_REVOCATION
        if detector == USE_AFTER_REVOCATION
        else ViolationKind.USE_AFTER_END
    )
    kept = [v for v in after.violations if v.kind is kind]
    count = max(1, len(kept) + after.violation_count - len(after.violations))
    if count & (count - 1):
        return None  # not a power of two: counted, published later
    session = after.session_id
    if detector == USE_AFTER_REVOCATION:
        mark = before.revocation
        how = (
            f"revoked ({mark.cause.value}, command {mark.command_id})"
            if mark
            else ("revoked")
        )
        when = before.ended_at
    else:
        how = (
            "expired" if before.status is SessionStatus.EXPIRED else "past its deadline"
        )
        when = before.ended_at or _deadline_in_force(before)
    since = f" at {when.isoformat()}" if when is not None else ""
    explanation = f"{_activity(event)} on session {session}, {how}{since}"
    evidence = [
        Evidence(feature="event_type", value=event.type),
        Evidence(
            feature="session_status",
            value=before.status.value,
            detail=before.status_reason,
        ),
    ]
    if detector == USE_AFTER_REVOCATION and before.revocation is not None:
        evidence.append(
            Evidence(feature="cascade_root", value=before.revocation.cascade_root)
        )
    return Alert(
        alert_id=uuid5(ALERT_NAMESPACE, f"{detector}\n{session}"),
        detector=detector,
        category=after.category,
        principal_id=after.principal.id,
        session_id=session,
        severity=Severity.MEDIUM
        if after.category is SessionCategory.USER
        else Severity.HIGH,
        score=1.0,
        explanation=explanation[:1000],
        evidence=tuple(evidence),
        first_seen=min(kept[0].at, event.occurred_at) if kept else event.occurred_at,
        last_seen=event.occurred_at,
        count=count,
    )


class ActiveSessions:
    """Keys of the active sessions of each partition, by category.

    The revocation engine scans one partition's sessions per broadcast command;
    this index spares it reading every record of the worker to find them.
    """

    def __init__(self) -> None:
        self._keys: dict[int, dict[SessionCategory, set[bytes]]] = {}

    def __len__(self) -> int:
        return sum(len(keys) for by in self._keys.values() for keys in by.values())

    def follow(
        self, key: bytes, before: SessionRecord | None, after: SessionRecord
    ) -> None:
        """Keep the index in step with one fold of the session keyed `key`."""
        was = before is not None and before.active
        if after.active and not was:
            self._bucket(after.partition, after.category).add(key)
        elif was and not after.active:
            self._bucket(after.partition, after.category).discard(key)

    def reset(self, entries: Iterable[tuple[bytes, SessionRecord]]) -> None:
        """Rebuild the index from stored records (after recovery)."""
        self._keys = {}
        for key, record in entries:
            if record.active:
                self._bucket(record.partition, record.category).add(key)

    def keys(
        self, partition: int, categories: Iterable[SessionCategory] | None = None
    ) -> list[bytes]:
        """The active sessions' keys on `partition`, sorted so that a command
        appends its revocations in the same order every time."""
        by = self._keys.get(partition, {})
        wanted = by.keys() if categories is None else categories
        found: list[bytes] = []
        for category in wanted:
            found.extend(by.get(category, ()))
        return sorted(found)

    def counts(self) -> dict[int, int]:
        """Active sessions by partition."""
        return {
            partition: sum(len(keys) for keys in by.values())
            for partition, by in sorted(self._keys.items())
        }

    def _bucket(self, partition: int, category: SessionCategory) -> set[bytes]:
        return self._keys.setdefault(partition, {}).setdefault(category, set())
