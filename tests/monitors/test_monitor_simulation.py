"""On the simulator's organisation: every labelled incident is caught, and normal
work revokes nothing.

A week of a small organisation (people, agents, hybrids, with the simulator's
labelled incidents) goes through one engine with the default policy. A finding
belongs to an incident when its event or session is one of the incident's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from ledger.simulate.scenario import Scenario
from ledger.simulate.simulation import Simulation
from monitors.engine import MonitorEngine
from schemas import InvalidEvent, Severity, parse_event

pytestmark = pytest.mark.slow

SCENARIO = Scenario(
    humans=24, agents=12, hybrids=4, days=7, seed=3, start=date(2025, 3, 3)
)

# The detectors of which at least one must catch each kind of incident. A token
# stolen on the agent's first day is before its network baseline has warmed up;
# the replayed reads outside the grant catch it then.
EXPECTED = {
    "stolen_agent_token": {"agent_new_network", "agent_out_of_scope"},
    "compromised_agent": {"agent_out_of_scope"},
    "account_takeover": {"user_impossible_travel"},
    "brute_force": {"user_brute_force"},
    "token_reuse": {"use_after_end"},
    "hybrid_after_logout": {"hybrid_subject_gone"},
    "scripted_human": {"user_machine_like"},
}


@pytest.fixture(scope="module")
def judged() -> dict:
    simulation = Simulation(SCENARIO, now=datetime(2026, 1, 1, tzinfo=UTC))
    engine = MonitorEngine()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    findings, revoked = [], []
    for record in simulation.records():
        try:
            event = parse_event(record.value, now=now)
        except InvalidEvent:
            continue
        verdict = engine.observe(event)
        findings.extend((event, finding) for finding in verdict.findings)
        revoked.extend(command.session_id for command in verdict.revocations)
    return {
        "incidents": simulation.incidents,
        "findings": findings,
        "revoked": revoked,
    }


def test_simulation_every_incident_is_caught_by_its_detector(judged) -> None:
    caught: dict[str, set[str]] = defaultdict(set)
    for incident in judged["incidents"]:
        events, sessions = set(incident.event_ids), set(incident.sessions)
        for event, finding in judged["findings"]:
            if str(event.event_id) in events or event.session_id in sessions:
                caught[incident.id].add(finding.detector)
    missed = {
        incident.id: sorted(caught[incident.id])
        for incident in judged["incidents"]
        if not EXPECTED[incident.kind] & caught[incident.id]
    }
    assert {incident.kind for incident in judged["incidents"]} == set(EXPECTED)
    assert missed == {}


def test_simulation_normal_work_revokes_no_session(judged) -> None:
    incident_sessions = {s for i in judged["incidents"] for s in i.sessions}
    assert judged["revoked"]  # the incidents do revoke
    assert set(judged["revoked"]) <= incident_sessions


def test_simulation_normal_agent_work_raises_nothing_above_low(judged) -> None:
    incident_principals = {p for i in judged["incidents"] for p in i.principals}
    noisy = [
        (event.principal.id, finding.detector, finding.severity.value)
        for event, finding in judged["findings"]
        if event.category.value != "user"
        and event.principal.id not in incident_principals
        and finding.severity > Severity.LOW
    ]
    assert noisy == []
