"""Violations and idempotence: use after end, out of scope, replays change nothing."""

from __future__ import annotations

from session_events import (
    INVOICES,
    access,
    agent_started,
    at,
    ended,
    fold_all,
    heartbeat,
    refreshed,
)

from ledger.domain.derived import expired_at_deadline
from ledger.domain.fold import apply
from ledger.domain.records import VIOLATIONS_KEPT
from ledger.policy import Policy
from schemas import ExpiryReason, SessionStatus, ViolationKind


def test_access_outside_scopes_is_recorded_as_out_of_scope() -> None:
    records, _ = fold_all(
        [
            agent_started("a1", at(0), scopes=(INVOICES,)),
            access("a1", at(1), "s3://invoices/2025/a.pdf"),
            access("a1", at(2), "s3://hr/salaries.csv"),
            access("a1", at(3), "s3://invoices/2025/a.pdf", "delete"),
        ]
    )

    kinds = [v.kind for v in records["a1"].violations]
    assert kinds == [ViolationKind.OUT_OF_SCOPE, ViolationKind.OUT_OF_SCOPE]
    assert "s3://hr/salaries.csv" in (records["a1"].violations[0].detail or "")


def test_activity_after_end_is_use_after_end_and_keeps_status() -> None:
    records, _ = fold_all(
        [agent_started("a1", at(0)), ended("a1", at(5)), heartbeat("a1", at(6))]
    )

    assert records["a1"].status is SessionStatus.ENDED
    [violation] = records["a1"].violations
    assert violation.kind is ViolationKind.USE_AFTER_END


def test_lifecycle_event_on_ended_session_is_no_op() -> None:
    records, _ = fold_all([agent_started("a1", at(0), ttl=60), ended("a1", at(5))])
    over = records["a1"]
    late_expiry = expired_at_deadline(over, ExpiryReason.HEARTBEAT, at(1), at(6))

    after, effects = apply(over, late_expiry, Policy(), partition=0, offset=99)

    assert after is over and effects == ()


def test_violations_beyond_cap_are_counted_not_kept() -> None:
    events = [agent_started("a1", at(0)), ended("a1", at(1))]
    events += [heartbeat("a1", at(2 + n)) for n in range(VIOLATIONS_KEPT + 5)]

    records, _ = fold_all(events)

    assert len(records["a1"].violations) == VIOLATIONS_KEPT
    assert records["a1"].violation_count == VIOLATIONS_KEPT + 5


def test_event_at_or_below_applied_offset_changes_nothing() -> None:
    records, _ = fold_all([agent_started("a1", at(0)), refreshed("a1", at(1))])
    record = records["a1"]

    again, effects = apply(
        record, refreshed("a1", at(2)), Policy(), partition=0, offset=1
    )

    assert again is record and effects == ()
    assert record.refresh_count == 1
