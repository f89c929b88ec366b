"""Detectors for people: each fires on a crafted stream, stays silent on normal use."""

from __future__ import annotations

import copy
from datetime import timedelta

from monitor_streams import (
    BERLIN,
    MONDAY,
    alerts_of,
    failed_logins,
    login,
    replay,
    user_event,
)

from monitors.engine import MonitorEngine
from schemas import (
    AccessRecorded,
    AuthenticationFailed,
    FailureReason,
    Severity,
    Source,
)

# Monday of the fourth week, after three learned office weeks.
NEXT_MONDAY = MONDAY + timedelta(days=21)


def detectors_of(verdict) -> list[str]:
    return [alert.detector for alert in verdict.alerts]


def test_unusual_hour_login_at_three_after_warm_up_fires(office_engine) -> None:
    verdict = office_engine.observe(login(NEXT_MONDAY + timedelta(hours=3)))
    [alert] = [a for a in verdict.alerts if a.detector == "user_unusual_hour"]
    assert alert.severity is Severity.LOW
    assert "03:00 UTC" in alert.explanation
    assert {e.feature for e in alert.evidence} >= {"login_hour_share", "past_logins"}


def test_unusual_hour_login_in_office_hours_is_silent(office_engine) -> None:
    verdict = office_engine.observe(login(NEXT_MONDAY + timedelta(hours=9, minutes=50)))
    assert verdict.alerts == ()


def test_unusual_hour_before_warm_up_is_silent() -> None:
    engine = MonitorEngine()
    replay(engine, [login(MONDAY + timedelta(days=d, hours=9)) for d in range(3)])
    verdict = engine.observe(login(MONDAY + timedelta(days=3, hours=3)))
    assert "user_unusual_hour" not in detectors_of(verdict)


def test_impossible_travel_berlin_then_sao_paulo_within_the_hour_fires(
    office_engine,
) -> None:
    office_engine.observe(login(NEXT_MONDAY + timedelta(hours=9)))
    brazil = Source(ip="198.51.100.40", country="BR", user_agent=BERLIN.user_agent)
    verdict = office_engine.observe(
        user_event(
            AccessRecorded, NEXT_MONDAY + timedelta(hours=9, minutes=40), source=brazil
        )
    )
    [alert] = [a for a in verdict.alerts if a.detector == "user_impossible_travel"]
    assert alert.severity is Severity.HIGH
    speed = next(e for e in alert.evidence if e.feature == "speed_kmh")
    assert speed.value > 10_000


def test_impossible_travel_is_measured_from_the_last_place_reached_possibly(
    office_engine,
) -> None:
    """The thief's later sightings still count; the person's own return does not."""
    office_engine.observe(login(NEXT_MONDAY + timedelta(hours=9)))
    brazil = Source(ip="198.51.100.40", country="BR", user_agent=BERLIN.user_agent)

    def travel_findings(minutes: int, source: Source) -> list[str]:
        at = NEXT_MONDAY + timedelta(hours=9, minutes=minutes)
        verdict = office_engine.observe(user_event(AccessRecorded, at, source=source))
        return [
            f.detector
            for f in verdict.findings
            if f.detector == "user_impossible_travel"
        ]

    assert travel_findings(40, brazil) == ["user_impossible_travel"]
    assert travel_findings(70, brazil) == ["user_impossible_travel"]
    assert travel_findings(90, BERLIN) == []


def test_impossible_travel_berlin_then_paris_two_days_later_is_silent(
    office_engine,
) -> None:
    office_engine.observe(login(NEXT_MONDAY + timedelta(hours=9)))
    paris = Source(ip="198.51.100.41", country="FR", user_agent=BERLIN.user_agent)
    verdict = office_engine.observe(
        login(NEXT_MONDAY + timedelta(days=2, hours=9), source=paris)
    )
    assert "user_impossible_travel" not in detectors_of(verdict)


def test_new_country_after_warm_up_fires_and_known_country_is_silent(
    office_engine,
) -> None:
    at = NEXT_MONDAY + timedelta(hours=9)
    known = office_engine.observe(login(at))
    assert "user_new_country" not in detectors_of(known)

    paris = BERLIN.model_copy(update={"country": "FR", "region": "Paris"})
    verdict = office_engine.observe(login(at + timedelta(days=1), source=paris))
    [alert] = [a for a in verdict.alerts if a.detector == "user_new_country"]
    assert alert.severity is Severity.MEDIUM
    assert alert.evidence[0].value == "FR"


def test_new_device_on_a_new_network_after_warm_up_fires_and_known_is_silent(
    office_engine,
) -> None:
    at = NEXT_MONDAY + timedelta(hours=9)
    assert "user_new_device" not in detectors_of(office_engine.observe(login(at)))
    stranger = BERLIN.model_copy(update={"device_id": "dev-unknown-9", "asn": 64512})
    verdict = office_engine.observe(login(at + timedelta(hours=1), source=stranger))
    [alert] = [a for a in verdict.alerts if a.detector == "user_new_device"]
    assert "new network 64512" in alert.explanation
    assert {e.feature: e.value for e in alert.evidence}["asn"] == "64512"


def test_new_device_on_a_known_network_is_silent_unless_the_policy_asks(
    office_engine,
) -> None:
    at = NEXT_MONDAY + timedelta(hours=9)
    new_phone = BERLIN.model_copy(update={"device_id": "dev-phone-7"})
    by_default = copy.deepcopy(office_engine)
    verdict = by_default.observe(login(at, source=new_phone))
    assert "user_new_device" not in detectors_of(verdict)

    strict = office_engine.policy.model_copy(
        update={
            "user": office_engine.policy.user.model_copy(
                update={"new_device_alone": True}
            )
        }
    )
    office_engine.policy = strict
    verdict = office_engine.observe(login(at, source=new_phone))
    [alert] = [a for a in verdict.alerts if a.detector == "user_new_device"]
    assert "a network they are known on" in alert.explanation


def test_mfa_failures_five_in_ten_minutes_fire(office_engine) -> None:
    failures = failed_logins(
        NEXT_MONDAY + timedelta(hours=9),
        5,
        FailureReason.MFA_FAILED,
        every=timedelta(minutes=1),
    )
    alerts = alerts_of(replay(office_engine, failures), "user_mfa_failures")
    assert [alert.severity for alert in alerts] == [Severity.HIGH]


def test_mfa_failures_spread_over_hours_are_silent(office_engine) -> None:
    failures = failed_logins(
        NEXT_MONDAY + timedelta(hours=9),
        5,
        FailureReason.MFA_FAILED,
        every=timedelta(minutes=30),
    )
    assert alerts_of(replay(office_engine, failures), "user_mfa_failures") == []


def test_brute_force_ten_bad_passwords_fire_and_nine_are_silent(
    office_engine,
) -> None:
    at = NEXT_MONDAY + timedelta(hours=9)
    nine = replay(office_engine, failed_logins(at, 9))
    assert alerts_of(nine, "user_brute_force") == []
    tenth = replay(office_engine, failed_logins(at + timedelta(minutes=4), 1))
    [alert] = alerts_of(tenth, "user_brute_force")
    assert alert.evidence[0].value == 10.0


def _spray(at, people: int, address: str = "198.51.100.66") -> list:
    source = Source(ip=address, country="NL", asn=14061)
    return [
        user_event(
            AuthenticationFailed,
            at + timedelta(seconds=15 * n),
            session_id=f"sess-spray-{n}",
            principal={"id": f"person-{n % people}@example.com", "kind": "human"},
            reason=FailureReason.BAD_CREDENTIALS,
            source=source,
        )
        for n in range(20)
    ]


def test_password_spray_from_one_address_against_many_people_fires() -> None:
    alerts = alerts_of(replay(MonitorEngine(), _spray(MONDAY, people=10)))
    spray = [alert for alert in alerts if alert.detector == "user_password_spray"]
    assert [alert.severity for alert in spray] == [Severity.HIGH]
    assert any(
        e.feature == "source_ip" and e.value == "198.51.100.66"
        for e in spray[0].evidence
    )


def test_password_spray_against_two_people_is_silent() -> None:
    alerts = alerts_of(replay(MonitorEngine(), _spray(MONDAY, people=2)))
    assert [a for a in alerts if a.detector == "user_password_spray"] == []
