"""The report model on a real chDB store holding the sample week: every figure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from report_samples import DEAD_LETTERS, HOSTILE_ID, HUMAN_RATE, at

from ledger.report.model import (
    AlertCount,
    AssessmentReport,
    BaselineEstimate,
    HourlyCount,
    RevocationCount,
    TimeoutCount,
    TrailCounts,
    build_report,
)
from projections.store import AuditStore


def test_report_as_of_is_the_newest_event(sample_report: AssessmentReport) -> None:
    assert sample_report.as_of == at(5, 23, 30)
    assert sample_report.dead_letters == DEAD_LETTERS
    assert sample_report.human_rate_per_minute == HUMAN_RATE
    assert sample_report.business_hours == "08:00-18:00 UTC, Monday to Friday"


def test_report_activity_counts_each_category(sample_report: AssessmentReport) -> None:
    activity = {a.category: a for a in sample_report.activity}

    assert sorted(activity) == ["agent", "hybrid", "user"]
    user, agent, hybrid = activity["user"], activity["agent"], activity["hybrid"]
    assert (user.events, user.failures, user.principals) == (8, 1, 3)
    assert (agent.events, agent.failures, agent.principals) == (144, 0, 4)
    assert (hybrid.events, hybrid.failures, hybrid.principals) == (5, 0, 1)
    assert (user.first_hour, user.last_hour) == (at(0, 9), at(2, 12))
    assert (agent.first_hour, agent.last_hour) == (at(0, 22), at(5, 23))


def test_report_off_hours_share_uses_business_hours(
    sample_report: AssessmentReport,
) -> None:
    activity = {a.category: a for a in sample_report.activity}

    # Bob's evening (19:55, 20:00, 21:00); the batch's night; Saturday's agent.
    assert activity["user"].off_hours_events == 3
    assert activity["user"].off_hours_share == pytest.approx(3 / 8)
    assert activity["agent"].off_hours_events == 9
    assert activity["agent"].off_hours_share == pytest.approx(9 / 144)
    assert activity["hybrid"].off_hours_events == 1
    assert [
        (a.principal_id, a.principal_kind, a.events, a.active_hours)
        for a in sample_report.off_hours_agents
    ] == [("svc-batch", "service_account", 6, 6), ("svc-night", "workload", 3, 3)]


def test_report_hourly_series_is_sorted_and_complete(
    sample_report: AssessmentReport,
) -> None:
    hourly = sample_report.hourly

    assert list(hourly) == sorted(hourly, key=lambda h: (h.hour, h.category))
    assert sum(h.events for h in hourly) == 157
    assert HourlyCount(at(1, 10), "agent", 132, 0) in hourly
    assert HourlyCount(at(0, 19), "user", 1, 1) in hourly
    assert len(hourly) == 23


def test_report_alerts_by_category_and_detector(
    sample_report: AssessmentReport,
) -> None:
    assert sample_report.alerts == (
        AlertCount("agent", "rate_limit", 2, "high", 1),
        AlertCount("hybrid", "delegation_drift", 1, "critical", 1),
        AlertCount("user", "unusual_hour", 1, "low", 1),
    )
    assert sample_report.total_alerts == 4
    assert sample_report.alerts_hourly == (
        HourlyCount(at(0, 10), "hybrid", 1, 0),
        HourlyCount(at(0, 20), "user", 1, 0),
        HourlyCount(at(1, 10), "agent", 2, 0),
    )


def test_report_baseline_counts_what_human_rules_would_flag(
    sample_report: AssessmentReport,
) -> None:
    # Agents: the batch at 22, 23, 01, 03, 05 and the night agent at 23 fall
    # outside 06-22; the crawler's 130 accesses in one minute beat 120/min.
    assert sample_report.baseline == (
        BaselineEstimate(
            category="agent",
            unusual_hour_principal_hours=6,
            unusual_hour_events=6,
            rate_principal_hours=1,
            rate_events=130,
            flagged_principal_hours=7,
            actual_alerts=2,
        ),
        BaselineEstimate(
            category="hybrid",
            unusual_hour_principal_hours=1,
            unusual_hour_events=1,
            rate_principal_hours=0,
            rate_events=0,
            flagged_principal_hours=1,
            actual_alerts=1,
        ),
    )


def test_report_timeouts_measure_lifetimes_against_eight_hours(
    sample_report: AssessmentReport,
) -> None:
    # Alice's 8 h exactly is not past the timeout; the failed login's id is no
    # session; the legacy account filed as a user is still active, but silent
    # since its start on Wednesday; the second copilot session ends at its
    # expiry's deadline, not two days later when the expiry was noticed.
    assert sample_report.timeouts == (
        TimeoutCount("agent", 4, 1, 1, timedelta(hours=11, minutes=30)),
        TimeoutCount("hybrid", 2, 1, 0, timedelta(hours=9, minutes=20)),
        TimeoutCount("user", 3, 0, 0, timedelta(hours=8)),
    )
    agents = {t.category: t for t in sample_report.timeouts}["agent"]
    assert agents.interrupted == 2
    assert [
        (s.session_id, s.status, s.started_at, s.lifetime)
        for s in sample_report.long_sessions
    ] == [
        ("a-night-1", "active", at(5, 12), timedelta(hours=11, minutes=30)),
        ("a-batch-1", "ended", at(0, 22), timedelta(hours=11)),
        ("h-copilot-2", "expired", at(0, 23, 10), timedelta(hours=9, minutes=20)),
    ]


def test_report_orphans_revocations_and_trails(
    sample_report: AssessmentReport,
) -> None:
    assert sample_report.orphans_cleaned == {"agent": 1, "hybrid": 1}
    assert sample_report.revocations == (
        RevocationCount("command", "hybrid", 1, 1),
        RevocationCount("policy", "agent", 1, 1),
    )
    assert sample_report.trails == TrailCounts(
        human=7, agent=144, hybrid=5, exceptions=1, total=157
    )


def test_report_incidents_caught_within_their_window(
    sample_report: AssessmentReport,
) -> None:
    assert sample_report.incidents is not None
    verdicts = {v.incident.id: v for v in sample_report.incidents}

    assert [v.incident.id for v in sample_report.incidents] == [
        "inc-001-rate-abuse",
        "inc-002-night-exfil",
        HOSTILE_ID,
        "inc-004-late",
    ]
    assert (
        verdicts["inc-001-rate-abuse"].alerts,
        verdicts["inc-001-rate-abuse"].detectors,
    ) == (
        2,
        ("rate_limit",),
    )
    assert not verdicts["inc-002-night-exfil"].caught
    # Quotes in the labels reach ClickHouse as data; the session still matches.
    assert verdicts[HOSTILE_ID].detectors == ("unusual_hour",)
    # The copilot's alert came 65 minutes after the incident: past the grace.
    assert not verdicts["inc-004-late"].caught


def test_report_without_labels_or_broker_says_so(sample_store: AuditStore) -> None:
    report = build_report(
        lambda sql: sample_store.query(sql),
        generated_at=at(7, 0),
        source="the sample store",
        dead_letters=None,
        human_rate_per_minute=1000.0,
    )

    assert report.incidents is None
    assert report.dead_letters is None
    # A higher rate limit flags no minute of the crawler.
    agents = {b.category: b for b in report.baseline}["agent"]
    assert (agents.rate_principal_hours, agents.flagged_principal_hours) == (0, 6)


def test_report_labels_without_incidents_list_are_refused(
    sample_store: AuditStore,
) -> None:
    with pytest.raises(ValueError, match="no 'incidents' list"):
        build_report(
            lambda sql: sample_store.query(sql),
            generated_at=at(7, 0),
            source="the sample store",
            dead_letters=0,
            human_rate_per_minute=HUMAN_RATE,
            labels={"format": "something else"},
        )
