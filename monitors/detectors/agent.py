"""Detectors for agents and service accounts (and hybrids, which are agents too).

An agent is judged against its own machine-scale past, never a person's: it may
work all night, from cloud addresses, in bursts of thousands of calls. What is
suspicious for an agent is a change in *what* it does or *where from*:

- `agent_burst`: a rate bucket holding `burst_factor` times the agent's usual
  busy bucket (and at least `burst_min_events`), once `burst_warmup_buckets`
  busy buckets are known. Idle buckets are not averaged in, so a nightly batch
  is judged against earlier nightly batches, not against the idle day.
- `agent_out_of_scope`: access to a resource or operation the session was not
  granted; high when the enforcement point let it through, medium when it was
  denied (an attempt).
- `agent_new_network`: a new ASN, cloud region or country, or a cloud agent
  suddenly calling from outside any cloud region: token theft shows this way.
  High when the call comes from outside any cloud region with two novelties or
  more (a new network, and a new country or leaving the cloud); medium for
  anything else, such as a move to a new region or provider, which is how
  fleets grow. Judged once the agent's baseline has seen two distinct days: a
  token stolen on an agent's first day is left to the scope and use-after-end
  rules.
- `use_after_end`: activity on a session after it ended, expired or was revoked
  (high after revocation), or with a token past its expiry (and
  `token_expiry_grace`). It applies to every
  category: a replayed cookie is as telling as a replayed agent token.
- `agent_refresh_storm`: token refreshes in one bucket far beyond the agent's
  usual refreshes per busy bucket (and at least `refresh_storm_min`).

A stolen agent token, used from a new network in another country, is revoked
with its children:

>>> from datetime import timedelta
>>> from monitors.engine import MonitorEngine
>>> from schemas import AccessRecorded, SessionCategory, Source
>>> from schemas.examples import EXAMPLE_TIME, example, started
>>> engine = MonitorEngine()
>>> verdict = engine.observe(started(SessionCategory.AGENT))
>>> for minute in range(0, 4 * 24 * 60, 30):
...     verdict = engine.observe(example(
...         AccessRecorded, event_id=f"00000000-0000-4000-8000-{minute:012d}",
...         occurred_at=EXAMPLE_TIME + timedelta(minutes=minute)))
>>> stolen = engine.observe(example(
...     AccessRecorded, occurred_at=EXAMPLE_TIME + timedelta(days=4),
...     source=Source(ip="198.51.100.23", country="RU", asn=12389)))
>>> [(alert.detector, alert.severity.value) for alert in stolen.alerts]
[('agent_new_network', 'high')]
>>> [(command.session_id, command.cascade) for command in stolen.revocations]
[('sess-agent-5b21', True)]
"""

from __future__ import annotations

from ledger.domain.scopes import allows
from monitors.context import ACTIVITY
from monitors.detectors.observation import EVERYONE, MACHINES, Observation
from monitors.findings import Finding, beyond, evidence
from schemas import (
    AccessOutcome,
    AccessRecorded,
    Evidence,
    SessionStatus,
    Severity,
    TokenRefreshed,
)


class AgentBurst:
    """A rate bucket far beyond the agent's own usual busy bucket."""

    name = "agent_burst"
    categories = MACHINES

    def inspect(self, observation: Observation) -> Finding | None:
        rules = observation.machine_rules
        count = observation.features.bucket_events
        busy = observation.baseline.rate.busy
        if count < rules.burst_min_events or busy.count < rules.burst_warmup_buckets:
            return None
        limit = rules.burst_factor * max(busy.mean, 1.0)
        if count < limit:
            return None
        minutes = observation.baseline.rate.seconds / 60
        return Finding(
            detector=self.name,
            severity=Severity.MEDIUM,
            score=beyond(count, limit),
            explanation=(
                f"{observation.event.principal.id} made {count} calls in this "
                f"{minutes:.0f}-minute bucket; its busy buckets usually hold "
                f"{busy.mean:.0f} (burst at {rules.burst_factor:g}x)"
            ),
            evidence=(
                evidence("bucket_events", float(count), busy.mean, "usual busy bucket"),
                evidence("bucket_events_std", busy.std),
                evidence("busy_buckets_seen", float(busy.count)),
            ),
        )


class OutOfScope:
    """Access to a resource or operation the session was not granted."""

    name = "agent_out_of_scope"
    categories = MACHINES

    def inspect(self, observation: Observation) -> Finding | None:
        event = observation.event
        scopes = observation.context.scopes
        if not isinstance(event, AccessRecorded) or not scopes:
            return None
        if allows(scopes, event.resource, event.operation):
            return None
        let_through = event.outcome is AccessOutcome.ALLOWED
        granted = "; ".join(
            f"{scope.resource} ({', '.join(scope.operations)})" for scope in scopes[:8]
        )
        return Finding(
            detector=self.name,
            severity=Severity.HIGH if let_through else Severity.MEDIUM,
            score=1.0 if let_through else 0.5,
            explanation=(
                f"session {event.session_id} of {event.principal.id} "
                f"{'did' if let_through else 'tried'} {event.operation} on "
                f"{event.resource}, outside its grant"
                + ("" if let_through else " (the enforcement point denied it)")
            ),
            evidence=(
                evidence("resource", event.resource, granted, "granted scopes"),
                evidence("operation", event.operation),
                evidence("outcome", event.outcome.value),
            ),
        )


def _network_novelties(observation: Observation) -> list[Evidence]:
    source = observation.event.source
    if source is None:
        return []
    baseline = observation.baseline
    knows_network = bool(len(baseline.asns) or len(baseline.cloud_regions))
    novel: list[Evidence] = []
    if (
        source.asn is not None
        and len(baseline.asns)
        and str(source.asn) not in baseline.asns
    ):
        known = ", ".join(sorted(baseline.asns.last_seen)[:16])
        novel.append(evidence("asn", str(source.asn), known, "known networks"))
    known_regions = baseline.cloud_regions
    regions = ", ".join(sorted(known_regions.last_seen)[:16])
    if source.cloud_region:
        if len(known_regions) and source.cloud_region not in known_regions:
            novel.append(evidence("cloud_region", source.cloud_region, regions))
    elif regions and (source.asn is not None or source.ip or source.country):
        # An agent that always ran in a cloud region now calls from elsewhere.
        novel.append(
            evidence("cloud_region", "none", regions, "outside every cloud region")
        )
    knows_place = knows_network or len(baseline.countries)
    if source.country and knows_place and source.country not in baseline.countries:
        known = ", ".join(sorted(baseline.countries.last_seen)[:16]) or "none"
        novel.append(evidence("country", source.country, known, "known countries"))
    return novel


class NewNetwork:
    """A new network, cloud region or country for a warmed-up agent."""

    name = "agent_new_network"
    categories = MACHINES

    def inspect(self, observation: Observation) -> Finding | None:
        if not observation.warmed_up:
            return None
        novel = _network_novelties(observation)
        if not novel:
            return None
        what = ", ".join(f"{item.feature} {item.value}" for item in novel)
        source = observation.event.source
        # A move between cloud regions is how fleets grow; a cloud agent calling
        # from outside any cloud, from a new network, is how stolen tokens look.
        outside_cloud = source is not None and not source.cloud_region
        severe = outside_cloud and len(novel) >= 2
        return Finding(
            detector=self.name,
            severity=Severity.HIGH if severe else Severity.MEDIUM,
            score=len(novel) / 4,
            explanation=(
                f"{observation.event.principal.id} called from a place its baseline "
                f"has never seen ({what}); a stolen token looks like this"
            ),
            evidence=tuple(novel),
        )


class UseAfterEnd:
    """Activity on a session that is over, or with a token past its expiry."""

    name = "use_after_end"
    categories = EVERYONE

    def inspect(self, observation: Observation) -> Finding | None:
        event = observation.event
        context = observation.context
        if not isinstance(event, ACTIVITY):
            return None
        at = event.occurred_at
        if not context.active and context.status_at is not None:
            if at <= context.status_at:
                return None
            revoked = context.status is SessionStatus.REVOKED
            late = (at - context.status_at).total_seconds()
            return Finding(
                detector=self.name,
                severity=Severity.HIGH if revoked else Severity.MEDIUM,
                score=1.0,
                explanation=(
                    f"session {event.session_id} of {event.principal.id} was used "
                    f"({event.type}) {late:.0f} s after it was {context.status.value}"
                    + (f" ({context.status_reason})" if context.status_reason else "")
                ),
                evidence=(
                    evidence("status", context.status.value),
                    evidence("seconds_after_end", late),
                    evidence("event_type", event.type),
                ),
            )
        expires = context.token_expires_at
        grace = observation.rules.token_expiry_grace
        if (
            isinstance(event, AccessRecorded)
            and expires is not None
            and at > expires + grace
        ):
            late = (at - expires).total_seconds()
            return Finding(
                detector=self.name,
                severity=Severity.MEDIUM,
                score=0.5,
                explanation=(
                    f"session {event.session_id} of {event.principal.id} accessed "
                    f"{event.resource} {late:.0f} s after its token expired"
                ),
                evidence=(evidence("seconds_after_token_expiry", late),),
            )
        return None


class RefreshStorm:
    """Token refreshes far beyond the agent's usual refreshes per busy bucket."""

    name = "agent_refresh_storm"
    categories = MACHINES

    def inspect(self, observation: Observation) -> Finding | None:
        if not isinstance(observation.event, TokenRefreshed):
            return None
        rules = observation.machine_rules
        count = observation.features.bucket_refreshes
        usual = observation.baseline.rate.refresh_busy
        if count < rules.refresh_storm_min:
            return None
        limit = float(rules.refresh_storm_min)
        if usual.count >= rules.burst_warmup_buckets:
            limit = max(limit, rules.refresh_storm_factor * usual.mean)
        if count < limit:
            return None
        gaps = observation.baseline.refresh_gaps
        return Finding(
            detector=self.name,
            severity=Severity.MEDIUM,
            score=beyond(count, limit),
            explanation=(
                f"{observation.event.principal.id} refreshed its tokens {count} "
                f"times in one bucket; it usually refreshes {usual.mean:.1f} times "
                "per busy bucket"
            ),
            evidence=(
                evidence("bucket_refreshes", float(count), usual.mean),
                evidence(
                    "refresh_interval_seconds",
                    gaps.mean if gaps.count else 0.0,
                    detail="usual interval between refreshes",
                ),
            ),
        )


DETECTORS = (
    UseAfterEnd(),
    OutOfScope(),
    NewNetwork(),
    AgentBurst(),
    RefreshStorm(),
)
