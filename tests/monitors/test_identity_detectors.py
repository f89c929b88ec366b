"""Identity mix-ups: a person's account run like a machine, an agent like a person."""

from __future__ import annotations

from datetime import timedelta

from monitor_streams import (
    BERLIN,
    MONDAY,
    agent_started,
    alerts_of,
    in_time_order,
    login,
    office_weeks,
    replay,
    user_event,
)

from monitors.engine import MonitorEngine
from schemas import AccessRecorded, Severity

SCRIPT = BERLIN.model_copy(update={"user_agent": "python-requests/2.32.3"})


def cron_on_alices_login(days: int) -> list:
    """A script polling every 10 minutes, day and night, with Alice's session."""
    start = MONDAY + timedelta(hours=9)
    return [login(start, source=SCRIPT)] + [
        user_event(
            AccessRecorded,
            start + timedelta(minutes=10 * step),
            source=SCRIPT,
            resource="app:ledger/export",
        )
        for step in range(1, days * 144)
    ]


def test_machine_like_person_polling_around_the_clock_fires() -> None:
    verdicts = replay(MonitorEngine(), cron_on_alices_login(3))
    alerts = alerts_of(verdicts)
    mix_ups = [alert for alert in alerts if alert.detector == "user_machine_like"]
    assert mix_ups
    assert mix_ups[-1].severity is Severity.HIGH
    assert {e.feature for e in mix_ups[-1].evidence} == {
        "around_the_clock_days",
        "programmatic_share",
        "gap_variation",
    }
    # A person is only reported, never revoked by the monitors.
    assert [verdict.revocations for verdict in verdicts if verdict.revocations] == []


def test_machine_like_normal_office_weeks_are_silent() -> None:
    alerts = alerts_of(replay(MonitorEngine(), in_time_order(office_weeks(4))))
    assert [a for a in alerts if a.detector == "user_machine_like"] == []


def test_agent_interactive_password_mfa_and_browser_fires_high() -> None:
    verdict = MonitorEngine().observe(
        agent_started(
            MONDAY,
            auth_method="password",
            mfa=True,
            source=BERLIN,
        )
    )
    [alert] = [a for a in verdict.alerts if a.detector == "agent_interactive"]
    assert alert.severity is Severity.HIGH
    assert {e.feature for e in alert.evidence} == {"user_agent", "mfa", "auth_method"}


def test_agent_interactive_client_credentials_start_is_silent() -> None:
    verdict = MonitorEngine().observe(agent_started(MONDAY))
    assert verdict.alerts == ()
