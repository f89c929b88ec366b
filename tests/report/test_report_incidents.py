"""Incidents from a labels file, and when an alert catches one; no store needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.report.model import (
    DETECTION_GRACE,
    AlertSighting,
    Incident,
    incidents_of,
    judge_incidents,
)

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
INCIDENT = Incident(
    id="inc-1",
    kind="stolen_agent_token",
    start=START,
    end=END,
    principals=("svc-a",),
    sessions=("sess-a",),
    description="",
)


def sighting(
    first: datetime, principal: str = "svc-a", session: str = ""
) -> AlertSighting:
    return AlertSighting(
        alert_id=f"alert-{first.isoformat()}-{principal}-{session}",
        detector="agent_new_source",
        principal_id=principal,
        session_id=session,
        first_seen=first,
        last_seen=first,
    )


def test_incident_alert_at_the_end_of_the_grace_catches_it() -> None:
    [verdict] = judge_incidents([INCIDENT], [sighting(END + DETECTION_GRACE)])

    assert verdict.caught
    assert verdict.detectors == ("agent_new_source",)


def test_incident_alert_after_the_grace_misses_it() -> None:
    late = END + DETECTION_GRACE + timedelta(seconds=1)

    [verdict] = judge_incidents([INCIDENT], [sighting(late)])

    assert not verdict.caught


def test_incident_alert_before_the_start_misses_it() -> None:
    [verdict] = judge_incidents([INCIDENT], [sighting(START - timedelta(seconds=1))])

    assert not verdict.caught


def test_incident_alert_on_its_session_under_another_principal_catches_it() -> None:
    alerts = [sighting(START, principal="someone-else", session="sess-a")]

    [verdict] = judge_incidents([INCIDENT], alerts)

    assert verdict.alerts == 1


def test_incident_alert_on_another_principal_and_session_misses_it() -> None:
    [verdict] = judge_incidents([INCIDENT], [sighting(START, principal="svc-b")])

    assert not verdict.caught


def test_incidents_of_reads_times_with_z_suffix() -> None:
    [incident] = incidents_of(
        {
            "incidents": [
                {
                    "id": "inc-9",
                    "kind": "brute_force",
                    "start": "2025-03-03T09:00:00Z",
                    "end": "2025-03-03T09:30:00Z",
                    "principals": ["bob@example.com"],
                }
            ]
        }
    )

    assert (incident.start, incident.end) == (START, END)
    assert incident.sessions == ()


@pytest.mark.parametrize(
    "entry", [1, {"id": "x"}, {"id": "x", "kind": "k", "start": "nope", "end": ""}]
)
def test_incidents_of_malformed_entry_is_refused_by_number(entry: object) -> None:
    with pytest.raises(ValueError, match="incident #0 of the labels file"):
        incidents_of({"incidents": [entry]})
