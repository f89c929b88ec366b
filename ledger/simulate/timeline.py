"""Session plans, the events they write, and their merge into one ordered timeline.

A plan says when a session (or one stream of events on a session) starts and how
its events are written. Its events are built only when the merge reaches its start,
from a random generator seeded by the scenario seed, the session id and the stream
name, so a plan writes the same events whatever else is simulated beside it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from random import Random
from typing import Any, NamedTuple
from uuid import UUID

from ledger.simulate.clock import to_datetime
from schemas.events import Event
from schemas.values import Delegation, Principal, SessionCategory, Source

Script = Callable[["SessionPlan", "EventLog"], None]


@dataclass(eq=False)
class SessionPlan:
    """One session, or one stream of events on a session, and how it unfolds.

    `start` is the time of its first event and `end` the time of its last planned
    one; `ending` says how the session ends: logout, idle (no end event; the
    ledger expires it), completed, rotated (ended for a fresh session), crashed
    (heartbeats stop, no end event), or open (still running when the period ends).
    """

    session_id: str
    principal: Principal
    category: SessionCategory
    kind: str
    start: int
    end: int
    ending: str
    script: Script
    source: Source | None = None
    stream: str = "main"
    parent_session_id: str | None = None
    delegation: Delegation | None = None
    labels: dict[str, str] = field(default_factory=dict)
    incident_id: str | None = None
    writes_end: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


class EventLog:
    """Collects the events of one plan, each with a seeded event id."""

    def __init__(self, plan: SessionPlan, seed: int) -> None:
        self.plan = plan
        self.rng = Random(f"{seed}/{plan.session_id}/{plan.stream}")
        self.entries: list[tuple[int, int, Event]] = []
        self._envelope: dict[str, Any] = {
            "session_id": plan.session_id,
            "category": plan.category,
            "principal": plan.principal,
            "labels": plan.labels,
        }
        if plan.delegation is not None:
            self._envelope["delegation"] = plan.delegation
        if plan.parent_session_id is not None:
            self._envelope["parent_session_id"] = plan.parent_session_id

    def event_id(self) -> UUID:
        """A random (version 4) UUID drawn from the plan's own generator."""
        return UUID(int=self.rng.getrandbits(128), version=4)

    def add(
        self, model: type[Event], at: int, source: Source | None = None, **fields: Any
    ) -> None:
        """Build and validate one event at simulated time `at`."""
        if at < self.plan.start:
            raise ValueError(
                f"{model.__name__} at {at} precedes the start {self.plan.start} of "
                f"plan {self.plan.session_id}/{self.plan.stream}; the merge would "
                "emit it out of order"
            )
        envelope = self._envelope
        if "session_id" in fields:
            # Failed logins carry their attempt's id, not the plan's session id.
            envelope = {**envelope, "session_id": fields.pop("session_id")}
        event = model(
            event_id=self.event_id(),
            occurred_at=to_datetime(at),
            source=source if source is not None else self.plan.source,
            **envelope,
            **fields,
        )
        self.entries.append((at, len(self.entries), event))


class TimedEvent(NamedTuple):
    """An event of the timeline and the plan that wrote it."""

    at: int
    event: Event
    plan: SessionPlan


def merge(plans: list[SessionPlan], seed: int, until: int) -> Iterator[TimedEvent]:
    """Every plan's events before `until`, in time order.

    Ties are broken by session id, then by the plan's rank in (start, session id,
    stream) order, then by the order the plan wrote them, so the order never
    depends on anything but the plans.
    """
    ordered = sorted(plans, key=lambda p: (p.start, p.session_id, p.stream))
    built: list[list[tuple[int, int, Event]]] = [[] for _ in ordered]
    cursors = [0] * len(ordered)
    heap: list[tuple[int, str, int, int]] = []
    upcoming = 0
    while heap or upcoming < len(ordered):
        # Build every plan that starts no later than the next event due.
        while upcoming < len(ordered) and (
            not heap or ordered[upcoming].start <= heap[0][0]
        ):
            plan = ordered[upcoming]
            log = EventLog(plan, seed)
            plan.script(plan, log)
            if log.entries:
                log.entries.sort(key=_by_time)
                built[upcoming] = log.entries
                at, seq, _ = log.entries[0]
                heapq.heappush(heap, (at, plan.session_id, upcoming, seq))
            upcoming += 1
        if not heap:
            return
        at, session_id, rank, _ = heap[0]
        if at >= until:
            # Every plan starting before `until` is built by now, so the rest is
            # later still.
            return
        entries = built[rank]
        cursor = cursors[rank]
        event = entries[cursor][2]
        cursor += 1
        if cursor < len(entries):
            cursors[rank] = cursor
            following = entries[cursor]
            heapq.heapreplace(heap, (following[0], session_id, rank, following[1]))
        else:
            heapq.heappop(heap)
            built[rank] = []
        yield TimedEvent(at, event, ordered[rank])


def _by_time(entry: tuple[int, int, Event]) -> tuple[int, int]:
    return entry[0], entry[1]
