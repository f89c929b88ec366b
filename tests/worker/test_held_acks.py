"""Held acknowledgements: which partitions are due, and what gets acknowledged."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from ledger.worker.flushing import ASK_AGAIN_AFTER, HeldAcks


@dataclass
class Message:
    partition: int
    offset: int


@dataclass
class Event:
    message: Message


@dataclass
class Acks:
    """Records what is acknowledged, as a Faust stream's `ack` would be called."""

    acked: list[tuple[int, int]] = field(default_factory=list)

    async def ack(self, event: Event) -> bool:
        self.acked.append((event.message.partition, event.message.offset))
        return True


def events(partition: int, count: int) -> list[Event]:
    return [Event(Message(partition, offset)) for offset in range(count)]


def test_held_acks_partition_due_after_its_own_count() -> None:
    held = HeldAcks(every=3, seconds=3600)
    dues = [held.hold(event) for event in events(0, 2) + events(1, 2)]
    assert dues == [False, False, False, False]
    assert held.hold(Event(Message(0, 2))) is True
    assert held.held() == 5


def test_held_acks_release_acknowledges_one_partition_in_order() -> None:
    held = HeldAcks(every=100, seconds=3600)
    for event in events(0, 3) + events(1, 2):
        held.hold(event)
    stream = Acks()

    released = asyncio.run(held.release(0, stream))

    assert released == 3
    assert stream.acked == [(0, 0), (0, 1), (0, 2)]
    assert held.held() == 2


def test_held_acks_partition_due_once_its_first_event_is_old() -> None:
    held = HeldAcks(every=100, seconds=0.05)
    assert held.hold(Event(Message(0, 0))) is False
    time.sleep(0.06)
    assert held.hold(Event(Message(0, 1))) is True


def test_held_acks_quiet_partitions_are_asked_for_once() -> None:
    held = HeldAcks(every=100, seconds=0.05)
    held.hold(Event(Message(3, 0)))
    assert list(held.quiet()) == []
    time.sleep(0.06)
    assert list(held.quiet()) == [3]
    assert list(held.quiet()) == []
    asyncio.run(held.release(3, Acks()))
    held.hold(Event(Message(3, 1)))
    time.sleep(0.06)
    assert list(held.quiet()) == [3]


def test_held_acks_unanswered_flush_request_is_made_again() -> None:
    # A flush record dropped while Faust recovers never comes through: without a
    # second request the partition's events would stay unacknowledged for good.
    held = HeldAcks(every=100, seconds=0.1)
    held.hold(Event(Message(5, 0)))
    time.sleep(0.12)
    assert list(held.quiet()) == [5]
    time.sleep(0.12)
    assert list(held.quiet()) == [], "asked again before ASK_AGAIN_AFTER periods"
    time.sleep(0.1 * ASK_AGAIN_AFTER)
    assert list(held.quiet()) == [5]


def test_held_acks_drop_acknowledges_nothing() -> None:
    held = HeldAcks(every=100, seconds=3600)
    for event in events(0, 4):
        held.hold(event)
    stream = Acks()
    assert held.drop() == 4
    assert asyncio.run(held.release(0, stream)) == 0
    assert stream.acked == []
