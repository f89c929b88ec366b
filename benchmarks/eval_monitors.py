"""How the monitors do on the simulator's organisation: incidents caught, noise left.

    python benchmarks/eval_monitors.py [--humans 30] [--agents 15] [--hybrids 5]
                                       [--days 7] [--seed 3]

The simulator's week (people, agents, hybrids and labelled incidents) goes
through one `MonitorEngine` with the default policy, in event-time order. The
run prints, for each incident, the detectors whose findings fall on its events
or sessions; then every finding outside the incidents, by category, detector and
severity, and the revocations outside them (which should be none). A finding on
an incident's principal outside the incident's sessions is counted as noise:
that is the strict reading.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

from ledger.simulate.scenario import Scenario
from ledger.simulate.simulation import Simulation
from monitors.engine import MonitorEngine
from schemas import InvalidEvent, parse_event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--humans", type=int, default=30)
    parser.add_argument("--agents", type=int, default=15)
    parser.add_argument("--hybrids", type=int, default=5)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=3)
    options = parser.parse_args()

    now = datetime(2026, 1, 1, tzinfo=UTC)
    scenario = Scenario(
        humans=options.humans,
        agents=options.agents,
        hybrids=options.hybrids,
        days=options.days,
        seed=options.seed,
        start=date(2025, 3, 3),
    )
    simulation = Simulation(scenario, now=now)
    engine = MonitorEngine()
    by_category: Counter[str] = Counter()
    findings = []
    revoked = []
    started = time.perf_counter()
    for record in simulation.records():
        try:
            event = parse_event(record.value, now=now)
        except InvalidEvent:
            continue
        by_category[event.category.value] += 1
        verdict = engine.observe(event)
        findings.extend((event, finding) for finding in verdict.findings)
        revoked.extend(command.session_id for command in verdict.revocations)
    elapsed = time.perf_counter() - started
    total = sum(by_category.values())
    print(
        f"{total} events ({dict(by_category)}) in {elapsed:.1f} s, "
        f"{total / elapsed:.0f} events/s with parsing"
    )

    in_incident = set()
    print("\nincidents:")
    for incident in simulation.incidents:
        events, sessions = set(incident.event_ids), set(incident.sessions)
        caught: Counter[str] = Counter()
        for index, (event, finding) in enumerate(findings):
            if str(event.event_id) in events or event.session_id in sessions:
                caught[finding.detector] += 1
                in_incident.add(index)
        print(f"  {incident.id:<32} {dict(caught) if caught else 'MISSED'}")

    noise: Counter[tuple[str, str, str]] = Counter()
    principals: dict[str, set[str]] = defaultdict(set)
    for index, (event, finding) in enumerate(findings):
        if index in in_incident:
            continue
        key = (event.category.value, finding.detector, finding.severity.value)
        noise[key] += 1
        principals[event.category.value].add(event.principal.id)
    print("\nfindings outside the incidents' sessions:")
    for (category, detector, severity), count in sorted(noise.items()):
        print(f"  {category:<7} {detector:<28} {severity:<7} {count}")
    if not noise:
        print("  none")
    incident_sessions = {s for i in simulation.incidents for s in i.sessions}
    stray = sorted(set(revoked) - incident_sessions)
    print(
        f"\nrevocations: {len(set(revoked))} sessions, {len(stray)} outside incidents"
    )


if __name__ == "__main__":
    main()
