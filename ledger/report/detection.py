"""Detection quality of one pipeline run, scored against the simulator's labels.

A `RunTally` is fed what a run left on its topics: every event of the ledger
topic (the simulated traffic and what the worker appended: expiries,
revocations) and every alert. `RunTally.score(incidents)` then says, with no I/O:

- for each incident, the detectors whose alerts caught it (the report's rule,
  `ledger.report.model.names_incident`);
- for each category and detector, the alerts raised, how many of them name an
  incident (true) or none (false), the precision, and the false alerts per
  1,000 session-days;
- the sessions whose work the ledger cut: ended by an expiry or a revocation
  while their own traffic went on afterwards. Labelled incidents' sessions are
  left out, since cutting those is the point.

Definitions:

- An alert is counted once, by its `alert_id`, as last published (merged
  repeats update one alert).
- A *session-day* is one session active on one UTC day: a session with traffic
  on three days counts three. It is the exposure that false alerts are divided
  by, so that a category of a few long sessions and one of many short ones
  compare fairly.
- A session's *own traffic* is every event but what the ledger appends
  (`session.expired`, `session.revoked`, `session.linked`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ledger.report.model import (
    AlertSighting,
    Incident,
    IncidentVerdict,
    judge_incidents,
    names_incident,
)
from schemas import (
    Alert,
    AuthEvent,
    ChildSessionLinked,
    SessionExpired,
    SessionRevoked,
)


@dataclass(frozen=True)
class DetectorQuality:
    """The alerts of one detector in one category."""

    category: str
    detector: str
    alerts: int
    true_alerts: int
    session_days: int
    incidents: tuple[str, ...]
    """Incident ids this detector's alerts caught."""

    @property
    def false_alerts(self) -> int:
        return self.alerts - self.true_alerts

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None

    @property
    def false_per_1000_session_days(self) -> float | None:
        if not self.session_days:
            return None
        return 1000 * self.false_alerts / self.session_days


@dataclass(frozen=True)
class CutSession:
    """A session ended by the ledger while its own traffic went on."""

    session_id: str
    category: str
    principal_id: str
    ended_by: str
    """`expired:<reason>` or `revoked:<cause>`."""
    ended_at: datetime
    last_traffic_at: datetime


@dataclass(frozen=True)
class RunQuality:
    """Everything the evaluation prints about one run."""

    incidents: tuple[IncidentVerdict, ...]
    detectors: tuple[DetectorQuality, ...]
    session_days: dict[str, int]
    ends: dict[str, Counter[str]]
    """Per category, how many sessions ended by each `expired:`/`revoked:` cause."""
    cut: tuple[CutSession, ...]

    @property
    def alerts(self) -> int:
        return sum(row.alerts for row in self.detectors)

    @property
    def true_alerts(self) -> int:
        return sum(row.true_alerts for row in self.detectors)

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None

    def false_alerts(self, category: str) -> int:
        return sum(
            row.false_alerts for row in self.detectors if row.category == category
        )

    def alerts_of(self, category: str) -> int:
        return sum(row.alerts for row in self.detectors if row.category == category)

    def cut_of(self, category: str) -> list[CutSession]:
        return [session for session in self.cut if session.category == category]

    @property
    def kinds(self) -> dict[str, tuple[int, int]]:
        """Per incident kind: (caught, labelled)."""
        caught: Counter[str] = Counter()
        labelled: Counter[str] = Counter()
        for verdict in self.incidents:
            labelled[verdict.incident.kind] += 1
            caught[verdict.incident.kind] += verdict.caught
        return {kind: (caught[kind], labelled[kind]) for kind in sorted(labelled)}


@dataclass
class _Session:
    category: str
    principal_id: str
    last_traffic_at: datetime | None = None
    ended_by: str | None = None
    ended_at: datetime | None = None


class RunTally:
    """Accumulates one run's events and alerts; `score` compares them to labels."""

    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}
        self._days: set[tuple[str, date]] = set()
        self._alerts: dict[str, Alert] = {}

    def add_event(self, event: AuthEvent) -> None:
        """One event of the ledger topic, in any order."""
        session = self._sessions.get(event.session_id)
        if session is None:
            session = self._sessions[event.session_id] = _Session(
                event.category.value, event.principal.id
            )
        at = event.occurred_at
        match event:
            case ChildSessionLinked():
                return
            case SessionExpired() | SessionRevoked():
                if session.ended_at is None or at < session.ended_at:
                    session.ended_by, session.ended_at = _end_cause(event), at
                return
        if session.last_traffic_at is None or at > session.last_traffic_at:
            session.last_traffic_at = at
        self._days.add((event.session_id, at.date()))

    def add_alert(self, alert: Alert) -> None:
        """One published alert; a later version of the same alert replaces it."""
        key = str(alert.alert_id)
        known = self._alerts.get(key)
        if known is None or (alert.last_seen, alert.count) >= (
            known.last_seen,
            known.count,
        ):
            self._alerts[key] = alert

    @property
    def alerts(self) -> list[Alert]:
        """Every alert as last published, oldest first."""
        return sorted(
            self._alerts.values(), key=lambda a: (a.first_seen, str(a.alert_id))
        )

    def score(self, incidents: Sequence[Incident]) -> RunQuality:
        """The run's quality against the labelled `incidents`."""
        sightings = [_sighting(alert) for alert in self._alerts.values()]
        categories = {
            str(alert.alert_id): alert.category.value for alert in self._alerts.values()
        }
        session_days: Counter[str] = Counter(
            self._sessions[session_id].category for session_id, _ in self._days
        )

        raised: Counter[tuple[str, str]] = Counter()
        true: Counter[tuple[str, str]] = Counter()
        caught: dict[tuple[str, str], set[str]] = defaultdict(set)
        for sighting in sightings:
            row = (categories[sighting.alert_id], sighting.detector)
            raised[row] += 1
            named = [i.id for i in incidents if names_incident(sighting, i)]
            if named:
                true[row] += 1
                caught[row].update(named)
        detectors = tuple(
            DetectorQuality(
                category=category,
                detector=detector,
                alerts=raised[(category, detector)],
                true_alerts=true[(category, detector)],
                session_days=session_days[category],
                incidents=tuple(sorted(caught[(category, detector)])),
            )
            for category, detector in sorted(raised)
        )

        labelled_sessions = {s for incident in incidents for s in incident.sessions}
        ends: dict[str, Counter[str]] = defaultdict(Counter)
        cut = []
        for session_id, session in sorted(self._sessions.items()):
            if session.ended_by is None or session.ended_at is None:
                continue
            ends[session.category][session.ended_by] += 1
            if session_id in labelled_sessions:
                continue
            if session.last_traffic_at and session.last_traffic_at > session.ended_at:
                cut.append(
                    CutSession(
                        session_id=session_id,
                        category=session.category,
                        principal_id=session.principal_id,
                        ended_by=session.ended_by,
                        ended_at=session.ended_at,
                        last_traffic_at=session.last_traffic_at,
                    )
                )
        return RunQuality(
            incidents=judge_incidents(incidents, sightings),
            detectors=detectors,
            session_days=dict(session_days),
            ends=dict(ends),
            cut=tuple(cut),
        )


def _end_cause(event: SessionExpired | SessionRevoked) -> str:
    if isinstance(event, SessionExpired):
        return f"expired:{event.reason.value}"
    return f"revoked:{event.cause.value}"


def _sighting(alert: Alert) -> AlertSighting:
    return AlertSighting(
        alert_id=str(alert.alert_id),
        detector=alert.detector,
        principal_id=alert.principal_id,
        session_id=alert.session_id or "",
        first_seen=alert.first_seen,
        last_seen=alert.last_seen,
    )


def tally(events: Iterable[AuthEvent], alerts: Iterable[Alert]) -> RunTally:
    """A tally of `events` and `alerts`."""
    run = RunTally()
    for event in events:
        run.add_event(event)
    for alert in alerts:
        run.add_alert(alert)
    return run
