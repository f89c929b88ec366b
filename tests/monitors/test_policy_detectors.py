"""The category's hard rules: each fires when broken, and only for its categories."""

from __future__ import annotations

from datetime import timedelta

import pytest
from monitor_streams import (
    BERLIN,
    CLOUD,
    MONDAY,
    agent_event,
    agent_started,
    alerts_of,
    login,
    replay,
    user_event,
)

from ledger.errors import ConfigurationError
from monitors.engine import MonitorEngine
from monitors.policy import MonitorPolicy
from schemas import AccessRecorded, Severity, Source

MORNING = MONDAY + timedelta(hours=9)


def many_reads(builder, count: int, seconds: float) -> list:
    return [
        builder(AccessRecorded, MORNING + timedelta(seconds=seconds * n / count))
        for n in range(count)
    ]


def test_rate_limit_person_at_machine_speed_fires() -> None:
    alerts = alerts_of(replay(MonitorEngine(), many_reads(user_event, 300, 60)))
    assert [(a.detector, a.severity) for a in alerts] == [
        ("rate_limit", Severity.MEDIUM)
    ]
    assert alerts[0].evidence[0].baseline == 120.0


def test_rate_limit_agent_at_the_same_speed_is_silent() -> None:
    engine = MonitorEngine()
    engine.observe(agent_started(MORNING))
    alerts = alerts_of(replay(engine, many_reads(agent_event, 300, 60)))
    assert [a for a in alerts if a.detector == "rate_limit"] == []


def test_country_policy_person_outside_allowed_countries_fires(engine_with) -> None:
    engine = engine_with(user={"allowed_countries": ["FR", "BE"]})
    verdict = engine.observe(login(MORNING))
    [alert] = verdict.alerts
    assert (alert.detector, alert.severity) == ("user_country_policy", Severity.HIGH)
    assert verdict.revocations == ()


def test_country_policy_person_inside_allowed_countries_is_silent(
    engine_with,
) -> None:
    engine = engine_with(user={"allowed_countries": ["DE"]})
    assert engine.observe(login(MORNING)).alerts == ()


def test_network_policy_agent_outside_allowed_asns_fires_and_revokes(
    engine_with,
) -> None:
    engine = engine_with(agent={"allowed_asns": [16509]})
    engine.observe(agent_started(MORNING))
    outside = Source(ip="198.51.100.8", asn=14061, cloud_region="ams3")
    verdict = engine.observe(
        agent_event(AccessRecorded, MORNING + timedelta(minutes=1), source=outside)
    )
    [alert] = verdict.alerts
    assert alert.detector == "agent_network_policy"
    assert len(verdict.revocations) == 1


def test_network_policy_agent_inside_allowed_regions_and_asns_is_silent(
    engine_with,
) -> None:
    engine = engine_with(
        agent={"allowed_asns": [16509], "allowed_cloud_regions": ["eu-west-1"]}
    )
    engine.observe(agent_started(MORNING))
    verdict = engine.observe(
        agent_event(AccessRecorded, MORNING + timedelta(minutes=1), source=CLOUD)
    )
    assert verdict.alerts == ()


def test_network_policy_person_is_never_judged_by_agent_rules(engine_with) -> None:
    engine = engine_with(agent={"allowed_asns": [16509]})
    assert engine.observe(login(MORNING)).alerts == ()


def test_mfa_required_login_without_mfa_fires() -> None:
    verdict = MonitorEngine().observe(login(MORNING, mfa=False))
    assert [a.detector for a in verdict.alerts] == ["user_mfa_required"]


def test_mfa_required_agent_without_mfa_is_silent() -> None:
    assert MonitorEngine().observe(agent_started(MORNING)).alerts == ()


def test_device_required_login_without_device_fires_and_with_one_is_silent(
    engine_with,
) -> None:
    engine = engine_with(user={"require_device": True})
    assert engine.observe(login(MORNING)).alerts == ()
    no_device = BERLIN.model_copy(update={"device_id": None})
    verdict = engine.observe(
        login(MORNING + timedelta(hours=1), session_id="s-2", source=no_device)
    )
    assert [a.detector for a in verdict.alerts] == ["user_device_required"]


def test_disabled_detector_stays_silent(engine_with) -> None:
    engine = engine_with(user={"disabled": ["user_mfa_required"]})
    assert engine.observe(login(MORNING, mfa=False)).alerts == ()


def test_disabled_detector_misspelt_is_refused_with_the_known_names() -> None:
    policy = MonitorPolicy.model_validate({"agent": {"disabled": ["agent_brust"]}})
    with pytest.raises(ConfigurationError, match=r"agent_brust.*agent_burst"):
        MonitorEngine(policy)


def test_uniform_judges_an_agent_by_the_human_rules_and_keeps_its_category() -> None:
    engine = MonitorEngine(MonitorPolicy(uniform=True))
    engine.observe(agent_started(MORNING))
    alerts = alerts_of(replay(engine, many_reads(agent_event, 300, 60)))
    assert [(a.detector, a.category.value) for a in alerts] == [("rate_limit", "agent")]
    assert alerts[0].evidence[0].baseline == 120.0  # the human limit


def test_uniform_does_not_revoke_an_agent_as_the_agent_policy_would(
    engine_with,
) -> None:
    outside = Source(ip="198.51.100.8", asn=14061, cloud_region="ams3")
    for uniform, revocations in ((False, 1), (True, 0)):
        engine = engine_with(agent={"allowed_asns": [16509]}, uniform=uniform)
        engine.observe(agent_started(MORNING))
        verdict = engine.observe(
            agent_event(AccessRecorded, MORNING + timedelta(minutes=1), source=outside)
        )
        assert len(verdict.revocations) == revocations
