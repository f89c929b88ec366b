"""The assessment report as plain values, computed from the audit store.

Every figure comes from a read-only SQL statement handed to a `Query`: a function
that runs one statement and returns a `projections.readonly.QueryResult` (the
worker's `POST /audit/query`, or `AuditStore.query`; see `ledger.cli.report`).
The dead-letter count and the simulator's labels are inputs, so the model does no
Kafka or file I/O, and the wall clock is passed in.

Definitions, kept here and in docs/report.md:

- *As of*: the newest `occurred_at` in `auth_events`, the data's own clock, not
  the wall clock, so a simulated or replayed week reads the same whenever the
  report runs.
- *Business hours*: `projections.readonly.BUSINESS_HOURS`, in UTC for everyone:
  the audit store keeps no time zone per principal.
- *Human-style baseline*: what one rule set tuned for people would have flagged in
  agent and hybrid traffic, counted in principal-hours (one alert per principal
  and hour, as alerts merge within an hour): activity outside 06:00-22:00 UTC,
  and minutes above the human rate limit of the monitors' policy. It is an
  estimate from the stored events, not a run of the detectors.
- *Human timeout*: a session whose lifetime exceeds 8 hours would have been cut.
  The lifetime runs from its first event to its end or revocation, to the
  deadline of its expiry (not to when the ledger noticed it), or, while it is
  active, to its last event.
- *Caught incident*: at least one alert names one of the incident's principals or
  sessions, and its first-to-last-seen span overlaps the incident's window
  extended by `DETECTION_GRACE` after its end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.readonly import (
    BUSINESS_HOURS,
    OUTSIDE_BUSINESS_HOURS,
    REPORTS,
    QueryResult,
)

Query = Callable[[str], QueryResult]
"""Runs one read-only statement on the audit store."""

CATEGORIES = ("user", "agent", "hybrid")
MACHINE_CATEGORIES = ("agent", "hybrid")

HUMAN_TIMEOUT_HOURS = 8
HUMAN_TIMEOUT = timedelta(hours=HUMAN_TIMEOUT_HOURS)
"""The session timeout built for people that agent sessions are measured against."""

HUMAN_DAY = (6, 22)
"""Hours (UTC, start inclusive, end exclusive) outside which a human-style
"unusual hour" rule flags activity."""

DETECTION_GRACE = timedelta(hours=1)
"""How long after an incident's end an alert still counts as catching it."""

LONGEST_SESSIONS = 10
"""Agent and hybrid sessions listed by lifetime."""

TOP_OFF_HOURS_AGENTS = 10
"""Agents listed by activity outside business hours."""

ROW_LIMIT = 100_000

SEEN_AS_SESSION = "(status != 'active' OR status_event = 'session.started')"
"""Sessions the ledger saw start or end. Activity alone (a failed login under its
own session id, a log excerpt without its start) leaves a row in session_states
that the fold never treated as a session; a start outranks activity there, so an
active session that started has `session.started` as its status event."""


@dataclass(frozen=True)
class HourlyCount:
    """Events of one category in one hour."""

    hour: datetime
    category: str
    events: int
    failures: int


@dataclass(frozen=True)
class CategoryActivity:
    """All activity of one category, and how much fell outside business hours."""

    category: str
    events: int
    failures: int
    principals: int
    off_hours_events: int
    first_hour: datetime | None
    last_hour: datetime | None

    @property
    def off_hours_share(self) -> float | None:
        """Share of the category's events outside business hours; None if none."""
        return self.off_hours_events / self.events if self.events > 0 else None


@dataclass(frozen=True)
class OffHoursPrincipal:
    """One agent's activity outside business hours."""

    principal_id: str
    principal_kind: str
    events: int
    active_hours: int


@dataclass(frozen=True)
class AlertCount:
    """Alerts of one detector in one category."""

    category: str
    detector: str
    alerts: int
    worst_severity: str
    principals: int


@dataclass(frozen=True)
class BaselineEstimate:
    """What a human-style rule set would have flagged in one category's traffic."""

    category: str
    unusual_hour_principal_hours: int
    unusual_hour_events: int
    rate_principal_hours: int
    rate_events: int
    flagged_principal_hours: int
    actual_alerts: int


@dataclass(frozen=True)
class TimeoutCount:
    """Sessions of one category measured against the human 8-hour timeout."""

    category: str
    sessions: int
    ended_past_timeout: int
    active_past_timeout: int
    longest: timedelta | None

    @property
    def interrupted(self) -> int:
        """Sessions the human timeout would have cut."""
        return self.ended_past_timeout + self.active_past_timeout


@dataclass(frozen=True)
class LongSession:
    """One agent or hybrid session that outlived the human timeout."""

    session_id: str
    category: str
    principal_id: str
    status: str
    started_at: datetime
    lifetime: timedelta


@dataclass(frozen=True)
class RevocationCount:
    """Sessions revoked for one cause in one category."""

    cause: str
    category: str
    sessions: int
    commands: int


@dataclass(frozen=True)
class TrailCounts:
    """Rows of each segregated audit trail."""

    human: int
    agent: int
    hybrid: int
    exceptions: int
    total: int


@dataclass(frozen=True)
class Incident:
    """One labelled incident of the simulator's ground truth."""

    id: str
    kind: str
    start: datetime
    end: datetime
    principals: tuple[str, ...]
    sessions: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class AlertSighting:
    """An alert as far as matching it to incidents needs."""

    alert_id: str
    detector: str
    principal_id: str
    session_id: str
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class IncidentVerdict:
    """Whether an incident was caught, and by which detectors."""

    incident: Incident
    detectors: tuple[str, ...]
    alerts: int

    @property
    def caught(self) -> bool:
        return self.alerts > 0


@dataclass(frozen=True)
class DeadLetterBreakdown:
    """The dead letters read, grouped by where they came from and why."""

    read: int
    held: int
    by_source: tuple[tuple[str, int], ...]
    by_reason: tuple[tuple[str, int], ...]

    @property
    def partial(self) -> bool:
        return self.read < self.held


@dataclass(frozen=True)
class AssessmentReport:
    """Everything the report shows; renderers only format it."""

    generated_at: datetime
    as_of: datetime | None
    source: str
    business_hours: str
    human_rate_per_minute: float
    hourly: tuple[HourlyCount, ...]
    activity: tuple[CategoryActivity, ...]
    off_hours_agents: tuple[OffHoursPrincipal, ...]
    alerts: tuple[AlertCount, ...]
    alerts_hourly: tuple[HourlyCount, ...]
    baseline: tuple[BaselineEstimate, ...]
    timeouts: tuple[TimeoutCount, ...]
    long_sessions: tuple[LongSession, ...]
    orphans_cleaned: dict[str, int]
    revocations: tuple[RevocationCount, ...]
    trails: TrailCounts
    dead_letters: int | None
    incidents: tuple[IncidentVerdict, ...] | None = None
    notes: tuple[str, ...] = field(default=())
    dead_letter_breakdown: DeadLetterBreakdown | None = None

    @property
    def total_alerts(self) -> int:
        return sum(count.alerts for count in self.alerts)

    def activity_of(self, category: str) -> CategoryActivity | None:
        """The activity of `category`, or None when it has no events."""
        return next((a for a in self.activity if a.category == category), None)


def build_report(
    query: Query,
    *,
    generated_at: datetime,
    source: str,
    dead_letters: int | None,
    human_rate_per_minute: float,
    labels: dict[str, Any] | None = None,
    dead_letter_breakdown: DeadLetterBreakdown | None = None,
) -> AssessmentReport:
    """Compute the report from the audit store behind `query`."""
    as_of = _as_of(query)
    notes: list[str] = []
    incidents = None
    if labels is not None:
        found = incidents_of(labels)
        incidents = judge_incidents(found, _sightings(query, found))
        if not found:
            notes.append("the labels file lists no incidents")
    return AssessmentReport(
        generated_at=generated_at,
        as_of=as_of,
        source=source,
        business_hours=BUSINESS_HOURS,
        human_rate_per_minute=human_rate_per_minute,
        hourly=_hourly(query),
        activity=_activity(query),
        off_hours_agents=_off_hours_agents(query),
        alerts=_alerts(query),
        alerts_hourly=_alerts_hourly(query),
        baseline=_baseline(query, human_rate_per_minute),
        timeouts=_timeouts(query, as_of),
        long_sessions=_long_sessions(query, as_of),
        orphans_cleaned=_orphans(query),
        revocations=_revocations(query),
        trails=_trails(query),
        dead_letters=dead_letters,
        incidents=incidents,
        notes=tuple(notes),
        dead_letter_breakdown=dead_letter_breakdown,
    )


# --- the queries -------------------------------------------------------------


def _records(query: Query, sql: str) -> list[dict[str, Any]]:
    result = query(sql)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _as_of(query: Query) -> datetime | None:
    [row] = _records(
        query, "SELECT count() AS events, max(occurred_at) AS newest FROM auth_events"
    )
    return parse_time(row["newest"]) if row["events"] else None


def _hourly(query: Query) -> tuple[HourlyCount, ...]:
    rows = _records(query, REPORTS["activity-by-hour"].sql)
    counts = [
        HourlyCount(parse_time(r["hour"]), r["category"], r["events"], r["failures"])
        for r in rows
    ]
    return tuple(sorted(counts, key=lambda c: (c.hour, c.category)))


def _activity(query: Query) -> tuple[CategoryActivity, ...]:
    rows = _records(
        query,
        f"""
        SELECT category, sum(events) AS total_events,
               sum(failures) AS total_failures,
               sumIf(events, {OUTSIDE_BUSINESS_HOURS}) AS off_hours_events,
               uniqExact(principal_id) AS principals,
               min(hour) AS first_hour, max(hour) AS last_hour
        FROM activity_hourly
        GROUP BY category
        HAVING total_events > 0
        ORDER BY category
        """,
    )
    return tuple(
        CategoryActivity(
            category=r["category"],
            events=r["total_events"],
            failures=r["total_failures"],
            principals=r["principals"],
            off_hours_events=r["off_hours_events"],
            first_hour=parse_time(r["first_hour"]),
            last_hour=parse_time(r["last_hour"]),
        )
        for r in rows
    )


def _off_hours_agents(query: Query) -> tuple[OffHoursPrincipal, ...]:
    rows = _records(query, REPORTS["agent-off-hours"].sql)
    return tuple(
        OffHoursPrincipal(
            r["principal_id"], r["principal_kind"], r["events"], r["active_hours"]
        )
        for r in rows[:TOP_OFF_HOURS_AGENTS]
    )


def _alerts(query: Query) -> tuple[AlertCount, ...]:
    rows = _records(query, REPORTS["alerts-by-detector"].sql)
    return tuple(
        AlertCount(
            r["category"],
            r["detector"],
            r["alerts"],
            r["worst_severity"],
            r["principals"],
        )
        for r in rows
    )


def _alerts_hourly(query: Query) -> tuple[HourlyCount, ...]:
    rows = _records(
        query,
        """
        SELECT toStartOfHour(first_seen) AS hour, category,
               uniqExact(alert_id) AS alerts
        FROM alerts
        GROUP BY hour, category
        ORDER BY hour, category
        """,
    )
    return tuple(
        HourlyCount(parse_time(r["hour"]), r["category"], r["alerts"], 0) for r in rows
    )


def _baseline(query: Query, rate_per_minute: float) -> tuple[BaselineEstimate, ...]:
    machines = ", ".join(sql_string(category) for category in MACHINE_CATEGORIES)
    early, late = HUMAN_DAY
    # Both rules yield (category, principal, hour) rows; ROLLUP's rule-less row
    # per category counts the principal-hours either rule flagged, once.
    rows = _records(
        query,
        f"""
        SELECT category, rule, uniqExact(principal_id, flagged_hour) AS hours,
               sum(events) AS events
        FROM (
            SELECT category, principal_id, 'unusual_hour' AS rule,
                   toDateTime(hour, 'UTC') AS flagged_hour,
                   toInt64(sum(events)) AS events
            FROM activity_hourly
            WHERE category IN ({machines})
              AND (toHour(hour) < {early} OR toHour(hour) >= {late})
            GROUP BY category, principal_id, hour
            HAVING events > 0
            UNION ALL
            SELECT category, principal_id, 'rate' AS rule,
                   toDateTime(toStartOfHour(minute), 'UTC') AS flagged_hour,
                   toInt64(sum(per_minute)) AS events
            FROM (
                SELECT category, principal_id,
                       toStartOfMinute(occurred_at) AS minute,
                       count() AS per_minute
                FROM auth_events
                WHERE category IN ({machines})
                GROUP BY category, principal_id, minute
                HAVING per_minute > {float(rate_per_minute)!r}
            )
            GROUP BY category, principal_id, flagged_hour
        )
        GROUP BY category, rule WITH ROLLUP
        HAVING category != ''
        ORDER BY category, rule
        """,
    )
    actual = _records(
        query,
        f"""
        SELECT category, uniqExact(alert_id) AS alerts FROM alerts
        WHERE category IN ({machines}) GROUP BY category
        """,
    )
    alerts = {r["category"]: r["alerts"] for r in actual}
    by_rule: dict[tuple[str, str], dict[str, Any]] = {
        (r["category"], r["rule"]): r for r in rows
    }
    none = {"hours": 0, "events": 0}
    return tuple(
        BaselineEstimate(
            category=category,
            unusual_hour_principal_hours=by_rule.get((category, "unusual_hour"), none)[
                "hours"
            ],
            unusual_hour_events=by_rule.get((category, "unusual_hour"), none)["events"],
            rate_principal_hours=by_rule.get((category, "rate"), none)["hours"],
            rate_events=by_rule.get((category, "rate"), none)["events"],
            flagged_principal_hours=by_rule.get((category, ""), none)["hours"],
            actual_alerts=alerts.get(category, 0),
        )
        for category in MACHINE_CATEGORIES
    )


SESSION_LIVES = """
    (SELECT states.*, expiries.first_deadline AS expiry_deadline
     FROM session_states AS states
     LEFT JOIN (
         SELECT session_id, min(deadline) AS first_deadline
         FROM auth_events
         WHERE type = 'session.expired' AND deadline IS NOT NULL
         GROUP BY session_id
     ) AS expiries USING session_id)
"""
"""`session_states` with the deadline of each session's expiry. An expiry is
stamped with the time the ledger noticed it, which in a backlog or a replay can
be long after the deadline that ended the session."""


def _lifetime_sql(as_of: datetime) -> str:
    # `as_of` caps a session that is still active: its last event is the last sign
    # of work, and a session silent for years (a log excerpt without its end) did
    # none a timeout could cut.
    end = (
        f"multiIf(status = 'active', least(last_event_at, {sql_time(as_of)}), "
        "status = 'expired' AND expiry_deadline IS NOT NULL, "
        "least(status_at, assumeNotNull(expiry_deadline)), status_at)"
    )
    return f"greatest(0, dateDiff('second', first_event_at, {end}))"


def _timeouts(query: Query, as_of: datetime | None) -> tuple[TimeoutCount, ...]:
    if as_of is None:
        return ()
    lifetime = _lifetime_sql(as_of)
    limit = int(HUMAN_TIMEOUT.total_seconds())
    rows = _records(
        query,
        f"""
        SELECT category, count() AS sessions,
               countIf(status != 'active' AND {lifetime} > {limit}) AS ended_past,
               countIf(status = 'active' AND {lifetime} > {limit}) AS active_past,
               max({lifetime}) AS longest_seconds
        FROM {SESSION_LIVES}
        WHERE {SEEN_AS_SESSION}
        GROUP BY category
        ORDER BY category
        """,
    )
    return tuple(
        TimeoutCount(
            category=r["category"],
            sessions=r["sessions"],
            ended_past_timeout=r["ended_past"],
            active_past_timeout=r["active_past"],
            longest=timedelta(seconds=r["longest_seconds"]),
        )
        for r in rows
    )


def _long_sessions(query: Query, as_of: datetime | None) -> tuple[LongSession, ...]:
    if as_of is None:
        return ()
    machines = ", ".join(sql_string(category) for category in MACHINE_CATEGORIES)
    lifetime = _lifetime_sql(as_of)
    rows = _records(
        query,
        f"""
        SELECT session_id, category, principal_id, status, first_event_at,
               {lifetime} AS lifetime_seconds
        FROM {SESSION_LIVES}
        WHERE {SEEN_AS_SESSION} AND category IN ({machines})
          AND lifetime_seconds > {int(HUMAN_TIMEOUT.total_seconds())}
        ORDER BY lifetime_seconds DESC, session_id
        LIMIT {LONGEST_SESSIONS}
        """,
    )
    return tuple(
        LongSession(
            session_id=r["session_id"],
            category=r["category"],
            principal_id=r["principal_id"],
            status=r["status"],
            started_at=parse_time(r["first_event_at"]),
            lifetime=timedelta(seconds=r["lifetime_seconds"]),
        )
        for r in rows
    )


def _orphans(query: Query) -> dict[str, int]:
    rows = _records(
        query,
        """
        SELECT category, uniqExact(session_id) AS sessions
        FROM auth_events
        WHERE type = 'session.expired' AND reason = 'heartbeat'
        GROUP BY category
        ORDER BY category
        """,
    )
    return {r["category"]: r["sessions"] for r in rows}


def _revocations(query: Query) -> tuple[RevocationCount, ...]:
    rows = _records(query, REPORTS["revocations-by-cause"].sql)
    return tuple(
        RevocationCount(r["cause"], r["category"], r["sessions"], r["commands"])
        for r in rows
    )


def _trails(query: Query) -> TrailCounts:
    [row] = _records(
        query,
        """
        SELECT (SELECT count() FROM human_trail) AS human,
               (SELECT count() FROM agent_trail) AS agent,
               (SELECT count() FROM hybrid_trail) AS hybrid,
               (SELECT count() FROM trail_exceptions) AS exceptions,
               (SELECT count() FROM auth_events) AS total
        """,
    )
    return TrailCounts(**row)


def _sightings(query: Query, incidents: Sequence[Incident]) -> list[AlertSighting]:
    principals = sorted({p for i in incidents for p in i.principals})
    sessions = sorted({s for i in incidents for s in i.sessions})
    if not principals and not sessions:
        return []
    wanted = [
        f"{column} IN ({', '.join(sql_string(v) for v in values)})"
        for column, values in (("principal_id", principals), ("session_id", sessions))
        if values
    ]
    rows = _records(
        query,
        f"""
        SELECT toString(alert_id) AS alert_id, detector, principal_id, session_id,
               first_seen, last_seen
        FROM alerts
        WHERE {" OR ".join(wanted)}
        ORDER BY first_seen, alert_id
        LIMIT {ROW_LIMIT}
        """,
    )
    return [
        AlertSighting(
            alert_id=r["alert_id"],
            detector=r["detector"],
            principal_id=r["principal_id"],
            session_id=r["session_id"],
            first_seen=parse_time(r["first_seen"]),
            last_seen=parse_time(r["last_seen"]),
        )
        for r in rows
    ]


# --- incidents (no I/O) --------------------------------------------------------


def incidents_of(labels: dict[str, Any]) -> list[Incident]:
    """The incidents of a simulator labels file; ValueError names a bad entry."""
    entries = labels.get("incidents")
    if not isinstance(entries, list):
        raise ValueError(
            "the labels file has no 'incidents' list; is it the output of "
            "`ledger simulate --labels`?"
        )
    incidents = []
    for number, entry in enumerate(entries):
        try:
            incidents.append(
                Incident(
                    id=str(entry["id"]),
                    kind=str(entry["kind"]),
                    start=parse_time(entry["start"]),
                    end=parse_time(entry["end"]),
                    principals=tuple(str(p) for p in entry.get("principals", ())),
                    sessions=tuple(str(s) for s in entry.get("sessions", ())),
                    description=str(entry.get("description", "")),
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"incident #{number} of the labels file cannot be read: {error!r}"
            ) from error
    return incidents


def judge_incidents(
    incidents: Iterable[Incident], sightings: Iterable[AlertSighting]
) -> tuple[IncidentVerdict, ...]:
    """Each incident with the alerts that caught it (see the module docstring)."""
    seen = list(sightings)
    verdicts = []
    for incident in incidents:
        matching = [alert for alert in seen if names_incident(alert, incident)]
        verdicts.append(
            IncidentVerdict(
                incident=incident,
                detectors=tuple(sorted({alert.detector for alert in matching})),
                alerts=len({alert.alert_id for alert in matching}),
            )
        )
    return tuple(verdicts)


def names_incident(alert: AlertSighting, incident: Incident) -> bool:
    """Whether `alert` names one of the incident's principals or sessions while
    the incident ran (or within `DETECTION_GRACE` after it ended)."""
    return (
        (
            alert.principal_id in incident.principals
            or alert.session_id in incident.sessions
        )
        and alert.first_seen <= incident.end + DETECTION_GRACE
        and alert.last_seen >= incident.start
    )


# --- values ------------------------------------------------------------------


def parse_time(value: Any) -> datetime:
    """A time from a query result or a labels file, as an aware UTC datetime."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def sql_string(value: str) -> str:
    """`value` as a ClickHouse string literal."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def sql_time(moment: datetime) -> str:
    """`moment` as a ClickHouse DateTime64(6, 'UTC') literal."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"toDateTime64('{text}', 6, 'UTC')"
