"""Replay properties of the fold, over random valid histories (hypothesis).

- Folding the same events twice from nothing gives the same records.
- Re-applying an event at an offset already applied changes nothing.
- A miniature ledger that appends the fold's effects and ticks expiries, like the
  worker does, ends with the same records as a replay of what it appended.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from session_events import (
    INVOICES,
    access,
    agent_started,
    at,
    ended,
    heartbeat,
    hybrid_started,
    refreshed,
    task_completed,
    user_started,
)

from ledger.domain.fold import apply
from ledger.domain.lifecycle import due_expiry, mark_expiry_pending
from ledger.domain.records import SessionRecord
from ledger.policy import Policy
from schemas import Event, Scope

POLICY = Policy()
SESSIONS = ("u1", "a1", "a2", "h1")
OPERATIONS = ("start", "beat", "access", "stray", "refresh", "complete", "end", "tick")
TICK = "tick"


def _event(operation: str, session: str, minute: int, step: int) -> Event | str:
    when = at(minute)
    if operation == TICK:
        return TICK
    if operation == "start":
        return {
            "u1": lambda: user_started("u1", when, scopes=(INVOICES,)),
            "a1": lambda: agent_started(
                "a1", when, task="t1", ttl=120, parent_session_id="u1"
            ),
            "a2": lambda: agent_started("a2", when, ttl=300, parent_session_id="a1"),
            "h1": lambda: hybrid_started(
                "h1",
                "u1",
                when,
                scopes=(Scope(resource="s3://*", operations=("read",)),)
                if step % 2
                else (INVOICES,),
            ),
        }[session]()
    made = {
        "beat": lambda: heartbeat(session, when),
        "access": lambda: access(session, when, "s3://invoices/a.pdf"),
        "stray": lambda: access(session, when, "s3://hr/salaries.csv"),
        "refresh": lambda: refreshed(session, when),
        "complete": lambda: task_completed(session, when, "t1"),
        "end": lambda: ended(session, when),
    }[operation]()
    # Deterministic ids, so that two builds of one history are equal.
    return made.model_copy(update={"event_id": uuid.UUID(int=step)})


histories = st.lists(
    st.tuples(
        st.sampled_from(OPERATIONS), st.sampled_from(SESSIONS), st.integers(0, 50)
    ),
    max_size=40,
)


def _build(steps: list[tuple[str, str, int]]) -> list[Event | str]:
    minute, items = 0, []
    for step, (operation, session, advance) in enumerate(steps):
        minute += advance
        items.append(_event(operation, session, minute, step))
    return items


def _fold(events: list[Event]) -> dict[str, SessionRecord]:
    records: dict[str, SessionRecord] = {}
    for offset, event in enumerate(events):
        record, _ = apply(
            records.get(event.session_id), event, POLICY, partition=0, offset=offset
        )
        if record is not None:
            records[event.session_id] = record
    return records


def _ledger(
    topic: list[Event | str], append: bool
) -> tuple[dict[str, SessionRecord], list[Event | str]]:
    """The worker's loop in miniature: fold, append effects, expire at ticks."""
    records: dict[str, SessionRecord] = {}
    log = list(topic)
    watermark = at(0)
    offset = 0
    while offset < len(log):
        item = log[offset]
        appended: list[Event] = []
        if item == TICK:
            watermark += timedelta(minutes=1)
        else:
            record, effects = apply(
                records.get(item.session_id), item, POLICY, partition=0, offset=offset
            )
            if record is not None:
                records[item.session_id] = record
            appended.extend(effects)
            watermark = max(watermark, item.occurred_at)
        for session, record in sorted(records.items()):
            expiry = due_expiry(record, watermark)
            if expiry is not None:
                records[session] = mark_expiry_pending(record, expiry)
                appended.append(expiry)
        if append:
            log.extend(appended)
        offset += 1
    return records, log


@settings(max_examples=150, deadline=None)
@given(histories)
def test_fold_same_history_twice_gives_same_records(steps) -> None:
    events = [item for item in _build(steps) if item != TICK]

    assert _fold(events) == _fold([*events])


@settings(max_examples=150, deadline=None)
@given(histories)
def test_fold_reapplying_applied_offset_changes_nothing(steps) -> None:
    events = [item for item in _build(steps) if item != TICK]
    records = _fold(events)

    for offset, event in enumerate(events):
        record = records.get(event.session_id)
        if record is None:
            continue
        again, effects = apply(record, event, POLICY, partition=0, offset=offset)
        assert again == record
        assert effects == ()


@settings(max_examples=150, deadline=None)
@given(histories)
def test_ledger_replay_of_its_own_log_gives_live_records(steps) -> None:
    live, log = _ledger(_build(steps), append=True)

    replayed, replay_log = _ledger(log, append=False)

    assert replayed == live
    assert replay_log == log
