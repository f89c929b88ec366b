"""Detectors for hybrids: never outlive, never out-scope the user acted for."""

from __future__ import annotations

from datetime import timedelta

from monitor_streams import MONDAY, hybrid_event, hybrid_started, login, user_event

from monitors.engine import MonitorEngine
from schemas import (
    AccessRecorded,
    EndReason,
    ExpiryReason,
    Scope,
    SessionEnded,
    SessionExpired,
    Severity,
)

MORNING = MONDAY + timedelta(hours=9)


def acting_for_alice() -> MonitorEngine:
    """Alice is logged in and her copilot acts for her."""
    engine = MonitorEngine()
    engine.observe(login(MORNING))
    engine.observe(hybrid_started(MORNING + timedelta(minutes=1)))
    return engine


def logout(at) -> SessionEnded:
    return user_event(SessionEnded, at, reason=EndReason.LOGOUT)


def test_subject_gone_copilot_acts_after_alices_logout_fires_high() -> None:
    engine = acting_for_alice()
    engine.observe(logout(MORNING + timedelta(hours=1)))
    verdict = engine.observe(
        hybrid_event(AccessRecorded, MORNING + timedelta(hours=1, minutes=5))
    )
    [alert] = verdict.alerts
    assert (alert.detector, alert.severity) == ("hybrid_subject_gone", Severity.HIGH)
    assert "alice@example.com" in alert.explanation
    assert [command.session_id for command in verdict.revocations] == [
        "sess-hybrid-91c0"
    ]


def test_subject_gone_requests_in_flight_at_logout_are_silent() -> None:
    engine = acting_for_alice()
    engine.observe(logout(MORNING + timedelta(hours=1)))
    verdict = engine.observe(
        hybrid_event(AccessRecorded, MORNING + timedelta(hours=1, seconds=10))
    )
    assert verdict.alerts == ()


def test_subject_gone_while_alice_is_logged_in_is_silent() -> None:
    engine = acting_for_alice()
    verdict = engine.observe(hybrid_event(AccessRecorded, MORNING + timedelta(hours=2)))
    assert verdict.alerts == ()


def test_subject_gone_known_only_from_the_ledgers_parent_expiry_fires() -> None:
    # The user's session was never seen by the monitors (another partition's
    # history, say); the ledger's expiry of the delegate still tells them.
    engine = MonitorEngine()
    engine.observe(hybrid_started(MORNING))
    engine.observe(
        hybrid_event(
            SessionExpired,
            MORNING + timedelta(hours=1),
            reason=ExpiryReason.PARENT,
            deadline=MORNING + timedelta(hours=1),
        )
    )
    verdict = engine.observe(hybrid_event(AccessRecorded, MORNING + timedelta(hours=2)))
    assert "hybrid_subject_gone" in [alert.detector for alert in verdict.alerts]


def test_scope_beyond_subject_access_outside_alices_grant_fires_high() -> None:
    engine = acting_for_alice()
    verdict = engine.observe(
        hybrid_event(
            AccessRecorded,
            MORNING + timedelta(minutes=5),
            resource="s3://acme-hr/salaries.csv",
        )
    )
    assert ("hybrid_scope_beyond_subject", Severity.HIGH) in [
        (alert.detector, alert.severity) for alert in verdict.alerts
    ]


def test_scope_beyond_subject_start_asking_for_more_than_alice_fires() -> None:
    engine = MonitorEngine()
    engine.observe(login(MORNING))
    verdict = engine.observe(
        hybrid_started(
            MORNING + timedelta(minutes=1),
            scopes=(Scope(resource="s3://acme-hr/*", operations=("read",)),),
        )
    )
    [alert] = verdict.alerts
    assert alert.detector == "hybrid_scope_beyond_subject"
    assert "s3://acme-hr/*" in alert.explanation


def test_scope_beyond_subject_access_within_alices_grant_is_silent() -> None:
    engine = acting_for_alice()
    verdict = engine.observe(
        hybrid_event(
            AccessRecorded,
            MORNING + timedelta(minutes=5),
            resource="s3://acme-invoices/2025/03/inv-7.pdf",
        )
    )
    assert verdict.alerts == ()
