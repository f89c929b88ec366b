"""Validity answers and refresh guidance."""

from __future__ import annotations

from datetime import timedelta

from session_events import agent_started, at, fold_all, heartbeat, user_started

from ledger.domain.validity import refresh_after, session_jitter, validity
from ledger.policy import Policy
from schemas import SessionStatus


def test_validity_unknown_session_is_inactive_without_status() -> None:
    answer = validity("nobody", None, at(0), Policy())

    assert not answer.active and answer.status is None


def test_validity_passed_deadline_is_inactive_before_expiry_is_folded() -> None:
    records, _ = fold_all([user_started("u1", at(0))])

    live = validity("u1", records["u1"], at(29), Policy())
    late = validity("u1", records["u1"], at(31), Policy())

    assert live.active and live.expires_at == at(30)
    assert not late.active and late.status is SessionStatus.ACTIVE
    assert "idle deadline passed" in (late.reason or "")


def test_refresh_after_agents_jittered_within_interval_and_stable() -> None:
    policy = Policy()
    starts = [agent_started(f"agent-{n}", at(0)) for n in range(200)]
    records, _ = fold_all(starts)

    offsets = [
        (refresh_after(record, policy) - at(0)).total_seconds()
        for record in records.values()
    ]

    assert all(240 < offset <= 300 for offset in offsets)
    assert len({round(offset) for offset in offsets}) > 40
    assert refresh_after(records["agent-7"], policy) == refresh_after(
        records["agent-7"], policy
    )
    assert session_jitter("agent-7") == session_jitter("agent-7")


def test_refresh_after_shorter_while_degraded() -> None:
    policy = Policy()
    healthy, _ = fold_all([agent_started("a1", at(0)), heartbeat("a1", at(1))])
    ill, _ = fold_all(
        [agent_started("a1", at(0)), heartbeat("a1", at(1), health="degraded")]
    )

    well = refresh_after(healthy["a1"], policy)
    unwell = refresh_after(ill["a1"], policy)

    assert unwell is not None and well is not None
    assert unwell - at(0) == (well - at(0)) / 2


def test_refresh_after_users_none_and_capped_by_lifetime() -> None:
    records, _ = fold_all(
        [user_started("u1", at(0)), agent_started("a1", at(0), lifetime=60)]
    )

    assert refresh_after(records["u1"], Policy()) is None
    assert refresh_after(records["a1"], Policy()) == at(0) + timedelta(seconds=60)
