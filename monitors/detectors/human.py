"""Detectors for people: each judges a human against that person's own past.

None of these runs on agents: an agent's night work, its cloud addresses and its
bursts are normal for it, and judging it like a person is what floods security
teams with false "unusual activity" alerts.

- `user_unusual_hour`: a login in an hour of day in which the person rarely
  logs in (neighbouring hours count half), once the baseline has warmed up.
- `user_impossible_travel`: two sightings in different countries, farther apart
  than a plane could fly in the time between them.
- `user_new_country`, `user_new_device`: a place or device the warmed-up
  baseline has never seen.
- `user_mfa_failures`: a burst of MFA failures (push fatigue: the password is
  already known to whoever is asking).
- `user_brute_force`: many failed logins against one person.
- `user_password_spray`: many failed logins from one address against several
  people; kept with the address's alerts, not a person's.

A person who logs in at 09:00 from Berlin every weekday, then at 03:00 from São
Paulo:

>>> from datetime import timedelta
>>> from monitors.engine import MonitorEngine
>>> from schemas import SessionCategory, Source
>>> from schemas.examples import EXAMPLE_TIME, started
>>> def login(session_id, at):
...     event = started(SessionCategory.USER)
...     return event.model_copy(update={"session_id": session_id, "occurred_at": at})
>>> engine = MonitorEngine()
>>> for day in range(30):
...     verdict = engine.observe(login(f"s-{day}", EXAMPLE_TIME + timedelta(days=day)))
>>> night = login("s-night", EXAMPLE_TIME + timedelta(days=30, hours=-6))
>>> in_brazil = night.model_copy(update={"source": Source(
...     country="BR", asn=28573, device_id="dev-laptop-0042",
...     user_agent="Mozilla/5.0 Firefox/135.0")})
>>> verdict = engine.observe(in_brazil)
>>> [(alert.detector, alert.severity.value) for alert in verdict.alerts]
[('user_unusual_hour', 'low'), ('user_new_country', 'medium')]
>>> verdict.revocations
()
"""

from __future__ import annotations

from monitors.detectors.observation import USER, Observation
from monitors.findings import Finding, beyond, evidence
from schemas import Severity


class UnusualLoginHour:
    """A login in an hour in which the person rarely logs in."""

    name = "user_unusual_hour"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        features = observation.features
        rules = observation.user_rules
        share = features.login_hour_share
        if share is None or not observation.warmed_up:
            return None
        logins = observation.baseline.logins
        if logins < rules.unusual_hour_min_logins or share >= rules.unusual_hour_share:
            return None
        hour = features.hour_of_day
        return Finding(
            detector=self.name,
            severity=Severity.LOW,
            score=1.0 - share / rules.unusual_hour_share,
            explanation=(
                f"{observation.event.principal.id} logged in at {hour:02d}:00 UTC, "
                f"an hour in which {share:.1%} of their {logins} past logins fell"
            ),
            evidence=(
                evidence("login_hour_utc", float(hour)),
                evidence(
                    "login_hour_share",
                    share,
                    rules.unusual_hour_share,
                    "share of past logins in this hour (neighbours count half), "
                    "against the threshold",
                ),
                evidence("past_logins", float(logins)),
            ),
        )


class ImpossibleTravel:
    """Two sightings farther apart than a plane could fly in the time between."""

    name = "user_impossible_travel"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        features = observation.features
        rules = observation.user_rules
        speed = features.travel_kmh
        if speed is None or features.travel_km is None:
            return None
        if not features.travel_impossible(rules):
            return None
        source = observation.event.source
        country = source.country if source else "?"
        hours = features.travel_hours or 0.0
        return Finding(
            detector=self.name,
            severity=Severity.HIGH,
            score=beyond(speed, rules.max_travel_kmh),
            explanation=(
                f"{observation.event.principal.id} was seen in "
                f"{features.previous_country}, then {hours * 60:.0f} minutes later "
                f"in {country}, {features.travel_km:.0f} km away: "
                f"{speed:.0f} km/h, faster than a plane"
            ),
            evidence=(
                evidence("previous_country", features.previous_country or "?"),
                evidence("country", country),
                evidence("distance_km", features.travel_km),
                evidence("hours_between", hours),
                evidence("speed_kmh", speed, rules.max_travel_kmh),
            ),
        )


class NewCountry:
    """A country the person's warmed-up baseline has never seen."""

    name = "user_new_country"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        if not observation.features.new_country or not observation.warmed_up:
            return None
        source = observation.event.source
        country = source.country if source and source.country else "?"
        known = sorted(observation.baseline.countries.last_seen)
        return Finding(
            detector=self.name,
            severity=Severity.MEDIUM,
            score=1.0,
            explanation=(
                f"{observation.event.principal.id} was seen in {country} for the "
                f"first time; their baseline knows {', '.join(known[:8])}"
            ),
            evidence=(
                evidence("country", country, ", ".join(known[:16])),
                evidence("baseline_events", float(observation.baseline.events)),
            ),
        )


class NewDevice:
    """A device the person's warmed-up baseline has never seen, on a strange network.

    A new device on a network and in a country the person is known on is their
    own new phone or laptop far more often than anyone else's, so it is
    reported only with `new_device_alone`. Without an ASN on the event the
    network cannot be judged familiar, and every new device is reported.
    """

    name = "user_new_device"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        features = observation.features
        if not features.new_device or not observation.warmed_up:
            return None
        familiar = features.new_asn is False and features.new_country is not True
        if familiar and not observation.user_rules.new_device_alone:
            return None
        source = observation.event.source
        device = source.device_id if source and source.device_id else "?"
        asn = str(source.asn) if source and source.asn is not None else "?"
        known = len(observation.baseline.devices)
        network = "a network they are known on" if familiar else f"new network {asn}"
        return Finding(
            detector=self.name,
            severity=Severity.LOW,
            score=1.0,
            explanation=(
                f"{observation.event.principal.id} used device {device} for the "
                f"first time, from {network}; {known} devices are known for them"
            ),
            evidence=(
                evidence("device_id", device, float(known), "known devices"),
                evidence(
                    "asn", asn, float(len(observation.baseline.asns)), "known ASNs"
                ),
            ),
        )


class MfaFailureBurst:
    """Many MFA failures in a short window: someone with the password is asking."""

    name = "user_mfa_failures"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        features = observation.features
        rules = observation.user_rules
        if not features.mfa_failure or features.mfa_failures < rules.mfa_failures:
            return None
        minutes = rules.mfa_window.total_seconds() / 60
        return Finding(
            detector=self.name,
            severity=Severity.HIGH,
            score=beyond(features.mfa_failures, rules.mfa_failures),
            explanation=(
                f"{features.mfa_failures} MFA failures for "
                f"{observation.event.principal.id} within {minutes:.0f} minutes: the "
                "password may be known to someone pushing for approval"
            ),
            evidence=(
                evidence(
                    "mfa_failures",
                    float(features.mfa_failures),
                    float(rules.mfa_failures),
                    f"within {minutes:.0f} minutes, against the threshold",
                ),
            ),
        )


class BruteForceOnPerson:
    """Many failed logins against one person in a short window."""

    name = "user_brute_force"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        features = observation.features
        rules = observation.user_rules
        failed = features.failure and not features.mfa_failure
        if not failed or features.login_failures < rules.principal_failures:
            return None
        minutes = rules.failure_window.total_seconds() / 60
        return Finding(
            detector=self.name,
            severity=Severity.MEDIUM,
            score=beyond(features.login_failures, rules.principal_failures),
            explanation=(
                f"{features.login_failures} failed logins for "
                f"{observation.event.principal.id} within {minutes:.0f} minutes"
            ),
            evidence=(
                evidence(
                    "login_failures",
                    float(features.login_failures),
                    float(rules.principal_failures),
                    f"within {minutes:.0f} minutes, against the threshold",
                ),
            ),
        )


class PasswordSpray:
    """Many failed logins from one address against several people."""

    name = "user_password_spray"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        features = observation.features
        rules = observation.user_rules
        if (
            features.source_failures < rules.ip_failures
            or features.source_targets < rules.ip_principals
        ):
            return None
        source = observation.event.source
        address = source.ip if source and source.ip else "?"
        minutes = rules.failure_window.total_seconds() / 60
        return Finding(
            detector=self.name,
            severity=Severity.HIGH,
            score=beyond(features.source_failures, rules.ip_failures),
            explanation=(
                f"{features.source_failures} failed logins from {address} against "
                f"{features.source_targets} people within {minutes:.0f} minutes"
            ),
            evidence=(
                evidence("source_ip", address),
                evidence(
                    "source_failures",
                    float(features.source_failures),
                    float(rules.ip_failures),
                ),
                evidence(
                    "people_targeted",
                    float(features.source_targets),
                    float(rules.ip_principals),
                ),
            ),
            on_source=True,
        )


DETECTORS = (
    ImpossibleTravel(),
    UnusualLoginHour(),
    NewCountry(),
    NewDevice(),
    MfaFailureBurst(),
    BruteForceOnPerson(),
    PasswordSpray(),
)
