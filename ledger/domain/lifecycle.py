"""Which deadlines bind a session, and which one has passed.

- user: idle timeout after the last activity, absolute lifetime after the start.
- agent: bound to its work and health. Task-bound sessions end when their task
  completes (see `ledger.domain.fold`); heartbeat-bound ones expire once their
  TTL passes without a heartbeat; an optional max lifetime is the absolute
  deadline. No idle timeout unless the policy sets one, so a job that keeps
  beating lives through the night.
- hybrid: like an agent, and also ends with the user session it acts for.

A session asks for its own lifecycle at start (`LifecycleRequest`); the policy
can only tighten it: the shorter lifetime wins, a TTL is cut to the policy's
maximum, and a policy that requires heartbeats imposes its default TTL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.domain.derived import expired_at_deadline
from ledger.domain.records import SessionRecord
from ledger.policy import Lifecycle
from schemas import ExpiryReason, LifecycleRequest, SessionExpired


def heartbeat_ttl(asked: LifecycleRequest, rules: Lifecycle) -> float | None:
    """Seconds a session lives after a heartbeat, or None if not heartbeat-bound."""
    if asked.heartbeat_ttl_seconds is not None:
        return min(asked.heartbeat_ttl_seconds, rules.max_heartbeat_ttl.total_seconds())
    if rules.require_heartbeats:
        return rules.heartbeat_ttl.total_seconds()
    return None


def absolute_deadline(
    started_at: datetime, asked: LifecycleRequest, rules: Lifecycle
) -> datetime | None:
    """The end of the session's lifetime: the shorter of its ask and the policy."""
    lifetimes = [
        lifetime
        for lifetime in (
            rules.absolute_lifetime,
            None
            if asked.max_lifetime_seconds is None
            else timedelta(seconds=asked.max_lifetime_seconds),
        )
        if lifetime is not None
    ]
    return started_at + min(lifetimes) if lifetimes else None


def idle_deadline(last_activity_at: datetime, rules: Lifecycle) -> datetime | None:
    """When the session expires if nothing more happens in it."""
    if rules.idle_timeout is None:
        return None
    return last_activity_at + rules.idle_timeout


def heartbeat_deadline(
    last_heartbeat_at: datetime, ttl_seconds: float | None
) -> datetime | None:
    """When a heartbeat-bound session expires without another heartbeat."""
    if ttl_seconds is None:
        return None
    return last_heartbeat_at + timedelta(seconds=ttl_seconds)


def first_deadline(record: SessionRecord) -> tuple[datetime, ExpiryReason] | None:
    """The earliest deadline set on the session and its reason, or None.

    Ties go heartbeat, then idle, then absolute.
    """
    found: tuple[datetime, ExpiryReason] | None = None
    for deadline, reason in (
        (record.heartbeat_deadline, ExpiryReason.HEARTBEAT),
        (record.idle_deadline, ExpiryReason.IDLE),
        (record.absolute_deadline, ExpiryReason.ABSOLUTE),
    ):
        if deadline is not None and (found is None or deadline < found[0]):
            found = (deadline, reason)
    return found


def next_expiry(record: SessionRecord) -> tuple[datetime, ExpiryReason] | None:
    """The deadline the ledger still has to watch, or None.

    None for a session that is over, whose expiry is already pending, or that no
    deadline binds.
    """
    if not record.active or record.expiry_pending is not None:
        return None
    return first_deadline(record)


def due_expiry(record: SessionRecord, watermark: datetime) -> SessionExpired | None:
    """The expiry to append if a deadline has passed by `watermark`, else None.

    A deadline has passed once the watermark reaches it: a session is valid
    strictly before its deadline. The event is stamped with the watermark, the time
    the ledger noticed, and carries the deadline itself.
    """
    first = next_expiry(record)
    if first is None or first[0] > watermark:
        return None
    deadline, reason = first
    return expired_at_deadline(record, reason, deadline, watermark)


def mark_expiry_pending(record: SessionRecord, expiry: SessionExpired) -> SessionRecord:
    """The record once `expiry` has been appended and until it is folded back."""
    return record.model_copy(update={"expiry_pending": expiry.deadline})
