"""The session fold: one event in, the session's next state and derived events out.

`apply(record, event, policy, partition=, offset=)` is a pure function. Folding the
ledger topic from its start gives the same records every time, and folding an
event at or below a record's last applied offset changes nothing.

Decisions:

- Task completion ends a task-bound session at once (status ended, reason
  completed), and the ledger also appends `session.ended(completed)` so that every
  consumer sees the end; that event comes back as a no-op.
- Lifecycle events (ended, expired, revoked) on a session that is already over
  change nothing, so a re-appended or replayed decision is harmless. Activity on
  a session that is over is recorded as a violation (use after end, or after
  revocation); only activity is, never the ledger's own lifecycle events.
- Activity at or after a deadline in force is use after expiry even while the
  expiry is still on its way back through the ledger: it is recorded as
  `use_after_end` and moves no deadline, so a late heartbeat or access cannot
  revive a session whose time has run out.
- A session that ends or expires expires each of its children and delegates
  with reason `parent`; one that is revoked revokes them (cause `cascade`, see
  `ledger.domain.revocation`). Those events are keyed by the child, so the
  cascade follows the links wherever the partitions are, transitively.
- A child or delegate's start appends `session.child_linked` keyed by the parent.
  A link that reaches a parent already over ends the child at once (revoked
  if the parent was revoked, otherwise expired). A
  delegate (hybrid) whose scopes exceed its user session's, or whose user session
  the ledger has never seen, is refused: revoked by policy with the violation
  `scope_beyond_subject`, as RFC 8693 refuses an exchange asking for more scope
  than the subject token has.
- Events of a session whose start the ledger has not seen are ignored, except
  that a link to an unknown parent is dropped with no cascade.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger.domain.derived import (
    child_linked,
    describe_scopes,
    ended_with_task,
    expired_with_parent,
    refused_delegate,
)
from ledger.domain.lifecycle import (
    absolute_deadline,
    first_deadline,
    heartbeat_deadline,
    heartbeat_ttl,
    idle_deadline,
)
from ledger.domain.records import VIOLATIONS_KEPT, ChildLink, SessionRecord
from ledger.domain.revocation import below_closed_parent, mark_of, revoked_below
from ledger.domain.scopes import allows, beyond
from ledger.policy import Policy
from schemas import (
    AccessRecorded,
    AuthenticationFailed,
    AuthEvent,
    ChildSessionLinked,
    Event,
    HeartbeatReceived,
    LinkKind,
    SessionEnded,
    SessionExpired,
    SessionRevoked,
    SessionStarted,
    SessionStatus,
    TaskCompleted,
    TaskStarted,
    TokenIssued,
    TokenRefreshed,
    Violation,
    ViolationKind,
)

Effects = tuple[Event, ...]
Folded = tuple[SessionRecord | None, Effects]

NO_EFFECTS: Effects = ()


def already_applied(record: SessionRecord | None, partition: int, offset: int) -> bool:
    """Whether the event read at (`partition`, `offset`) is folded into `record`
    already: read again after a restart or a rebalance."""
    return (
        record is not None
        and record.partition == partition
        and offset <= record.applied_offset
    )


def apply(
    record: SessionRecord | None,
    event: AuthEvent,
    policy: Policy,
    *,
    partition: int,
    offset: int,
) -> Folded:
    """Fold `event`, read at (`partition`, `offset`), into the session's record.

    Returns the new record (the same object when nothing changed, None while the
    session is unknown) and the events the ledger must append because of it.
    """
    if already_applied(record, partition, offset):
        return record, NO_EFFECTS
    folded, effects = _HANDLERS[type(event)](record, event, policy, partition)
    if folded is None or folded is record:
        return folded, effects
    return folded.model_copy(update={"applied_offset": offset}), effects


def _started(
    record: SessionRecord | None, event: SessionStarted, policy: Policy, partition: int
) -> Folded:
    if record is not None:
        # A repeated start changes nothing: the first one fixed identity and grant.
        return record, NO_EFFECTS
    rules = policy.for_category(event.category).lifecycle
    at = event.occurred_at
    ttl = heartbeat_ttl(event.lifecycle, rules)
    started = SessionRecord(
        session_id=event.session_id,
        partition=partition,
        applied_offset=-1,
        category=event.category,
        principal=event.principal,
        delegation=event.delegation,
        parent_session_id=event.parent_session_id,
        scopes=event.scopes,
        labels=event.labels,
        task_id=event.lifecycle.task_id,
        started_at=at,
        last_activity_at=at,
        heartbeat_ttl_seconds=ttl,
        idle_deadline=idle_deadline(at, rules),
        absolute_deadline=absolute_deadline(at, event.lifecycle, rules),
        # The start counts as the first heartbeat.
        heartbeat_deadline=heartbeat_deadline(at, ttl),
    )
    effects: list[Event] = []
    subject = event.delegation.subject_session_id if event.delegation else None
    if subject is not None:
        effects.append(child_linked(event, subject, LinkKind.DELEGATE))
    parent = event.parent_session_id
    if parent is not None and parent != subject:
        effects.append(child_linked(event, parent, LinkKind.CHILD))
    return started, tuple(effects)


def _violation_after_end(record: SessionRecord, event: Event, what: str) -> Violation:
    kind = (
        ViolationKind.USE_AFTER_REVOCATION
        if record.status is SessionStatus.REVOKED
        else ViolationKind.USE_AFTER_END
    )
    return Violation(
        kind=kind,
        at=event.occurred_at,
        detail=f"{what} after the session was {record.status.value}",
        event_id=event.event_id,
    )


def _violation_after_deadline(
    record: SessionRecord, event: Event, what: str
) -> Violation | None:
    """The violation of activity at or after the deadline in force, else None."""
    if record.expiry_pending is not None:
        deadline = record.expiry_pending
    else:
        first = first_deadline(record)
        if first is None:
            return None
        deadline = first[0]
    if event.occurred_at < deadline:
        return None
    return Violation(
        kind=ViolationKind.USE_AFTER_END,
        at=event.occurred_at,
        detail=f"{what} after the session's deadline {deadline.isoformat()}",
        event_id=event.event_id,
    )


def _used_when_over(record: SessionRecord, event: Event, what: str) -> Folded | None:
    """The fold of activity on a session that is over or past its deadline."""
    if record.active:
        violation = _violation_after_deadline(record, event, what)
    else:
        violation = _violation_after_end(record, event, what)
    if violation is None:
        return None
    return record.model_copy(update=_with_violation(record, violation)), NO_EFFECTS


def _with_violation(record: SessionRecord, violation: Violation) -> dict[str, Any]:
    update: dict[str, Any] = {"violation_count": record.violation_count + 1}
    if len(record.violations) < VIOLATIONS_KEPT:
        update["violations"] = (*record.violations, violation)
    return update


def _latest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def _touched(record: SessionRecord, at: datetime, policy: Policy) -> dict[str, Any]:
    """Fields that activity at `at` moves: last activity and the idle deadline."""
    last = _latest(record.last_activity_at, at)
    if last is record.last_activity_at:
        return {}
    rules = policy.for_category(record.category).lifecycle
    return {"last_activity_at": last, "idle_deadline": idle_deadline(last, rules)}


def _activity(
    record: SessionRecord | None,
    event: Event,
    policy: Policy,
    what: str,
    extra: Callable[[SessionRecord], dict[str, Any]] | None = None,
) -> Folded:
    if record is None:
        return None, NO_EFFECTS
    over = _used_when_over(record, event, what)
    if over is not None:
        return over
    update = _touched(record, event.occurred_at, policy)
    if extra is not None:
        update.update(extra(record))
    return record.model_copy(update=update), NO_EFFECTS


def _token_issued(
    record: SessionRecord | None, event: TokenIssued, policy: Policy, partition: int
) -> Folded:
    def token(current: SessionRecord) -> dict[str, Any]:
        return {"last_token_at": _latest(current.last_token_at, event.occurred_at)}

    return _activity(record, event, policy, "token issued", token)


def _token_refreshed(
    record: SessionRecord | None, event: TokenRefreshed, policy: Policy, partition: int
) -> Folded:
    def refreshed(current: SessionRecord) -> dict[str, Any]:
        return {
            "last_token_at": _latest(current.last_token_at, event.occurred_at),
            "refresh_count": current.refresh_count + 1,
        }

    return _activity(record, event, policy, "token refreshed", refreshed)


def _heartbeat(
    record: SessionRecord | None,
    event: HeartbeatReceived,
    policy: Policy,
    partition: int,
) -> Folded:
    if record is None:
        return None, NO_EFFECTS
    over = _used_when_over(record, event, "heartbeat")
    if over is not None:
        return over
    last = record.last_heartbeat_at
    if last is not None and event.occurred_at <= last:
        # A late heartbeat says nothing newer about health or liveness.
        return record, NO_EFFECTS
    # A heartbeat is health, not work: it does not reset the idle timeout.
    return record.model_copy(
        update={
            "last_heartbeat_at": event.occurred_at,
            "health": event.health,
            "heartbeat_deadline": heartbeat_deadline(
                event.occurred_at, record.heartbeat_ttl_seconds
            ),
        }
    ), NO_EFFECTS


def _access(
    record: SessionRecord | None, event: AccessRecorded, policy: Policy, partition: int
) -> Folded:
    def scoped(current: SessionRecord) -> dict[str, Any]:
        if not current.scopes or allows(
            current.scopes, event.resource, event.operation
        ):
            return {}
        violation = Violation(
            kind=ViolationKind.OUT_OF_SCOPE,
            at=event.occurred_at,
            detail=f"{event.operation} on {event.resource} ({event.outcome.value})",
            event_id=event.event_id,
        )
        return _with_violation(current, violation)

    return _activity(record, event, policy, f"access to {event.resource}", scoped)


def _task_started(
    record: SessionRecord | None, event: TaskStarted, policy: Policy, partition: int
) -> Folded:
    return _activity(record, event, policy, f"task {event.task_id} started")


def _task_completed(
    record: SessionRecord | None, event: TaskCompleted, policy: Policy, partition: int
) -> Folded:
    touched, _ = _activity(record, event, policy, f"task {event.task_id} completed")
    if touched is None or not touched.active or touched.task_id != event.task_id:
        return touched, NO_EFFECTS
    ended, cascade = _finish(
        touched, SessionStatus.ENDED, "completed", event.occurred_at
    )
    return ended, (ended_with_task(touched, event.task_id, event.occurred_at), *cascade)


def _finish(
    record: SessionRecord, status: SessionStatus, reason: str, at: datetime
) -> tuple[SessionRecord, Effects]:
    """The record over with `status`, and the expiry of each child."""
    finished = record.model_copy(
        update={
            "status": status,
            "status_reason": reason,
            "ended_at": at,
            "expiry_pending": None,
        }
    )
    cascade = tuple(expired_with_parent(record, child, at) for child in record.children)
    return finished, cascade


def _ended(
    record: SessionRecord | None, event: SessionEnded, policy: Policy, partition: int
) -> Folded:
    if record is None or not record.active:
        return record, NO_EFFECTS
    return _finish(record, SessionStatus.ENDED, event.reason.value, event.occurred_at)


def _expired(
    record: SessionRecord | None, event: SessionExpired, policy: Policy, partition: int
) -> Folded:
    if record is None or not record.active:
        return record, NO_EFFECTS
    return _finish(record, SessionStatus.EXPIRED, event.reason.value, event.occurred_at)


def _revoked(
    record: SessionRecord | None, event: SessionRevoked, policy: Policy, partition: int
) -> Folded:
    if record is None or not record.active:
        return record, NO_EFFECTS
    finished, _ = _finish(
        record, SessionStatus.REVOKED, event.reason, event.occurred_at
    )
    finished = finished.model_copy(update={"revocation": mark_of(event)})
    cascade = revoked_below(finished, event.occurred_at)
    if event.violation is not None:
        violation = Violation(
            kind=event.violation,
            at=event.occurred_at,
            detail=event.reason,
            event_id=event.event_id,
        )
        finished = finished.model_copy(update=_with_violation(finished, violation))
    return finished, cascade


def _linked(
    record: SessionRecord | None,
    event: ChildSessionLinked,
    policy: Policy,
    partition: int,
) -> Folded:
    delegate = event.link is LinkKind.DELEGATE
    if record is None:
        if delegate:
            reason = (
                f"acts for session {event.session_id}, which the ledger has never "
                "seen, so its scopes cannot be vouched for"
            )
            return None, (
                refused_delegate(
                    event.session_id,
                    event,
                    ViolationKind.SCOPE_BEYOND_SUBJECT,
                    reason,
                ),
            )
        return None, NO_EFFECTS
    if any(child.session_id == event.child_session_id for child in record.children):
        return record, NO_EFFECTS
    principal = event.child_principal or event.principal
    child = ChildLink(
        session_id=event.child_session_id,
        link=event.link,
        category=event.child_category,
        principal_id=principal.id,
        principal_kind=principal.kind,
    )
    linked = record.model_copy(update={"children": (*record.children, child)})
    if not record.active:
        # The parent is over already: the child cannot outlive it.
        over_at = record.ended_at or event.occurred_at
        follow = below_closed_parent(record, child, over_at)
        return linked, NO_EFFECTS if follow is None else (follow,)
    if delegate:
        excess = beyond(record.scopes, event.child_scopes)
        if excess:
            reason = (
                f"asked for scopes its user session {record.session_id} lacks: "
                f"{describe_scopes(excess)}"
            )[:1000]
            return linked, (
                refused_delegate(
                    record.session_id,
                    event,
                    ViolationKind.SCOPE_BEYOND_SUBJECT,
                    reason,
                ),
            )
    return linked, NO_EFFECTS


def _ignored(
    record: SessionRecord | None,
    event: AuthenticationFailed,
    policy: Policy,
    partition: int,
) -> Folded:
    # A failed login changes no session's state; detectors read it from the topic.
    return record, NO_EFFECTS


_HANDLERS: dict[type, Callable[..., Folded]] = {
    SessionStarted: _started,
    TokenIssued: _token_issued,
    TokenRefreshed: _token_refreshed,
    HeartbeatReceived: _heartbeat,
    AccessRecorded: _access,
    AuthenticationFailed: _ignored,
    TaskStarted: _task_started,
    TaskCompleted: _task_completed,
    SessionEnded: _ended,
    SessionExpired: _expired,
    SessionRevoked: _revoked,
    ChildSessionLinked: _linked,
}
