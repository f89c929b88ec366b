"""Agents live by their work and health: tasks, heartbeats, optional lifetime."""

from __future__ import annotations

from datetime import timedelta

from session_events import (
    access,
    agent_started,
    at,
    fold_all,
    heartbeat,
    task_completed,
)

from ledger.domain.lifecycle import due_expiry
from ledger.policy import Lifecycle, Policy
from schemas import (
    EndReason,
    ExpiryReason,
    SessionEnded,
    SessionStatus,
    ViolationKind,
)


def overnight_job(hours: float) -> list:
    start = agent_started("job", at(0), task="reindex", ttl=120)
    beats = [heartbeat("job", at(minutes)) for minutes in range(1, int(hours * 60) + 1)]
    return [start, *beats]


def test_agent_ten_hour_job_with_heartbeats_is_never_due() -> None:
    records = {}
    events = overnight_job(10)
    for minute, event in enumerate(events):
        records, _ = fold_all([event], records=records, first_offset=minute)
        assert due_expiry(records["job"], at(minute)) is None, minute


def test_agent_task_completion_ends_session_with_reason_completed() -> None:
    events = [
        *overnight_job(10),
        task_completed("job", at(hours=10, minutes=1), "reindex"),
    ]
    records, effects = fold_all(events)
    job = records["job"]

    assert job.status is SessionStatus.ENDED
    assert job.status_reason == "completed"
    assert job.ended_at == at(hours=10, minutes=1)
    [end] = effects
    assert isinstance(end, SessionEnded) and end.reason is EndReason.COMPLETED
    assert due_expiry(job, at(hours=20)) is None


def test_agent_other_task_completion_does_not_end_session() -> None:
    records, effects = fold_all(
        [agent_started("job", at(0), task="reindex"), task_completed("job", at(5), "x")]
    )

    assert records["job"].status is SessionStatus.ACTIVE
    assert effects == []


def test_agent_heartbeats_stopped_at_hour_3_is_due_with_reason_heartbeat() -> None:
    records, _ = fold_all(overnight_job(3))
    job = records["job"]

    assert due_expiry(job, at(hours=3, minutes=1)) is None
    expiry = due_expiry(job, at(hours=3, minutes=2))

    assert expiry is not None
    assert expiry.reason is ExpiryReason.HEARTBEAT
    assert expiry.deadline == at(hours=3, minutes=2)


def test_agent_without_heartbeat_ask_is_not_heartbeat_bound_by_default() -> None:
    records, _ = fold_all([agent_started("job", at(0)), access("job", at(1), "x")])

    assert due_expiry(records["job"], at(hours=72)) is None


def test_agent_policy_requiring_heartbeats_imposes_default_ttl() -> None:
    policy = Policy(
        agent={"lifecycle": Lifecycle(require_heartbeats=True), "refresh": {}}
    )
    records, _ = fold_all([agent_started("job", at(0))], policy)

    expiry = due_expiry(records["job"], at(2))

    assert expiry is not None and expiry.reason is ExpiryReason.HEARTBEAT


def test_agent_asked_ttl_is_cut_to_policy_maximum() -> None:
    records, _ = fold_all([agent_started("job", at(0), ttl=7 * 24 * 3600)])

    assert records["job"].heartbeat_deadline == at(hours=1)


def test_agent_max_lifetime_is_shorter_of_ask_and_policy() -> None:
    policy = Policy(
        agent={
            "lifecycle": Lifecycle(absolute_lifetime=timedelta(hours=24)),
            "refresh": {},
        }
    )
    records, _ = fold_all(
        [
            agent_started("short", at(0), lifetime=3600),
            agent_started("long", at(0), lifetime=48 * 3600),
        ],
        policy,
    )

    assert records["short"].absolute_deadline == at(hours=1)
    assert records["long"].absolute_deadline == at(hours=24)
    expiry = due_expiry(records["long"], at(hours=24))
    assert expiry is not None and expiry.reason is ExpiryReason.ABSOLUTE


def test_agent_late_heartbeat_does_not_move_deadline_back() -> None:
    records, _ = fold_all(
        [
            agent_started("job", at(0), ttl=120),
            heartbeat("job", at(1)),
            heartbeat("job", at(0.5), health="degraded"),
        ]
    )

    assert records["job"].heartbeat_deadline == at(3)
    assert records["job"].health == "healthy"


def test_agent_heartbeat_after_ttl_passed_is_violation_and_no_revival() -> None:
    records, _ = fold_all(
        [agent_started("job", at(0), ttl=120), heartbeat("job", at(3))]
    )
    job = records["job"]

    assert job.heartbeat_deadline == at(2)
    [violation] = job.violations
    assert violation.kind is ViolationKind.USE_AFTER_END
    expiry = due_expiry(job, at(3))
    assert expiry is not None and expiry.reason is ExpiryReason.HEARTBEAT
