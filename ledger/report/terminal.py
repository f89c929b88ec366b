"""The assessment report on a terminal, with rich.

Every string from the data goes through `printable` into a `rich.text.Text`, so it
is neither read as rich markup nor able to send escapes to the terminal.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ledger.report.model import (
    HUMAN_DAY,
    HUMAN_TIMEOUT_HOURS,
    AssessmentReport,
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

BARS = " ▁▂▃▄▅▆▇█"
DATA_WIDTH = 60


def render_terminal(report: AssessmentReport, console: Console) -> None:
    """Print every section of the report."""
    console.print(_header(report))
    for section in (
        _activity,
        _hours_of_day,
        _off_hours_agents,
        _alerts,
        _baseline,
        _timeouts,
        _long_sessions,
        _cleanup_and_revocations,
        _trails,
        _dead_letters,
        _incidents,
    ):
        rendered = section(report)
        if rendered is not None:
            console.print(rendered)
    for note in report.notes:
        console.print(Text(f"note: {note}", style="yellow"))


def _data(value: object, width: int = DATA_WIDTH) -> Text:
    return Text(printable(value, width))


def _header(report: AssessmentReport) -> Panel:
    lines = Text()
    lines.append("as of ", style="dim")
    lines.append(moment(report.as_of))
    lines.append("   (the newest event in the audit store)\n", style="dim")
    lines.append("from ", style="dim")
    lines.append(printable(report.source))
    lines.append(f", generated {moment(report.generated_at)}\n", style="dim")
    lines.append("dead letters held: ", style="dim")
    lines.append(count(report.dead_letters))
    if report.dead_letters is None:
        lines.append("  (no broker answered)", style="dim")
    return Panel(lines, title="Session ledger assessment", expand=False)


def _activity(report: AssessmentReport) -> Table | Text:
    if not report.activity:
        return Text("The audit store holds no events yet.", style="yellow")
    table = Table(
        title=f"Authentication events by category (business hours: "
        f"{report.business_hours}, the same for every principal)",
        title_justify="left",
    )
    for column in ("category", "events", "failures", "principals", "active hours"):
        table.add_column(column, justify="left" if column == "category" else "right")
    table.add_column("per active hour", justify="right")
    table.add_column("peak/hour", justify="right")
    table.add_column("outside business hours", justify="right")
    for activity in report.activity:
        hours = [h.events for h in report.hourly if h.category == activity.category]
        table.add_row(
            _data(category_name(activity.category)),
            count(activity.events),
            count(activity.failures),
            count(activity.principals),
            count(len(hours)),
            count(round(activity.events / len(hours)) if hours else 0),
            count(max(hours, default=0)),
            f"{count(activity.off_hours_events)} ({share(activity.off_hours_share)})",
        )
    return table


def _hours_of_day(report: AssessmentReport) -> Table | None:
    profile = hour_of_day_profile(report.hourly)
    if not profile:
        return None
    table = Table(
        title="Events per hour of day (UTC), each category scaled to its own peak",
        title_justify="left",
    )
    table.add_column("category")
    table.add_column("00" + " " * 10 + "12" + " " * 8 + "23")
    table.add_column("busiest hour", justify="right")
    for category, counts in profile.items():
        peak = max(counts)
        bars = "".join(
            BARS[round(value / peak * (len(BARS) - 1))] if peak else " "
            for value in counts
        )
        table.add_row(
            _data(category_name(category)),
            bars,
            f"{counts.index(peak):02d}:00" if peak else "-",
        )
    return table


def _off_hours_agents(report: AssessmentReport) -> Table | None:
    if not report.off_hours_agents:
        return None
    table = Table(
        title="Agents most active outside business hours", title_justify="left"
    )
    table.add_column("principal")
    table.add_column("kind")
    table.add_column("events", justify="right")
    table.add_column("active hours", justify="right")
    for agent in report.off_hours_agents:
        table.add_row(
            _data(agent.principal_id),
            _data(agent.principal_kind, 20),
            count(agent.events),
            count(agent.active_hours),
        )
    return table


def _alerts(report: AssessmentReport) -> Table | Text:
    if not report.alerts:
        return Text("No alerts in the audit store.", style="dim")
    table = Table(
        title=f"Alerts by category and detector ({count(report.total_alerts)} in all)",
        title_justify="left",
    )
    table.add_column("category")
    table.add_column("detector")
    table.add_column("alerts", justify="right")
    table.add_column("worst severity")
    table.add_column("principals", justify="right")
    for alert in report.alerts:
        table.add_row(
            _data(category_name(alert.category)),
            _data(alert.detector),
            count(alert.alerts),
            _data(alert.worst_severity, 12),
            count(alert.principals),
        )
    return table


def _baseline(report: AssessmentReport) -> Group:
    early, late = HUMAN_DAY
    table = Table(
        title="Agent traffic under one human-style rule set (estimate)",
        title_justify="left",
    )
    table.add_column("category")
    table.add_column(f"outside {early:02d}-{late:02d} UTC", justify="right")
    table.add_column(f"> {report.human_rate_per_minute:g} events/min", justify="right")
    table.add_column("would-be alerts", justify="right")
    table.add_column("alerts raised", justify="right")
    for row in report.baseline:
        table.add_row(
            _data(category_name(row.category)),
            f"{count(row.unusual_hour_principal_hours)} h "
            f"({count(row.unusual_hour_events)} events)",
            f"{count(row.rate_principal_hours)} h ({count(row.rate_events)} events)",
            count(row.flagged_principal_hours),
            count(row.actual_alerts),
        )
    caption = Text(
        "Would-be alerts: principal-hours flagged by either rule (one alert per "
        "principal and hour). Computed from the stored events, not by running the "
        "detectors with a uniform configuration.",
        style="dim",
    )
    return Group(table, caption)


def _timeouts(report: AssessmentReport) -> Table | None:
    if not report.timeouts:
        return None
    table = Table(
        title=f"Sessions a human {HUMAN_TIMEOUT_HOURS}-hour timeout would have cut",
        title_justify="left",
    )
    table.add_column("category")
    table.add_column("sessions", justify="right")
    table.add_column(f"ended after {HUMAN_TIMEOUT_HOURS}h", justify="right")
    table.add_column(f"still active past {HUMAN_TIMEOUT_HOURS}h", justify="right")
    table.add_column("longest", justify="right")
    for row in report.timeouts:
        table.add_row(
            _data(category_name(row.category)),
            count(row.sessions),
            count(row.ended_past_timeout),
            count(row.active_past_timeout),
            duration(row.longest),
        )
    return table


def _long_sessions(report: AssessmentReport) -> Table | None:
    if not report.long_sessions:
        return None
    table = Table(title="Longest agent and hybrid sessions", title_justify="left")
    for column in ("session", "category", "principal", "status", "started"):
        table.add_column(column)
    table.add_column("lifetime", justify="right")
    for row in report.long_sessions:
        table.add_row(
            _data(row.session_id, 40),
            _data(category_name(row.category)),
            _data(row.principal_id, 40),
            _data(row.status, 10),
            moment(row.started_at),
            duration(row.lifetime),
        )
    return table


def _cleanup_and_revocations(report: AssessmentReport) -> Group:
    orphans = Text()
    orphans.append("Orphaned sessions cleaned up (heartbeat expiry): ", style="bold")
    total = sum(report.orphans_cleaned.values())
    orphans.append(count(total))
    if report.orphans_cleaned:
        parts = ", ".join(
            f"{category_name(c)} {count(n)}" for c, n in report.orphans_cleaned.items()
        )
        orphans.append(f"  ({printable(parts)})", style="dim")
    if not report.revocations:
        return Group(orphans, Text("No revocations.", style="dim"))
    table = Table(title="Revocations by cause", title_justify="left")
    table.add_column("cause")
    table.add_column("category")
    table.add_column("sessions", justify="right")
    table.add_column("commands", justify="right")
    for row in report.revocations:
        table.add_row(
            _data(row.cause, 20),
            _data(category_name(row.category)),
            count(row.sessions),
            count(row.commands),
        )
    return Group(orphans, table)


def _trails(report: AssessmentReport) -> Table:
    trails = report.trails
    table = Table(title="Segregated audit trails (rows)", title_justify="left")
    table.add_column("trail")
    table.add_column("rows", justify="right")
    for name, rows in (
        ("human_trail", trails.human),
        ("agent_trail", trails.agent),
        ("hybrid_trail", trails.hybrid),
        ("trail_exceptions", trails.exceptions),
        ("auth_events (total)", trails.total),
    ):
        table.add_row(name, count(rows))
    return table


def _dead_letters(report: AssessmentReport) -> Group | None:
    breakdown = report.dead_letter_breakdown
    if breakdown is None or not breakdown.read:
        return None
    read = (
        f"the first {count(breakdown.read)} of {count(breakdown.held)}"
        if breakdown.partial
        else f"all {count(breakdown.read)}"
    )
    tables = []
    for title, column, groups in (
        (f"Dead letters by source ({read})", "source", breakdown.by_source),
        ("Dead letters by reason", "reason", breakdown.by_reason),
    ):
        table = Table(title=title, title_justify="left")
        table.add_column(column)
        table.add_column("records", justify="right")
        for name, records in groups:
            table.add_row(_data(name, 100), count(records))
        tables.append(table)
    return Group(*tables)


def _incidents(report: AssessmentReport) -> Table | None:
    if report.incidents is None:
        return None
    caught = sum(1 for verdict in report.incidents if verdict.caught)
    table = Table(
        title=f"Labelled incidents: {caught} of {len(report.incidents)} caught",
        title_justify="left",
    )
    for column in ("incident", "kind", "window", "verdict", "detectors"):
        table.add_column(column)
    for verdict in report.incidents:
        incident = verdict.incident
        table.add_row(
            _data(incident.id, 40),
            _data(incident.kind, 30),
            f"{moment(incident.start)} +{duration(incident.end - incident.start)}",
            Text("caught", style="green")
            if verdict.caught
            else Text("missed", style="red"),
            # Every detector is named: the list wraps rather than being cut.
            _data(", ".join(verdict.detectors) or "-", 400),
        )
    return table
