"""Detectors for agents: each fires on a crafted stream, silent on normal work."""

from __future__ import annotations

from datetime import timedelta

from monitor_streams import (
    CLOUD,
    MONDAY,
    agent_event,
    alerts_of,
    in_time_order,
    night_batches,
    replay,
)

from schemas import (
    AccessOutcome,
    AccessRecorded,
    RevocationCause,
    SessionRevoked,
    Severity,
    Source,
    TokenRefreshed,
)
from schemas.examples import AGENT_SESSION

# A minute into the fifth night, after four learned ones.
NIGHT = MONDAY + timedelta(days=4, hours=1, minutes=1)


def reads(start, count: int, seconds: float, **changes) -> list:
    return [
        agent_event(
            AccessRecorded,
            start + timedelta(seconds=seconds * n / count),
            resource=f"s3://acme-invoices/2025/03/burst-{n:05d}.pdf",
            **changes,
        )
        for n in range(count)
    ]


def test_burst_far_beyond_the_agents_busy_buckets_fires(night_engine) -> None:
    alerts = alerts_of(replay(night_engine, reads(NIGHT, 400, 300)), "agent_burst")
    assert len(alerts) == 1
    assert alerts[0].severity is Severity.MEDIUM
    usual = next(e for e in alerts[0].evidence if e.feature == "bucket_events")
    assert usual.value >= 5 * usual.baseline


def test_burst_a_normal_busy_night_is_silent(night_engine) -> None:
    verdicts = replay(night_engine, in_time_order(night_batches(2, first=4)))
    assert alerts_of(verdicts) == []


def test_out_of_scope_access_let_through_fires_high_and_revokes(night_engine) -> None:
    verdict = night_engine.observe(
        agent_event(AccessRecorded, NIGHT, resource="s3://acme-hr/salaries.csv")
    )
    [alert] = verdict.alerts
    assert (alert.detector, alert.severity) == ("agent_out_of_scope", Severity.HIGH)
    [command] = verdict.revocations
    assert (command.session_id, command.cascade) == (AGENT_SESSION, True)


def test_out_of_scope_access_denied_fires_medium_without_revocation(
    night_engine,
) -> None:
    verdict = night_engine.observe(
        agent_event(
            AccessRecorded,
            NIGHT,
            resource="s3://acme-invoices/2025/03/inv-1.pdf",
            operation="delete",
            outcome=AccessOutcome.DENIED,
        )
    )
    assert [(a.detector, a.severity) for a in verdict.alerts] == [
        ("agent_out_of_scope", Severity.MEDIUM)
    ]
    assert verdict.revocations == ()


def test_out_of_scope_access_within_the_grant_is_silent(night_engine) -> None:
    verdict = night_engine.observe(agent_event(AccessRecorded, NIGHT))
    assert verdict.alerts == ()


def test_new_network_stolen_token_from_another_country_fires_high_and_revokes(
    night_engine,
) -> None:
    stolen = Source(ip="198.51.100.23", country="RU", asn=12389)
    verdict = night_engine.observe(agent_event(AccessRecorded, NIGHT, source=stolen))
    [alert] = [a for a in verdict.alerts if a.detector == "agent_new_network"]
    assert alert.severity is Severity.HIGH
    assert {e.feature for e in alert.evidence} == {"asn", "cloud_region", "country"}
    assert [c.session_id for c in verdict.revocations] == [AGENT_SESSION]


def test_new_network_new_region_of_the_same_cloud_fires_medium(night_engine) -> None:
    moved = CLOUD.model_copy(update={"cloud_region": "eu-central-1"})
    verdict = night_engine.observe(agent_event(AccessRecorded, NIGHT, source=moved))
    assert [(a.detector, a.severity) for a in verdict.alerts] == [
        ("agent_new_network", Severity.MEDIUM)
    ]
    assert verdict.revocations == ()


def test_use_after_revocation_fires_high(night_engine) -> None:
    night_engine.observe(
        agent_event(
            SessionRevoked,
            NIGHT,
            reason="secops",
            cause=RevocationCause.COMMAND,
        )
    )
    verdict = night_engine.observe(
        agent_event(AccessRecorded, NIGHT + timedelta(minutes=2))
    )
    [alert] = verdict.alerts
    assert (alert.detector, alert.severity) == ("use_after_end", Severity.HIGH)
    assert "revoked" in alert.explanation


def test_use_after_revocation_of_an_event_from_before_it_is_silent(
    night_engine,
) -> None:
    night_engine.observe(
        agent_event(SessionRevoked, NIGHT, reason="x", cause=RevocationCause.COMMAND)
    )
    late_arrival = agent_event(AccessRecorded, NIGHT - timedelta(seconds=5))
    assert night_engine.observe(late_arrival).alerts == ()


def test_use_after_token_expiry_fires_medium(night_engine) -> None:
    night_engine.observe(
        agent_event(
            TokenRefreshed,
            NIGHT,
            token_id="sha256:abc",
            expires_at=NIGHT + timedelta(minutes=5),
        )
    )
    verdict = night_engine.observe(
        agent_event(AccessRecorded, NIGHT + timedelta(minutes=30))
    )
    assert [(a.detector, a.severity) for a in verdict.alerts] == [
        ("use_after_end", Severity.MEDIUM)
    ]


def refreshes(start, count: int, seconds: float) -> list:
    return [
        agent_event(
            TokenRefreshed,
            start + timedelta(seconds=seconds * n / count),
            token_id=f"sha256:storm{n:04d}",
            expires_at=start + timedelta(hours=1),
        )
        for n in range(count)
    ]


def test_refresh_storm_forty_refreshes_in_five_minutes_fires(night_engine) -> None:
    alerts = alerts_of(replay(night_engine, refreshes(NIGHT, 40, 300)))
    assert [(a.detector, a.severity) for a in alerts] == [
        ("agent_refresh_storm", Severity.MEDIUM)
    ]


def test_refresh_storm_usual_refreshes_are_silent(night_engine) -> None:
    alerts = alerts_of(replay(night_engine, refreshes(NIGHT, 4, 3 * 3600)))
    assert alerts == []
