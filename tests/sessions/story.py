"""Fourteen simulated hours of sessions, sent minute by minute with ticks.

Every case of the acceptance tests lives in this one story, so that one live
worker (stopped and restarted at hour 6) and one replay worker cover them all.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from ledger.worker.clock import send_ticks
from schemas import (
    AccessRecorded,
    Actor,
    Delegation,
    Event,
    HeartbeatReceived,
    LifecycleRequest,
    Principal,
    PrincipalKind,
    Scope,
    SessionCategory,
    SessionEnded,
    SessionStarted,
    TaskCompleted,
    serialize,
)

PARTITIONS = 4
T0 = datetime(2025, 6, 2, 20, 0, tzinfo=UTC)
TICK_MINUTES = 1
TTL_SECONDS = 120

JOB = "job-overnight"
STALLED = "job-stalled"
IDLE_USER = "user-idle"
LONG_USER = "user-long"
HYBRID_USER = "user-with-copilot"
HYBRID = "copilot-for-user"
GREEDY = "copilot-greedy"
RESTART_USER = "user-idle-at-restart"
SLASHED = "svc/batch/7:night"

RESTART_MINUTE = 360
LAST_MINUTE = 840

ALICE = Principal(id="alice@example.com", kind=PrincipalKind.HUMAN)
BOB = Principal(id="bob@example.com", kind=PrincipalKind.HUMAN)
DOC_BOT = Principal(
    id="svc-docproc@acme", kind=PrincipalKind.AI_AGENT, agent_type="document_processor"
)
COPILOT = Principal(id="agent:copilot", kind=PrincipalKind.AI_AGENT)
INVOICES = Scope(resource="s3://invoices/*", operations=("read", "list"))


def partition_of(session_id: str) -> int:
    """The partition Java's and aiokafka's murmur2 partitioner picks."""
    return (murmur2(session_id.encode()) & 0x7FFFFFFF) % PARTITIONS


def chain_on_distinct_partitions() -> tuple[str, str, str]:
    """Root, middle and leaf session ids that hash to three different partitions."""
    for n in range(1000):
        ids = (f"chain-root-{n}", f"chain-mid-{n}", f"chain-leaf-{n}")
        if len({partition_of(session) for session in ids}) == 3:
            return ids
    raise AssertionError("no chain of ids on distinct partitions")


ROOT, MID, LEAF = chain_on_distinct_partitions()


def at(minute: float) -> datetime:
    """Simulated time `minute` minutes into the story."""
    return T0 + timedelta(minutes=minute)


def iso(minute: float) -> str:
    """`at(minute)` as the worker reports watermarks."""
    return at(minute).isoformat()


def _envelope(session: str, minute: float, principal: Principal, **more) -> dict:
    category = more.pop("category", None) or (
        SessionCategory.USER
        if principal.kind is PrincipalKind.HUMAN
        else SessionCategory.AGENT
    )
    return {
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"story:{session}:{minute}:{more}"),
        "occurred_at": at(minute),
        "session_id": session,
        "category": category,
        "principal": principal,
        **more,
    }


def _start(session: str, minute: float, principal: Principal, **more) -> Event:
    return SessionStarted(**_envelope(session, minute, principal), **more)


def _agent(session: str, minute: float, **lifecycle) -> Event:
    return SessionStarted(
        **_envelope(session, minute, DOC_BOT),
        lifecycle=LifecycleRequest(**lifecycle),
        scopes=(INVOICES,),
    )


def _hybrid(session: str, minute: float, scopes: tuple[Scope, ...]) -> Event:
    delegation = Delegation(
        subject=BOB.id,
        subject_session_id=HYBRID_USER,
        actors=(Actor(id=COPILOT.id, kind=COPILOT.kind),),
    )
    return SessionStarted(
        **_envelope(session, minute, COPILOT, category=SessionCategory.HYBRID),
        delegation=delegation,
        parent_session_id=HYBRID_USER,
        scopes=scopes,
    )


def _beat(session: str, minute: float) -> Event:
    return HeartbeatReceived(**_envelope(session, minute, DOC_BOT))


def _access(session: str, minute: float, principal: Principal = ALICE) -> Event:
    return AccessRecorded(
        **_envelope(session, minute, principal),
        resource="s3://invoices/2025/06/inv-1.pdf",
        operation="read",
    )


def events_at(minute: int) -> list[Event]:
    """The producers' events of one simulated minute, in time order."""
    found: list[Event] = []
    if minute == 0:
        found += [
            _agent(JOB, 0, task_id="doc-batch", heartbeat_ttl_seconds=TTL_SECONDS),
            _agent(STALLED, 0, heartbeat_ttl_seconds=TTL_SECONDS),
            _start(IDLE_USER, 0, ALICE),
            _start(LONG_USER, 0, ALICE),
            _agent(SLASHED, 0),
        ]
    if 1 <= minute <= 600:
        found.append(_beat(JOB, minute))
        if minute % 30 == 0:
            found.append(_access(JOB, minute + 0.5, DOC_BOT))
    if minute == 600:
        found.append(
            TaskCompleted(
                **_envelope(JOB, 600.5, DOC_BOT),
                task_id="doc-batch",
                outcome="succeeded",
            )
        )
    if 1 <= minute <= 180:
        found.append(_beat(STALLED, minute))
    if minute == 5:
        found.append(_access(IDLE_USER, 5))
    if minute % 10 == 0 and 0 < minute <= 780:
        found.append(_access(LONG_USER, minute))
    # A three-level chain on three partitions; the root logs out at minute 30.
    if minute == 10:
        found += [
            _start(ROOT, 10, ALICE),
            SessionStarted(
                **_envelope(MID, 10.2, DOC_BOT, parent_session_id=ROOT),
            ),
            SessionStarted(
                **_envelope(LEAF, 10.4, DOC_BOT, parent_session_id=MID),
            ),
        ]
    if minute == 15:
        found.append(_access(ROOT, 15))
    if minute == 30:
        found.append(SessionEnded(**_envelope(ROOT, 30, ALICE), reason="logout"))
    # A user whose copilot dies with the user's idle expiry at minute 50.
    if minute == 20:
        found.append(_start(HYBRID_USER, 20, BOB, scopes=(INVOICES,)))
    if minute == 21:
        narrower = Scope(resource="s3://invoices/2025/*", operations=("read",))
        found.append(_hybrid(HYBRID, 21, (narrower,)))
    if minute == 22:
        wider = Scope(resource="s3://*", operations=("read", "write"))
        found.append(_hybrid(GREEDY, 22, (wider,)))
    if minute == 25:
        found.append(_access(HYBRID, 25, COPILOT))
    # Idle deadline exactly at the restart.
    if minute == RESTART_MINUTE - 30:
        found.append(_start(RESTART_USER, RESTART_MINUTE - 30, ALICE))
    return found


async def play(bootstrap: str, topic: str, first: int, last: int) -> None:
    """Send the story's events and ticks of minutes `first` to `last`."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        for minute in range(first, last + 1):
            sent = [
                await producer.send(
                    topic, serialize(event), key=event.session_id.encode()
                )
                for event in events_at(minute)
            ]
            for delivery in sent:
                await delivery
            if minute % TICK_MINUTES == 0:
                await send_ticks(producer, topic, PARTITIONS, at(minute))
    finally:
        await producer.stop()
