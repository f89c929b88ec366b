"""The category's hard rules, as the policy states them: no baseline, no warm-up.

- `rate_limit` (every category): more events per minute than the category's
  `max_events_per_minute`: human-scale for users, machine-scale for agents.
- `user_country_policy`: a person outside `allowed_countries`.
- `agent_network_policy` (agents, hybrids): outside `allowed_cloud_regions` or
  `allowed_asns`. An event with an address but no cloud region is outside every
  allowed region.
- `user_mfa_required`, `user_device_required`: a login without MFA, or without
  an identified device, where the policy demands one. Agents have neither.

>>> from monitors.engine import MonitorEngine
>>> from monitors.policy import MonitorPolicy, UserMonitors
>>> from schemas import SessionCategory, Source
>>> from schemas.examples import started
>>> policy = MonitorPolicy(user=UserMonitors(allowed_countries={"FR"}))
>>> verdict = MonitorEngine(policy).observe(started(SessionCategory.USER))
>>> [(alert.detector, alert.severity.value) for alert in verdict.alerts]
[('user_country_policy', 'high')]
"""

from __future__ import annotations

from monitors.detectors.observation import EVERYONE, MACHINES, USER, Observation
from monitors.findings import Finding, beyond, evidence
from schemas import SessionStarted, Severity


class RateLimit:
    """More events per minute than the category allows."""

    name = "rate_limit"
    categories = EVERYONE

    def inspect(self, observation: Observation) -> Finding | None:
        limit = observation.rules.max_events_per_minute
        rate = observation.features.per_minute
        if rate <= limit:
            return None
        return Finding(
            detector=self.name,
            severity=Severity.MEDIUM,
            score=beyond(rate, limit),
            explanation=(
                f"{observation.event.principal.id} is making about {rate:.0f} "
                f"events a minute; {observation.category.value} sessions may make "
                f"{limit:g}"
            ),
            evidence=(evidence("events_per_minute", rate, limit, "the policy limit"),),
        )


class CountryPolicy:
    """A person outside the countries the policy allows."""

    name = "user_country_policy"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        allowed = observation.user_rules.allowed_countries
        source = observation.event.source
        if not allowed or source is None or source.country is None:
            return None
        if source.country in allowed:
            return None
        return Finding(
            detector=self.name,
            severity=Severity.HIGH,
            score=1.0,
            explanation=(
                f"{observation.event.principal.id} was seen in {source.country}; "
                f"the policy allows {', '.join(sorted(allowed))}"
            ),
            evidence=(evidence("country", source.country, ", ".join(sorted(allowed))),),
        )


class NetworkPolicy:
    """An agent outside the cloud regions or networks the policy allows."""

    name = "agent_network_policy"
    categories = MACHINES

    def inspect(self, observation: Observation) -> Finding | None:
        rules = observation.machine_rules
        source = observation.event.source
        if source is None:
            return None
        broken = []
        regions = rules.allowed_cloud_regions
        outside = source.cloud_region not in regions
        if regions and (source.cloud_region or source.ip) and outside:
            broken.append(
                evidence(
                    "cloud_region",
                    source.cloud_region or "none",
                    ", ".join(sorted(regions)),
                )
            )
        asns = rules.allowed_asns
        if asns and source.asn is not None and source.asn not in asns:
            broken.append(
                evidence(
                    "asn", str(source.asn), ", ".join(str(a) for a in sorted(asns))
                )
            )
        if not broken:
            return None
        what = ", ".join(f"{item.feature} {item.value}" for item in broken)
        return Finding(
            detector=self.name,
            severity=Severity.HIGH,
            score=1.0,
            explanation=(
                f"{observation.event.principal.id} called from outside the networks "
                f"the policy allows for {observation.category.value}s ({what})"
            ),
            evidence=tuple(broken),
        )


class MfaRequired:
    """A person's login without MFA where the policy demands it."""

    name = "user_mfa_required"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        event = observation.event
        if not isinstance(event, SessionStarted) or event.mfa:
            return None
        if not observation.user_rules.require_mfa:
            return None
        return Finding(
            detector=self.name,
            severity=Severity.MEDIUM,
            score=1.0,
            explanation=(
                f"{event.principal.id} logged in without MFA "
                f"({event.auth_method or 'method not given'}); the policy requires it"
            ),
            evidence=(evidence("mfa", "false", "true"),),
        )


class DeviceRequired:
    """A person's login from no identified device where the policy demands one."""

    name = "user_device_required"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        event = observation.event
        if not isinstance(event, SessionStarted):
            return None
        if not observation.user_rules.require_device:
            return None
        if event.source is not None and event.source.device_id:
            return None
        return Finding(
            detector=self.name,
            severity=Severity.MEDIUM,
            score=1.0,
            explanation=(
                f"{event.principal.id} logged in from no identified device; the "
                "policy requires one"
            ),
            evidence=(evidence("device_id", "none"),),
        )


DETECTORS = (
    RateLimit(),
    CountryPolicy(),
    NetworkPolicy(),
    MfaRequired(),
    DeviceRequired(),
)
