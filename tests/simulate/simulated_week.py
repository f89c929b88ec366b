"""The simulated week the package's tests read, and ways to read it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ledger.simulate import IncidentCounts, Record, Scenario, Simulation
from schemas import AuthEvent, InvalidEvent, parse_event

WEEK = Scenario(
    humans=20,
    agents=10,
    hybrids=5,
    days=7,
    seed=7,
    incidents=IncidentCounts(),
    bad_input_rate=0.001,
)
"""A small organisation over a full week, with every kind of incident."""


@dataclass
class Week:
    """A generated week: the records, the valid events parsed back, the labels."""

    records: list[Record]
    events: list[AuthEvent]
    labels: dict[str, Any]
    rejected: dict[int, str] = field(default_factory=dict)

    @property
    def incident_event_ids(self) -> set[str]:
        """Every event id that some incident claims."""
        return {
            event_id
            for incident in self.labels["incidents"]
            for event_id in incident["event_ids"]
        }

    @property
    def principals(self) -> dict[str, dict[str, Any]]:
        """Ground truth about each principal, by id."""
        return {entry["id"]: entry for entry in self.labels["principals"]}

    def by_session(self) -> dict[str, list[AuthEvent]]:
        """Events grouped by session id, in time order."""
        grouped: dict[str, list[AuthEvent]] = defaultdict(list)
        for event in self.events:
            grouped[event.session_id].append(event)
        return grouped

    def incidents(self, kind: str) -> list[dict[str, Any]]:
        """The labelled incidents of one kind."""
        return [i for i in self.labels["incidents"] if i["kind"] == kind]


def local_zone(principal: dict[str, Any], at: datetime) -> ZoneInfo:
    """The time zone a person is in at `at`: home, or a trip's destination."""
    trip = principal.get("trip")
    if trip is not None:
        arrived = datetime.fromisoformat(trip["arrive_at"])
        leaves = datetime.fromisoformat(trip["return_depart_at"])
        if arrived <= at <= leaves:
            return ZoneInfo(trip["timezone"])
    return ZoneInfo(principal["timezone"])


def generate_week() -> Week:
    """The WEEK scenario generated in-process, its valid records parsed back."""
    simulation = Simulation(WEEK)
    records = list(simulation.records())
    events: list[AuthEvent] = []
    rejected: dict[int, str] = {}
    for index, record in enumerate(records):
        try:
            events.append(parse_event(record.value))
        except InvalidEvent as invalid:
            rejected[index] = invalid.reason
    return Week(records, events, simulation.labels(), rejected)
