"""The terminal report shows the figures and keeps data from driving the terminal."""

from __future__ import annotations

import io
from dataclasses import replace

from report_samples import HOSTILE_ID
from rich.console import Console

from ledger.report.model import AssessmentReport, OffHoursPrincipal
from ledger.report.terminal import render_terminal


def rendered(report: AssessmentReport) -> str:
    output = io.StringIO()
    render_terminal(report, Console(file=output, width=200, color_system=None))
    return output.getvalue()


def test_report_terminal_shows_every_section(sample_report: AssessmentReport) -> None:
    text = rendered(sample_report)

    for expected in (
        "as of 2025-03-08 23:30 UTC",
        "dead letters held: 3",
        "outside business hours",
        "9 (6.2 %)",
        "Alerts by category and detector (4 in all)",
        "6 h (6 events)",
        "1 h (130 events)",
        "Sessions a human 8-hour timeout would have cut",
        "11h 30m",
        "Orphaned sessions cleaned up (heartbeat expiry): 2",
        "policy",
        "auth_events (total)",
        "Labelled incidents: 2 of 4 caught",
        "missed",
    ):
        assert expected in text, expected


def test_report_terminal_prints_markup_and_escapes_as_text(
    sample_report: AssessmentReport,
) -> None:
    hostile = "[bold red]x[/] \x1b]0;pwned\x07 \u202eevil"
    text = rendered(
        replace(
            sample_report,
            dead_letters=None,
            off_hours_agents=(OffHoursPrincipal(hostile, "ai_agent", 1, 1),),
        )
    )

    assert "[bold red]x[/]" in text
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b]0;pwned\\x07 \\u202eevil" in text
    assert "dead letters held: unknown" in text
    assert HOSTILE_ID in text
