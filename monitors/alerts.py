"""Alerts: findings turned into `schemas.Alert`, merged so that repeats do not flood.

Merging and publishing, decided once here:

- Findings of one detector about one principal (or one source address) that
  come within `merge_window` of the alert's last sighting join that alert: its
  `count` grows and `last_seen` moves on. A later finding opens a new alert.
- An alert is published when it opens, then again as an update (same
  `alert_id`, larger count) when its severity rises, or when `update_interval`
  has passed since it was last published. Other repeats are counted silently.
  Consumers keep the last version of each `alert_id`.
- `alert_id` is a uuid5 of detector, key and first sighting, so that a replay
  of the same events publishes the same ids.
- The published alert carries the latest finding's explanation, evidence and
  session, with the highest severity and score seen so far.

>>> from datetime import timedelta
>>> from schemas import SessionCategory, Severity
>>> facts = AlertFacts(SessionCategory.AGENT, "svc", "sess-1")
>>> book = AlertBook(timedelta(hours=1), timedelta(minutes=15))
>>> finding = Finding("agent_burst", Severity.MEDIUM, 0.5, "a burst")
>>> opened = {}
>>> first = book.record(opened, finding, "agent:svc", facts, at=0.0)
>>> first.published is not None, first.opened
(True, True)
>>> again = book.record(opened, finding, "agent:svc", facts, at=60.0)
>>> again.published is None, opened["agent_burst"].count
(True, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from monitors.findings import Finding
from schemas import Alert, SessionCategory, Severity

ALERT_NAMESPACE = UUID("5d0c3a4e-9b1f-5c55-8d8e-6a1f0b7c2e11")
"""The uuid5 namespace of alert ids."""

REVOKED_KEPT = 32
"""Sessions an open alert remembers having revoked."""


class OpenAlert(BaseModel):
    """An alert still accepting merges: its id, sightings and publishing state."""

    model_config = ConfigDict(extra="forbid")

    alert_id: UUID
    first_seen: float
    last_seen: float
    count: int = 1
    severity: Severity
    score: float
    published_at: float
    published_severity: Severity
    revoked: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What an alert says about who and where, besides the finding itself."""

    category: SessionCategory
    principal_id: str
    session_id: str | None


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of recording a finding: the alert state and what to publish."""

    alert: OpenAlert
    published: Alert | None
    opened: bool


def as_datetime(at: float) -> datetime:
    """Seconds since the epoch as an aware UTC datetime."""
    return datetime.fromtimestamp(at, UTC)


class AlertBook:
    """Merges findings into open alerts and decides which versions to publish."""

    def __init__(self, merge_window: timedelta, update_interval: timedelta) -> None:
        self.merge_window = merge_window.total_seconds()
        self.update_interval = update_interval.total_seconds()

    def record(
        self,
        opened: dict[str, OpenAlert],
        finding: Finding,
        key: str,
        facts: AlertFacts,
        at: float,
    ) -> Recorded:
        """Merge `finding` into the open alerts of `key`, in place."""
        self._close_stale(opened, at)
        current = opened.get(finding.detector)
        if current is None or abs(at - current.last_seen) > self.merge_window:
            current = OpenAlert(
                alert_id=uuid5(ALERT_NAMESPACE, f"{finding.detector}|{key}|{at!r}"),
                first_seen=at,
                last_seen=at,
                severity=finding.severity,
                score=finding.score,
                published_at=at,
                published_severity=finding.severity,
            )
            opened[finding.detector] = current
            return Recorded(current, self._alert(current, finding, facts), True)

        current.count += 1
        current.first_seen = min(current.first_seen, at)
        current.last_seen = max(current.last_seen, at)
        current.severity = max(current.severity, finding.severity)
        current.score = max(current.score, finding.score)
        rose = current.severity > current.published_severity
        due = at - current.published_at >= self.update_interval
        if not (rose or due):
            return Recorded(current, None, False)
        current.published_at = max(current.published_at, at)
        current.published_severity = current.severity
        return Recorded(current, self._alert(current, finding, facts), False)

    def _close_stale(self, opened: dict[str, OpenAlert], at: float) -> None:
        # Alerts past their window never merge again; keeping them would only
        # grow the baseline.
        stale = [
            detector
            for detector, alert in opened.items()
            if at - alert.last_seen > self.merge_window
        ]
        for detector in stale:
            del opened[detector]

    @staticmethod
    def _alert(current: OpenAlert, finding: Finding, facts: AlertFacts) -> Alert:
        return Alert(
            alert_id=current.alert_id,
            detector=finding.detector,
            category=facts.category,
            principal_id=facts.principal_id,
            session_id=facts.session_id,
            severity=current.severity,
            score=current.score,
            explanation=finding.explanation[:1024],
            evidence=finding.evidence[:64],
            first_seen=as_datetime(current.first_seen),
            last_seen=as_datetime(current.last_seen),
            count=current.count,
        )
