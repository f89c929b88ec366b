"""Human sessions keep human timeouts: idle 30 min, absolute 12 h."""

from __future__ import annotations

from session_events import access, at, fold_all, heartbeat, user_started

from ledger.domain.lifecycle import due_expiry, mark_expiry_pending
from schemas import ExpiryReason, ViolationKind


def test_user_idle_31_minutes_is_due_with_reason_idle() -> None:
    records, _ = fold_all([user_started("u1", at(0)), access("u1", at(5), "app:x")])
    user = records["u1"]

    assert due_expiry(user, at(34)) is None
    expiry = due_expiry(user, at(36))

    assert expiry is not None
    assert expiry.reason is ExpiryReason.IDLE
    assert expiry.deadline == at(35)
    assert expiry.occurred_at == at(36)


def test_user_active_13_hours_is_due_with_reason_absolute() -> None:
    events = [user_started("u1", at(0))]
    events += [access("u1", at(minutes), "app:x") for minutes in range(10, 780, 10)]
    records, _ = fold_all(events)

    expiry = due_expiry(records["u1"], at(hours=13))

    assert expiry is not None
    assert expiry.reason is ExpiryReason.ABSOLUTE
    assert expiry.deadline == at(hours=12)


def test_user_heartbeats_do_not_reset_idle_timeout() -> None:
    events = [user_started("u1", at(0))]
    events += [heartbeat("u1", at(minutes)) for minutes in range(1, 40)]
    records, _ = fold_all(events)

    expiry = due_expiry(records["u1"], at(40))

    assert expiry is not None and expiry.reason is ExpiryReason.IDLE


def test_user_expiry_decision_has_deterministic_id() -> None:
    records, _ = fold_all([user_started("u1", at(0))])

    first = due_expiry(records["u1"], at(31))
    again = due_expiry(records["u1"], at(45))

    assert first is not None and again is not None
    assert first.event_id == again.event_id


def test_user_activity_after_idle_deadline_is_violation_not_revival() -> None:
    records, _ = fold_all([user_started("u1", at(0)), access("u1", at(40), "app:x")])
    user = records["u1"]

    assert user.idle_deadline == at(30)
    assert [v.kind for v in user.violations] == [ViolationKind.USE_AFTER_END]
    assert "deadline" in (user.violations[0].detail or "")


def test_user_activity_while_expiry_pending_is_violation() -> None:
    records, _ = fold_all([user_started("u1", at(0))])
    expiry = due_expiry(records["u1"], at(31))
    assert expiry is not None
    pending = mark_expiry_pending(records["u1"], expiry)

    after, _ = fold_all(
        [access("u1", at(32), "app:x")], records={"u1": pending}, first_offset=10
    )

    assert after["u1"].violation_count == 1
    assert after["u1"].last_activity_at == at(0)
