"""The assessment report as one self-contained HTML page.

Inline CSS, inline SVG charts (`ledger.report.charts`), no script, and a Content
Security Policy that forbids every fetch, so the page works offline and cannot
call out even if data slipped through. Every string from the data is escaped
with `html.escape`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from html import escape

from ledger.report.charts import (
    FALLBACK_COLOUR,
    Series,
    line_chart,
    paired_bars,
    stacked_bars,
)
from ledger.report.model import (
    DETECTION_GRACE,
    HUMAN_DAY,
    HUMAN_TIMEOUT_HOURS,
    AssessmentReport,
    HourlyCount,
)
from ledger.report.text import (
    category_name,
    count,
    duration,
    hour_of_day_profile,
    moment,
    printable,
    share,
)

COLOURS = {"user": "#2563eb", "agent": "#ea580c", "hybrid": "#7c3aed"}
ACTIVITY_WINDOW = timedelta(days=14)
"""The hourly chart shows the newest two weeks; tables count everything."""
ALERT_DAYS = 60

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       margin: 24px auto; max-width: 1000px; color: #111827; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #e5e7eb;
     padding-bottom: 4px; }
p.meta, p.note, figcaption { color: #4b5563; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 14px;
        min-width: 150px; background: #f9fafb; }
.card b { display: block; font-size: 22px; }
table { border-collapse: collapse; margin: 8px 0; width: 100%; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 8px; text-align: left;
         vertical-align: top; overflow-wrap: break-word; }
th { background: #f3f4f6; overflow-wrap: normal; }  /* wraps between words only */
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.caught { color: #15803d; font-weight: 600; }
.missed { color: #b91c1c; font-weight: 600; }
figure { margin: 8px 0; }
svg.chart { max-width: 100%; height: auto; }
svg .grid { stroke: #e5e7eb; stroke-width: 1; }
svg .tick { font-size: 11px; fill: #4b5563; }
svg .legend { font-size: 12px; fill: #111827; }
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(report: AssessmentReport) -> str:
    """The whole page as text."""
    body = [
        _header(report),
        _activity(report),
        _alerts(report),
        _baseline(report),
        _timeouts(report),
        _cleanup(report),
        _trails(report),
        _incidents(report),
        "".join(f'<p class="note">{_text(note)}</p>' for note in report.notes),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Session ledger assessment</title>"
        f"<style>{STYLE}</style></head><body>" + "".join(body) + "</body></html>\n"
    )


def _text(value: object, width: int | None = None) -> str:
    return escape(printable(value, width))


def _colour(category: str) -> str:
    return COLOURS.get(category, FALLBACK_COLOUR)


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]
) -> str:
    """A table; cells arrive escaped, headers are escaped here."""
    head = "".join(
        f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    lines = [
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    ]
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"
    )


def _header(report: AssessmentReport) -> str:
    total = sum(a.events for a in report.activity)
    agents = sum(a.events for a in report.activity if a.category != "user")
    cards = [
        ("events", count(total)),
        ("agent and hybrid share", share(agents / total if total else None)),
        ("alerts", count(report.total_alerts)),
        ("dead letters", count(report.dead_letters)),
    ]
    if report.incidents is not None:
        caught = sum(1 for verdict in report.incidents if verdict.caught)
        cards.append(("incidents caught", f"{caught} of {len(report.incidents)}"))
    card_html = "".join(
        f'<div class="card">{escape(name)}<b>{escape(value)}</b></div>'
        for name, value in cards
    )
    return (
        "<h1>Session ledger assessment</h1>"
        f'<p class="meta">As of {escape(moment(report.as_of))} (the newest event '
        f"in the audit store), from {_text(report.source)}; generated "
        f"{escape(moment(report.generated_at))}.</p>"
        f'<div class="cards">{card_html}</div>'
    )


def _window(hourly: Sequence[HourlyCount]) -> list[datetime]:
    if not hourly:
        return []
    last = max(entry.hour for entry in hourly)
    # From the first hour with events inside the window, so that old sample logs
    # do not leave the chart's first days empty.
    first = min(entry.hour for entry in hourly if entry.hour >= last - ACTIVITY_WINDOW)
    hours = int((last - first).total_seconds() // 3600) + 1
    return [first + timedelta(hours=n) for n in range(hours)]


def _hour_labels(hours: Sequence[datetime]) -> list[str]:
    if len(hours) <= 48:
        return [h.strftime("%H:00") if h.hour % 3 == 0 else "" for h in hours]
    return [h.strftime("%a %m-%d") if h.hour == 0 else "" for h in hours]


def _series(
    buckets: Sequence[datetime], counts: Iterable[HourlyCount], unit: str
) -> list[Series]:
    """One series per category, summed into `unit` ("hour" or "day") buckets."""
    index = {bucket: i for i, bucket in enumerate(buckets)}
    values: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(buckets))
    for entry in counts:
        start = entry.hour.replace(minute=0, second=0, microsecond=0)
        slot = index.get(start.replace(hour=0) if unit == "day" else start)
        if slot is not None:
            values[entry.category][slot] += entry.events
    ordered = [c for c in COLOURS if c in values] + sorted(
        c for c in values if c not in COLOURS
    )
    return [
        Series(category_name(c), _colour(c), values[c]) for c in ordered if c in values
    ]


def _activity(report: AssessmentReport) -> str:
    parts = ["<h2>Authentication events: agents against humans</h2>"]
    if not report.activity:
        return parts[0] + "<p>The audit store holds no events yet.</p>"
    hours = _window(report.hourly)
    shown = sum(
        entry.events for entry in report.hourly if hours and entry.hour >= hours[0]
    )
    total = sum(entry.events for entry in report.hourly)
    parts.append(
        "<figure>"
        + line_chart(
            "Events per hour by category",
            _hour_labels(hours),
            _series(hours, report.hourly, "hour"),
        )
        + f"<figcaption>Events per hour (UTC), {escape(moment(hours[0]))} to "
        f"{escape(moment(hours[-1]))}: {count(shown)} of {count(total)} events; "
        "the tables count them all.</figcaption></figure>"
    )
    profile = hour_of_day_profile(report.hourly)
    parts.append(
        "<figure>"
        + line_chart(
            "Share of each category's events by hour of day",
            [f"{hour:02d}" for hour in range(24)],
            [
                Series(
                    category_name(c),
                    _colour(c),
                    [100 * v / (sum(counts) or 1) for v in counts],
                )
                for c, counts in profile.items()
            ],
            label_every=2,
            y_unit=" %",
        )
        + "<figcaption>Hour of day (UTC): each category's events as a share of "
        "its own total.</figcaption></figure>"
    )
    rows = []
    for activity in report.activity:
        per_hour = [h.events for h in report.hourly if h.category == activity.category]
        rows.append(
            [
                _text(category_name(activity.category)),
                count(activity.events),
                count(activity.failures),
                count(activity.principals),
                count(len(per_hour)),
                count(round(activity.events / len(per_hour)) if per_hour else 0),
                count(max(per_hour, default=0)),
                count(activity.off_hours_events),
                share(activity.off_hours_share),
            ]
        )
    parts.append(
        _table(
            [
                "category",
                "events",
                "failures",
                "principals",
                "active hours",
                "events per active hour",
                "peak/hour",
                "outside business hours",
                "share",
            ],
            rows,
            {1, 2, 3, 4, 5, 6, 7, 8},
        )
    )
    parts.append(
        f'<p class="note">Business hours: {escape(report.business_hours)}, for '
        "every principal (the audit store keeps no time zone per principal).</p>"
    )
    if report.off_hours_agents:
        parts.append("<h2>Agents most active outside business hours</h2>")
        parts.append(
            _table(
                ["principal", "kind", "events", "active hours"],
                (
                    [
                        _text(a.principal_id, 80),
                        _text(a.principal_kind, 30),
                        count(a.events),
                        count(a.active_hours),
                    ]
                    for a in report.off_hours_agents
                ),
                {2, 3},
            )
        )
    return "".join(parts)


def _alert_buckets(report: AssessmentReport) -> tuple[list[datetime], str]:
    if not report.alerts_hourly:
        return [], "hour"
    first = min(entry.hour for entry in report.alerts_hourly)
    last = max(entry.hour for entry in report.alerts_hourly)
    if last - first <= timedelta(days=3):
        count_hours = int((last - first).total_seconds() // 3600) + 1
        return [first + timedelta(hours=n) for n in range(count_hours)], "hour"
    last_day = last.replace(hour=0)
    first_day = max(first.replace(hour=0), last_day - timedelta(days=ALERT_DAYS - 1))
    days = (last_day - first_day).days + 1
    return [first_day + timedelta(days=n) for n in range(days)], "day"


def _alerts_shown(buckets: Sequence[datetime], report: AssessmentReport) -> str:
    """How many alerts the chart leaves out, when it leaves any out."""
    if not buckets:
        return ""
    total = sum(entry.events for entry in report.alerts_hourly)
    shown = sum(e.events for e in report.alerts_hourly if e.hour >= buckets[0])
    if shown == total:
        return ""
    return (
        f", from {escape(moment(buckets[0]))}: {count(shown)} of {count(total)} "
        "alerts; the table counts them all"
    )


def _alerts(report: AssessmentReport) -> str:
    parts = ["<h2>Alerts by category and detector</h2>"]
    if not report.alerts:
        return parts[0] + "<p>No alerts in the audit store.</p>"
    buckets, unit = _alert_buckets(report)
    if unit == "hour":
        labels = [b.strftime("%d %H:00") if b.hour % 6 == 0 else "" for b in buckets]
    else:
        every = max(len(buckets) // 15, 1)
        labels = [
            b.strftime("%m-%d") if i % every == 0 else "" for i, b in enumerate(buckets)
        ]
    parts.append(
        "<figure>"
        + stacked_bars(
            f"Alerts per {unit} by category",
            labels,
            _series(buckets, report.alerts_hourly, unit),
        )
        + f"<figcaption>Alerts per {escape(unit)} (UTC, by first seen)"
        + _alerts_shown(buckets, report)
        + ".</figcaption></figure>"
    )
    parts.append(
        _table(
            ["category", "detector", "alerts", "worst severity", "principals"],
            (
                [
                    _text(category_name(a.category)),
                    _text(a.detector, 80),
                    count(a.alerts),
                    _text(a.worst_severity, 20),
                    count(a.principals),
                ]
                for a in report.alerts
            ),
            {2, 4},
        )
    )
    return "".join(parts)


def _baseline(report: AssessmentReport) -> str:
    early, late = HUMAN_DAY
    parts = ["<h2>Agents under one human-style rule set</h2>"]
    groups = [category_name(row.category) for row in report.baseline]
    parts.append(
        "<figure>"
        + paired_bars(
            "Would-be alerts under human rules against alerts raised",
            groups,
            [
                Series(
                    "would-be alerts (human rules)",
                    "#9ca3af",
                    [row.flagged_principal_hours for row in report.baseline],
                ),
                Series(
                    "alerts raised",
                    "#ea580c",
                    [row.actual_alerts for row in report.baseline],
                ),
            ],
        )
        + "</figure>"
    )
    parts.append(
        _table(
            [
                "category",
                f"principal-hours outside {early:02d}:00-{late:02d}:00 UTC",
                "their events",
                f"principal-hours above {report.human_rate_per_minute:g} events/min",
                "their events",
                "would-be alerts",
                "alerts raised",
            ],
            (
                [
                    _text(category_name(row.category)),
                    count(row.unusual_hour_principal_hours),
                    count(row.unusual_hour_events),
                    count(row.rate_principal_hours),
                    count(row.rate_events),
                    count(row.flagged_principal_hours),
                    count(row.actual_alerts),
                ]
                for row in report.baseline
            ),
            {1, 2, 3, 4, 5, 6},
        )
    )
    parts.append(
        '<p class="note">An estimate from the stored events, not a run of the '
        "detectors with a uniform configuration: a human-style rule set flags agent "
        f"activity outside {early:02d}:00-{late:02d}:00 UTC and minutes above the "
        "human rate limit of the monitors' policy. Would-be alerts count the "
        "principal-hours flagged by either rule, one alert per principal and hour, "
        "as alerts merge within an hour.</p>"
    )
    return "".join(parts)


def _timeouts(report: AssessmentReport) -> str:
    parts = [
        f"<h2>Sessions a human {HUMAN_TIMEOUT_HOURS}-hour timeout would have cut</h2>"
    ]
    if not report.timeouts:
        return parts[0] + "<p>No sessions in the audit store.</p>"
    parts.append(
        _table(
            [
                "category",
                "sessions",
                f"ended after {HUMAN_TIMEOUT_HOURS} h",
                f"still active past {HUMAN_TIMEOUT_HOURS} h",
                "longest",
            ],
            (
                [
                    _text(category_name(row.category)),
                    count(row.sessions),
                    count(row.ended_past_timeout),
                    count(row.active_past_timeout),
                    escape(duration(row.longest)),
                ]
                for row in report.timeouts
            ),
            {1, 2, 3, 4},
        )
    )
    parts.append(
        '<p class="note">Lifetime: from a session\'s first event to its end, '
        "expiry or revocation, or to the report's as-of time while it is active. "
        "Human sessions are listed for contrast; their own policy ends them.</p>"
    )
    if report.long_sessions:
        parts.append(
            _table(
                ["session", "category", "principal", "status", "started", "lifetime"],
                (
                    [
                        _text(row.session_id, 80),
                        _text(category_name(row.category)),
                        _text(row.principal_id, 80),
                        _text(row.status, 20),
                        escape(moment(row.started_at)),
                        escape(duration(row.lifetime)),
                    ]
                    for row in report.long_sessions
                ),
                {5},
            )
        )
    return "".join(parts)


def _cleanup(report: AssessmentReport) -> str:
    parts = ["<h2>Orphaned sessions cleaned up, and revocations</h2>"]
    orphans = sum(report.orphans_cleaned.values())
    detail = ", ".join(
        f"{category_name(c)} {count(n)}" for c, n in report.orphans_cleaned.items()
    )
    parts.append(
        f"<p>{count(orphans)} sessions expired because their heartbeats stopped"
        + (f" ({_text(detail)})" if detail else "")
        + ".</p>"
    )
    if not report.revocations:
        parts.append("<p>No revocations.</p>")
        return "".join(parts)
    parts.append(
        _table(
            ["cause", "category", "sessions", "commands"],
            (
                [
                    _text(row.cause, 30),
                    _text(category_name(row.category)),
                    count(row.sessions),
                    count(row.commands),
                ]
                for row in report.revocations
            ),
            {2, 3},
        )
    )
    return "".join(parts)


def _trails(report: AssessmentReport) -> str:
    trails = report.trails
    return (
        "<h2>Segregated audit trails</h2>"
        + _table(
            ["trail", "rows"],
            [
                ["human_trail", count(trails.human)],
                ["agent_trail", count(trails.agent)],
                ["hybrid_trail", count(trails.hybrid)],
                ["trail_exceptions (agents filed as users)", count(trails.exceptions)],
                ["auth_events (total)", count(trails.total)],
            ],
            {1},
        )
        + f"<p>Dead letters held in the dead-letter topic: "
        f"{escape(count(report.dead_letters))}.</p>" + _dead_letter_groups(report)
    )


def _dead_letter_groups(report: AssessmentReport) -> str:
    breakdown = report.dead_letter_breakdown
    if breakdown is None or not breakdown.read:
        return ""
    read = (
        f"the first {count(breakdown.read)} of {count(breakdown.held)} read"
        if breakdown.partial
        else f"all {count(breakdown.read)} read"
    )
    return (
        f"<h3>Dead letters by source ({escape(read)})</h3>"
        + _table(
            ["source", "records"],
            ([_text(name, 100), count(n)] for name, n in breakdown.by_source),
            {1},
        )
        + "<h3>Dead letters by reason</h3>"
        + _table(
            ["reason", "records"],
            ([_text(name, 100), count(n)] for name, n in breakdown.by_reason),
            {1},
        )
    )


def _incidents(report: AssessmentReport) -> str:
    if report.incidents is None:
        return ""
    caught = sum(1 for verdict in report.incidents if verdict.caught)
    parts = [
        f"<h2>Labelled incidents: {caught} of {len(report.incidents)} caught</h2>",
        '<p class="note">Caught: an alert names one of the incident\'s principals '
        "or sessions, and its first-to-last-seen span overlaps the incident's "
        f"window extended by {escape(duration(DETECTION_GRACE))}.</p>",
    ]
    rows = []
    for verdict in report.incidents:
        incident = verdict.incident
        mark = (
            '<span class="caught">caught</span>'
            if verdict.caught
            else '<span class="missed">missed</span>'
        )
        rows.append(
            [
                _text(incident.id, 60),
                _text(incident.kind, 40),
                escape(
                    f"{moment(incident.start)} "
                    f"+{duration(incident.end - incident.start)}"
                ),
                mark,
                _text(", ".join(verdict.detectors) or "-", 120),
                _text(incident.description, 200),
            ]
        )
    parts.append(
        _table(
            ["incident", "kind", "window", "verdict", "detectors", "description"],
            rows,
            set(),
        )
    )
    return "".join(parts)
