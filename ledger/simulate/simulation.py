"""A scenario turned into records in event-time order, and their ground truth."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from random import Random
from typing import Any, NamedTuple

from ledger.simulate import malformed
from ledger.simulate.agents import plan_agents
from ledger.simulate.clock import from_datetime, iso
from ledger.simulate.humans import plan_human
from ledger.simulate.hybrids import plan_hybrids
from ledger.simulate.incidents import Incident, inject_incidents
from ledger.simulate.population import build_population
from ledger.simulate.scenario import Scenario
from ledger.simulate.timeline import SessionPlan, merge
from schemas.parsing import serialize
from schemas.values import SessionCategory

LABELS_FORMAT = "session-ledger/simulation-labels/1"


class Record(NamedTuple):
    """One record for auth.events: Kafka key, value, and its event time."""

    key: bytes | None
    value: bytes
    at: int
    malformed: str | None = None


class Simulation:
    """The events of a scenario, generated lazily, with the labels that explain them."""

    def __init__(self, scenario: Scenario, now: datetime | None = None) -> None:
        scenario.check(now or datetime.now(UTC))
        self.scenario = scenario
        self.start = from_datetime(scenario.start_at)
        self.end = from_datetime(scenario.end_at)
        self.population = build_population(scenario)
        user_plans = [
            plan
            for human in self.population.humans
            for plan in plan_human(human, scenario, self.start, self.end)
        ]
        self.plans: list[SessionPlan] = [
            *user_plans,
            *plan_agents(self.population, scenario, self.start, self.end),
            *plan_hybrids(self.population, user_plans, scenario),
        ]
        self.incidents: list[Incident] = []
        self.skipped: list[dict[str, str]] = []
        inject_incidents(self)
        self._reset_counts()

    def _reset_counts(self) -> None:
        self.by_type: Counter[str] = Counter()
        self.by_category: Counter[SessionCategory] = Counter()
        self.bad_input: list[dict[str, Any]] = []
        self.records_written = 0
        for incident in self.incidents:
            incident.event_ids.clear()

    def records(self) -> Iterator[Record]:
        """Every record in event-time order; labels() is complete once this ends."""
        self._reset_counts()
        # The events of the running plans are tens of thousands of live objects
        # without reference cycles; the cyclic collector would rescan them over and
        # over, which doubled the run time. Reference counting frees them anyway.
        collecting = gc.isenabled()
        gc.disable()
        try:
            yield from self._records()
        finally:
            if collecting:
                gc.enable()

    def _records(self) -> Iterator[Record]:
        incidents = {incident.id: incident for incident in self.incidents}
        rate = self.scenario.bad_input_rate
        rng = Random(f"{self.scenario.seed}/bad-input")
        by_type, by_category = self.by_type, self.by_category
        for at, event, plan in merge(self.plans, self.scenario.seed, self.end):
            value = serialize(event)
            by_type[event.type] += 1
            by_category[plan.category] += 1
            if plan.incident_id is not None:
                incidents[plan.incident_id].event_ids.append(str(event.event_id))
            yield Record(event.session_id.encode(), value, at)
            self.records_written += 1
            if rate and rng.random() < rate:
                kind = malformed.KINDS[len(self.bad_input) % len(malformed.KINDS)]
                bad, key = malformed.malformed(kind, value, rng)
                self.bad_input.append(
                    {
                        "index": self.records_written,
                        "kind": kind,
                        "key": key.decode() if key is not None else None,
                        "at": iso(at),
                    }
                )
                yield Record(key, bad, at, kind)
                self.records_written += 1

    def labels(self) -> dict[str, Any]:
        """The ground truth: population, sessions, incidents, malformed records."""
        kinds = Counter(entry["kind"] for entry in self.bad_input)
        return {
            "format": LABELS_FORMAT,
            "scenario": self.scenario.describe(),
            "period": {"start": iso(self.start), "end": iso(self.end)},
            "counts": {
                "records": self.records_written,
                "events": sum(self.by_type.values()),
                "bad_input": len(self.bad_input),
                "by_type": dict(sorted(self.by_type.items())),
                "by_category": {
                    str(category.value): count
                    for category, count in sorted(self.by_category.items())
                },
            },
            "incidents": [incident.describe() for incident in self.incidents],
            "skipped_incidents": self.skipped,
            "bad_input": {
                "total": len(self.bad_input),
                "by_kind": {kind: kinds[kind] for kind in malformed.KINDS},
                "records": self.bad_input,
            },
            "principals": self._principals(),
            "sessions": self._sessions(),
        }

    def _principals(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        scripted = {
            principal
            for incident in self.incidents
            if incident.kind == "scripted_human"
            for principal in incident.principals
        }
        for human in self.population.humans:
            entry: dict[str, Any] = {
                "id": human.id,
                "category": "user",
                "kind": "human",
                "role": human.role,
                "city": human.home.name,
                "country": human.home.country,
                "timezone": human.home.zone_name,
                "scripted": human.id in scripted,
            }
            if human.trip is not None:
                trip = human.trip
                entry["trip"] = {
                    "city": trip.destination.name,
                    "country": trip.destination.country,
                    "timezone": trip.destination.zone_name,
                    "depart_at": iso(trip.depart_at),
                    "arrive_at": iso(trip.arrive_at),
                    "return_depart_at": iso(trip.return_depart_at),
                    "return_arrive_at": iso(trip.return_arrive_at),
                }
            entries.append(entry)
        for agent in self.population.agents:
            entries.append(
                {
                    "id": agent.id,
                    "category": "agent",
                    "kind": agent.principal.kind.value,
                    "agent_type": agent.agent_type,
                    "owner": agent.principal.owner,
                    "regions": [region.name for region in agent.regions],
                    "flaky": agent.flaky,
                    "fleet": agent.fleet,
                    "orchestrator": agent.orchestrator,
                }
            )
        for assistant in self.population.assistants:
            entries.append(
                {
                    "id": assistant.id,
                    "category": "hybrid",
                    "kind": assistant.principal.kind.value,
                    "agent_type": assistant.principal.agent_type,
                    "acts_for": assistant.user.id,
                    "actors": [actor.id for actor in assistant.actors],
                }
            )
        return entries

    def _sessions(self) -> list[dict[str, Any]]:
        entries = []
        for plan in sorted(self.plans, key=lambda p: (p.start, p.session_id)):
            if plan.stream != "main" or plan.start >= self.end:
                continue
            ending = plan.ending if plan.end < self.end else "open"
            entry: dict[str, Any] = {
                "session_id": plan.session_id,
                "principal_id": plan.principal.id,
                "category": plan.category.value,
                "kind": plan.kind,
                "start": iso(plan.start),
                "end": iso(min(plan.end, self.end)),
                "ending": ending,
            }
            if plan.parent_session_id:
                entry["parent_session_id"] = plan.parent_session_id
            if plan.delegation is not None:
                entry["acts_for_session_id"] = plan.delegation.subject_session_id
            if plan.incident_id:
                entry["incident_id"] = plan.incident_id
            entries.append(entry)
        return entries
