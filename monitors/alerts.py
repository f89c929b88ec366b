"""Alerts: findings turned into `schemas.Alert`, merged so that repeats do not flood.

Merging and publishing, decided once here:

- Findings of one detector about one principal (or one source address) that
  come within `merge_window` of an open alert's sightings, before its first or
  after its last, join that alert: its `count` grows and its span widens.
  Another finding opens a new alert.
- Findings may come out of event-time order: the monitors see a principal's
  sessions through different partitions, and a replay reads each partition far
  ahead of the others. So up to `OPEN_PER_DETECTOR` alerts per detector stay
  open, each until `LATE_FINDINGS` past its last sighting (measured on the
  newest sighting seen), and a late finding joins the alert its time falls in.
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
>>> again.published is None, opened["agent_burst"][0].count
(True, 2)
>>> late = book.record(opened, finding, "agent:svc", facts, at=-1800.0)
>>> late.opened, opened["agent_burst"][0].count
(False, 3)
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

OPEN_PER_DETECTOR = 4
"""Alerts of one detector kept open per principal or address; the one seen
least recently is closed first."""

LATE_FINDINGS = timedelta(hours=24)
"""How far behind the newest sighting a finding may come and still join an
open alert; bounds how long a closed-looking alert is kept."""
LATE_SECONDS = LATE_FINDINGS.total_seconds()


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
        opened: dict[str, list[OpenAlert]],
        finding: Finding,
        key: str,
        facts: AlertFacts,
        at: float,
    ) -> Recorded:
        """Merge `finding` into the open alerts of `key`, in place."""
        self._close_stale(opened, at)
        alerts = opened.setdefault(finding.detector, [])
        current = self._joined(alerts, at)
        if current is None:
            current = OpenAlert(
                alert_id=uuid5(ALERT_NAMESPACE, f"{finding.detector}|{key}|{at!r}"),
                first_seen=at,
                last_seen=at,
                severity=finding.severity,
                score=finding.score,
                published_at=at,
                published_severity=finding.severity,
            )
            alerts.append(current)
            if len(alerts) > OPEN_PER_DETECTOR:
                alerts.remove(min(alerts, key=lambda alert: alert.last_seen))
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

    def _joined(self, alerts: list[OpenAlert], at: float) -> OpenAlert | None:
        """The open alert whose span, widened by the merge window, holds `at`."""
        near = [
            alert
            for alert in alerts
            if alert.first_seen - self.merge_window
            <= at
            <= alert.last_seen + self.merge_window
        ]
        if not near:
            return None
        return min(near, key=lambda a: max(a.first_seen - at, at - a.last_seen, 0))

    def _close_stale(self, opened: dict[str, list[OpenAlert]], at: float) -> None:
        # An alert no finding can join any more would only grow the baseline.
        for detector, alerts in list(opened.items()):
            newest = max([at, *(alert.last_seen for alert in alerts)])
            alerts[:] = [
                alert
                for alert in alerts
                if newest - alert.last_seen <= self.merge_window + LATE_SECONDS
            ]
            if not alerts:
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
