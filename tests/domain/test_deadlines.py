"""The per-partition deadline index: earliest first, stale entries skipped."""

from __future__ import annotations

from session_events import at

from ledger.domain.deadlines import DeadlineIndex


def test_deadline_index_due_returns_passed_deadlines_earliest_first() -> None:
    index = DeadlineIndex()
    index.watch(b"late", at(30))
    index.watch(b"early", at(10))
    index.watch(b"future", at(90))

    assert index.due(at(30)) == [b"early", b"late"]
    assert index.due(at(30)) == []
    assert len(index) == 1


def test_deadline_index_moved_deadline_replaces_the_old_one() -> None:
    index = DeadlineIndex()
    index.watch(b"agent", at(2))
    index.watch(b"agent", at(4))

    assert index.due(at(3)) == []
    assert index.due(at(4)) == [b"agent"]


def test_deadline_index_none_stops_watching() -> None:
    index = DeadlineIndex()
    index.watch(b"ended", at(2))
    index.watch(b"ended", None)

    assert index.due(at(60)) == []
    assert index.next_deadline() is None


def test_deadline_index_many_moves_keep_heap_bounded() -> None:
    index = DeadlineIndex()
    for minute in range(20_000):
        index.watch(b"beating", at(minute + 2))

    assert index.entries < 3_000
    assert index.next_deadline() == at(20_001).timestamp()
