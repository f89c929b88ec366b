"""Which sessions of one partition are due to expire, in deadline order.

A min-heap of (deadline, session) with lazy deletion: moving a session's deadline
pushes a new entry and leaves the old one to be discarded when it surfaces. The
heap is rebuilt from the current deadlines once stale entries outnumber them, so
its size stays proportional to the sessions it watches.
"""

from __future__ import annotations

import heapq
from datetime import datetime

_COMPACT_SLACK = 1024


class DeadlineIndex:
    """The next deadline of every watched session on one partition."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, bytes]] = []
        self._current: dict[bytes, float] = {}

    def __len__(self) -> int:
        return len(self._current)

    @property
    def entries(self) -> int:
        """Heap entries, stale ones included; at most about twice `len`."""
        return len(self._heap)

    def watch(self, session: bytes, deadline: datetime | None) -> None:
        """Set the session's next deadline; None stops watching it."""
        if deadline is None:
            self._current.pop(session, None)
            return
        at = deadline.timestamp()
        if self._current.get(session) == at:
            return
        self._current[session] = at
        heapq.heappush(self._heap, (at, session))
        if len(self._heap) > 2 * len(self._current) + _COMPACT_SLACK:
            self._compact()

    def due(self, watermark: datetime) -> list[bytes]:
        """Stop watching and return every session whose deadline is at or before
        `watermark`, earliest first (ties in session order)."""
        limit = watermark.timestamp()
        heap, current = self._heap, self._current
        found: list[bytes] = []
        while heap and heap[0][0] <= limit:
            at, session = heapq.heappop(heap)
            if current.get(session) == at:
                del current[session]
                found.append(session)
        return found

    def next_deadline(self) -> float | None:
        """The earliest watched deadline as a POSIX timestamp, or None."""
        heap, current = self._heap, self._current
        while heap and current.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _compact(self) -> None:
        self._heap = [(at, session) for session, at in self._current.items()]
        heapq.heapify(self._heap)
