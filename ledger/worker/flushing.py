"""Acknowledgements held back until the table changes of their events are written.

An agent that keeps table changes in memory and writes them once for many events
(write-back) must not let Faust commit the offsets of those events before the
write: a crash in between would lose their effect for good. `HeldAcks` keeps the
events of each partition, unacknowledged, until the agent has flushed that
partition's changes, then acknowledges them all.

A partition that falls quiet would keep its last events waiting forever, since
Faust lets a table be written only while an event of the same partition is being
processed. The worker's timer therefore asks for a flush by sending a control
record (header `ledger-control: flush`) to each partition that has waited
`seconds`; the agent flushes when that record comes through. A request whose
record never comes through (a record can be dropped from an agent's buffer
while Faust recovers tables or rebalances) is made again after `ASK_AGAIN_AFTER`
request periods: without that, a partition with no more traffic kept its
events unacknowledged for good, and its consumer group never caught up.

On a rebalance Faust seeks every partition back to its committed offset, so the
held events come again: the agent drops what it held (`drop`) and the changes it
had not written, and applies the events again to the state last written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from faust.types import EventT, StreamT

FLUSH = b"flush"
"""The `ledger-control` header value of a record that asks for a flush."""

ASK_AGAIN_AFTER = 5
"""Request periods (`seconds`) after which an unanswered flush request is repeated."""


class HeldAcks:
    """Unacknowledged events by partition, and when each partition is due."""

    def __init__(self, every: int, seconds: float) -> None:
        self.every = every
        self.seconds = seconds
        self._events: dict[int, list[EventT]] = {}
        self._since: dict[int, float] = {}
        self._last: dict[int, float] = {}
        # When a flush was last asked for, per partition still waiting for it.
        self._requested: dict[int, float] = {}

    def hold(self, event: EventT) -> bool:
        """Keep `event` unacknowledged; whether its partition is due for a flush."""
        partition = event.message.partition
        now = time.monotonic()
        events = self._events.get(partition)
        if events is None:
            events = self._events[partition] = []
            self._since[partition] = now
        events.append(event)
        self._last[partition] = now
        return len(events) >= self.every or now - self._since[partition] >= self.seconds

    def held(self) -> int:
        """How many events wait for a flush."""
        return sum(len(events) for events in self._events.values())

    async def release(self, partition: int, stream: StreamT) -> int:
        """Acknowledge every held event of `partition`, after its flush."""
        events = self._events.pop(partition, ())
        self._since.pop(partition, None)
        self._last.pop(partition, None)
        self._requested.pop(partition, None)
        for event in events:
            await stream.ack(event)
        return len(events)

    def quiet(self) -> Iterator[int]:
        """Partitions whose held events have waited `seconds` with no new event
        and no flush asked for yet, or none answered for `ASK_AGAIN_AFTER` times
        `seconds`."""
        now = time.monotonic()
        again = self.seconds * ASK_AGAIN_AFTER
        for partition, last in list(self._last.items()):
            if now - last < self.seconds:
                continue
            asked = self._requested.get(partition)
            if asked is None or now - asked >= again:
                self._requested[partition] = now
                yield partition

    def drop(self) -> int:
        """Forget every held event without acknowledging it (they come again)."""
        count = self.held()
        self._events.clear()
        self._since.clear()
        self._last.clear()
        self._requested.clear()
        return count
