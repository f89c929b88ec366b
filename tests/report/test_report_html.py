"""The HTML report is self-contained and shows hostile strings as text."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser

from report_samples import HOSTILE_DESCRIPTION, HOSTILE_ID

from ledger.report.html import render_html
from ledger.report.model import (
    AlertCount,
    AssessmentReport,
    HourlyCount,
    LongSession,
    OffHoursPrincipal,
    RevocationCount,
)

HOSTILE = '"><script>alert(1)</script><a href="https://evil.example/x">'
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div",
    "b", "span", "figure", "figcaption", "table", "thead", "tbody", "tr", "th",
    "td", "svg", "line", "polyline", "rect", "text",
}  # fmt: skip


class PageParts(HTMLParser):
    """Tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> PageParts:
    parts = PageParts()
    parts.feed(page)
    parts.close()
    return parts


def hostile(report: AssessmentReport) -> AssessmentReport:
    """The report with hostile text in every field a renderer shows."""
    return replace(
        report,
        source=HOSTILE,
        off_hours_agents=(OffHoursPrincipal(HOSTILE, HOSTILE, 5, 2),),
        alerts=(*report.alerts, AlertCount(HOSTILE, HOSTILE, 1, HOSTILE, 1)),
        long_sessions=(
            LongSession(
                HOSTILE,
                HOSTILE,
                HOSTILE,
                HOSTILE,
                report.long_sessions[0].started_at,
                report.long_sessions[0].lifetime,
            ),
        ),
        orphans_cleaned={HOSTILE: 1},
        revocations=(RevocationCount(HOSTILE, HOSTILE, 1, 1),),
        notes=(HOSTILE,),
    )


def test_report_html_has_no_external_reference(
    sample_report: AssessmentReport,
) -> None:
    parts = parse(render_html(hostile(sample_report)))

    assert set(parts.tags) <= ALLOWED_TAGS, set(parts.tags) - ALLOWED_TAGS
    names = {name for name, _ in parts.attributes}
    assert not names & {"src", "href", "xlink:href", "action", "srcset"}
    assert not [name for name in names if name.startswith("on")]
    assert not [v for _, v in parts.attributes if "http:" in v or "https:" in v]
    [policy] = [v for n, v in parts.attributes if v.startswith("default-src")]
    assert "default-src 'none'" in policy


def test_report_html_escapes_hostile_strings(sample_report: AssessmentReport) -> None:
    page = render_html(hostile(sample_report))
    parts = parse(page)

    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = "".join(parts.text)
    # Shown verbatim as text: in tables, notes, the header, the incidents.
    assert text.count(HOSTILE) >= 8
    assert HOSTILE_ID in text
    assert HOSTILE_DESCRIPTION in text


def test_report_html_escapes_control_characters(
    sample_report: AssessmentReport,
) -> None:
    page = render_html(replace(sample_report, source="x\x1b[2J\u202eevil"))

    assert "\x1b" not in page
    assert "\u202e" not in page
    assert "x\\x1b[2J\\u202eevil" in page


def test_report_html_alert_chart_says_how_many_alerts_it_leaves_out(
    sample_report: AssessmentReport,
) -> None:
    newest = max(entry.hour for entry in sample_report.alerts_hourly)
    old = HourlyCount(newest - timedelta(days=400), "agent", 3, 0)
    years_apart = replace(
        sample_report, alerts_hourly=(*sample_report.alerts_hourly, old)
    )
    total = sum(entry.events for entry in years_apart.alerts_hourly)

    text = "".join(parse(render_html(years_apart)).text)
    assert f"{total - 3} of {total} alerts; the table counts them all" in text
    assert "alerts; the table counts" not in "".join(
        parse(render_html(sample_report)).text
    )
