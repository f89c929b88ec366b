"""Detectors for hybrids: an agent acting for a user may never outlive or out-scope
that user's session.

- `hybrid_subject_gone`: the agent keeps acting after the user's session ended,
  expired or was revoked (`subject_gone_grace` allows for requests in flight).
- `hybrid_scope_beyond_subject`: the agent starts with scopes its user lacks, or
  touches a resource or operation outside the user's grant, even one its own
  grant allows.

The user's session is read from the monitors' own session contexts: the worker
routes a hybrid's events by its user (`monitors.context.partition_key`), so the
user's context is on the same partition.

>>> from datetime import timedelta
>>> from monitors.engine import MonitorEngine
>>> from schemas import AccessRecorded, EndReason, SessionCategory, SessionEnded
>>> from schemas.examples import EXAMPLE_TIME, example, started
>>> engine = MonitorEngine()
>>> for category in ("user", "hybrid"):
...     verdict = engine.observe(started(category))
>>> logout = example(SessionEnded, session_id="sess-user-7f3a", category="user",
...     principal=started("user").principal, parent_session_id=None,
...     source=None, reason=EndReason.LOGOUT)
>>> verdict = engine.observe(logout)
>>> later = engine.observe(example(
...     AccessRecorded, session_id="sess-hybrid-91c0", category="hybrid",
...     principal=started("hybrid").principal,
...     occurred_at=EXAMPLE_TIME + timedelta(hours=3)))
>>> [(alert.detector, alert.severity.value) for alert in later.alerts]
[('hybrid_subject_gone', 'high')]
"""

from __future__ import annotations

from datetime import timedelta

from ledger.domain.scopes import allows, beyond
from monitors.context import ACTIVITY
from monitors.detectors.observation import HYBRID, Observation
from monitors.findings import Finding, evidence
from schemas import (
    AccessOutcome,
    AccessRecorded,
    Scope,
    SessionStarted,
    SessionStatus,
    Severity,
)


def _describe(scopes: tuple[Scope, ...]) -> str:
    return "; ".join(
        f"{scope.resource} ({', '.join(scope.operations)})" for scope in scopes[:8]
    )


class SubjectGone:
    """The agent acts although the user's session is over."""

    name = "hybrid_subject_gone"
    categories = HYBRID

    def inspect(self, observation: Observation) -> Finding | None:
        event = observation.event
        context = observation.context
        status = context.subject_status
        if (
            not isinstance(event, ACTIVITY)
            or status is None
            or status is SessionStatus.ACTIVE
        ):
            return None
        gone_at = context.subject_status_at
        grace = observation.policy.hybrid.subject_gone_grace
        if gone_at is None or event.occurred_at <= gone_at + grace:
            return None
        late = (event.occurred_at - gone_at) / timedelta(seconds=1)
        return Finding(
            detector=self.name,
            severity=Severity.HIGH,
            score=1.0,
            explanation=(
                f"{event.principal.id} acted ({event.type}) for {context.subject} "
                f"{late:.0f} s after that user's session {context.subject_session_id} "
                f"was {status.value}"
            ),
            evidence=(
                evidence("subject", context.subject or "?"),
                evidence("subject_status", status.value),
                evidence("seconds_after_subject_end", late),
            ),
        )


class ScopeBeyondSubject:
    """The agent holds or uses more than the user it acts for."""

    name = "hybrid_scope_beyond_subject"
    categories = HYBRID

    def inspect(self, observation: Observation) -> Finding | None:
        event = observation.event
        context = observation.context
        granted = context.subject_scopes
        if not granted:
            return None  # unknown, or a user session that is not scoped
        if isinstance(event, SessionStarted):
            excess = beyond(granted, event.scopes)
            if not excess:
                return None
            return Finding(
                detector=self.name,
                severity=Severity.HIGH,
                score=1.0,
                explanation=(
                    f"{event.principal.id} started acting for {context.subject} "
                    f"with scopes that user lacks: {_describe(excess)}"
                ),
                evidence=(
                    evidence("asked_scopes", _describe(excess), _describe(granted)),
                ),
            )
        if not isinstance(event, AccessRecorded):
            return None
        if allows(granted, event.resource, event.operation):
            return None
        let_through = event.outcome is AccessOutcome.ALLOWED
        return Finding(
            detector=self.name,
            severity=Severity.HIGH if let_through else Severity.MEDIUM,
            score=1.0 if let_through else 0.5,
            explanation=(
                f"{event.principal.id}, acting for {context.subject}, "
                f"{'did' if let_through else 'tried'} {event.operation} on "
                f"{event.resource}, which that user may not"
            ),
            evidence=(
                evidence("resource", event.resource, _describe(granted)),
                evidence("operation", event.operation),
                evidence("outcome", event.outcome.value),
            ),
        )


DETECTORS = (SubjectGone(), ScopeBeyondSubject())
