"""The sessions table, the partition watermarks, and the in-memory expiry index.

- `sessions`: changelog-backed, keyed by the raw session id (`key_type=bytes`, so
  that `table_route` hashes the bytes the producer did), values are the record's
  compact JSON. Written only from the ledger agent's `stream.events()` loop.
- `watermarks`: the newest event time of each partition, keyed by the partition
  number, written when a tick is folded (a write per event would double the
  changelog traffic). A restarted worker resumes from the last tick's watermark,
  at or below the one it stopped at, and that cannot change a decision: every
  record and tick checks the expiry index, so once the watermark has passed a
  deadline its session is marked pending in the table; the sessions still watched
  all have deadlines above the true watermark, and the events after the resume
  point cross them exactly where they did before.
- The expiry index (one `DeadlineIndex` per active partition) lives in memory and
  is rebuilt from the table whenever recovery completes; each record carries its
  partition for that.
- `listeners` are called after every fold that changed a record, with the record
  before, the record after and the event; the revocation engine publishes
  notices and alerts from there. `replay_listeners` are called with the record
  and an event the fold had applied already (read again after a restart).
  `floors` holds the emergency not-before time of each category, which validity
  answers apply.

Faust writes a table's changelog to the partition of the event being processed.
Every write here is made while processing an event of the same partition as the
key, so changelog, store and source partitions always agree.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import faust

from ledger.domain.deadlines import DeadlineIndex
from ledger.domain.lifecycle import next_expiry
from ledger.domain.records import SessionRecord
from ledger.worker.app import LedgerWorker
from schemas import AuthEvent, SessionCategory

logger = logging.getLogger(__name__)

FoldListener = Callable[[SessionRecord | None, SessionRecord, AuthEvent], None]
# Called with the record and an event read again that the fold had applied already.
ReplayListener = Callable[[SessionRecord, AuthEvent], None]

_TABLES: weakref.WeakKeyDictionary[faust.App, SessionTables] = (
    weakref.WeakKeyDictionary()
)


def session_tables(worker: LedgerWorker) -> SessionTables:
    """The session tables of the worker's app, declared on first use."""
    tables = _TABLES.get(worker.app)
    if tables is None:
        tables = _TABLES[worker.app] = SessionTables(worker)
    return tables


def _raw_table(app: faust.App, name: str, partitions: int, help: str) -> faust.Table:
    # Raw bytes both ways: the key is the producer's key, the value our own JSON.
    raw = faust.Schema(
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    return app.Table(
        name,
        schema=raw,
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        help=help,
    )


class SessionTables:
    """Records by session, watermarks by partition, deadlines in memory."""

    def __init__(self, worker: LedgerWorker) -> None:
        self.app = worker.app
        self.topic = worker.settings.topic_events
        partitions = worker.settings.partitions
        self.sessions = _raw_table(
            self.app, "sessions", partitions, "Session records by session id."
        )
        self.watermarks = _raw_table(
            self.app, "watermarks", partitions, "Event-time watermark by partition."
        )
        self.indexes: dict[int, DeadlineIndex] = {}
        self.marks: dict[int, datetime] = {}
        self.recovered = False
        # Records and ticks this process has folded, for /projection and benchmarks.
        self.folded = 0
        self.listeners: list[FoldListener] = []
        self.replay_listeners: list[ReplayListener] = []
        self.floors: dict[SessionCategory, datetime] = {}
        # Valid events this process has read, by category, for /metrics.
        self.events_in: Counter[SessionCategory] = Counter()
        self.sessions.on_recover(self.rebuild)

    @property
    def ready(self) -> bool:
        """Whether the tables are recovered and no rebalance is under way."""
        app = self.app
        return (
            self.recovered
            and not getattr(app, "in_recovery", False)
            and not app.rebalancing
        )

    def get(self, key: bytes) -> SessionRecord | None:
        """The record of the session keyed `key`, or None."""
        raw = self.sessions.get(key)
        return None if raw is None else SessionRecord.from_bytes(raw)

    def put(self, key: bytes, record: SessionRecord) -> None:
        """Store `record` and watch its next deadline (in stream iteration only)."""
        self.sessions[key] = record.to_bytes()
        first = next_expiry(record)
        self.index(record.partition).watch(key, first[0] if first else None)

    def index(self, partition: int) -> DeadlineIndex:
        """The expiry index of `partition`."""
        index = self.indexes.get(partition)
        if index is None:
            index = self.indexes[partition] = DeadlineIndex()
        return index

    def watermark(self, partition: int) -> datetime | None:
        """The partition's event-time watermark, None before its first event."""
        return self.marks.get(partition)

    def advance(self, partition: int, at: datetime) -> datetime:
        """Move the partition's watermark to `at` if that is later; return the
        watermark in force."""
        current = self.marks.get(partition)
        if current is not None and at <= current:
            return current
        self.marks[partition] = at
        return at

    def persist_watermark(self, partition: int) -> None:
        """Store the partition's watermark (in stream iteration, on a tick)."""
        mark = self.marks.get(partition)
        if mark is not None:
            self.watermarks[str(partition).encode()] = mark.isoformat().encode()

    def active_partitions(self) -> set[int]:
        """The ledger partitions this worker processes now."""
        return {
            tp.partition
            for tp in self.app.assignor.assigned_actives()
            if tp.topic == self.topic
        }

    async def rebuild(self) -> None:
        """Rebuild watermarks and expiry indexes from the recovered tables."""
        started = time.monotonic()
        try:
            self._rebuild()
        except Exception:
            # Faust drops exceptions raised by recovery callbacks; log it at least.
            logger.exception(
                "rebuilding the expiry index failed; sessions on this worker will "
                "not expire until the next rebalance"
            )
            raise
        logger.info(
            "session table recovered: %d sessions watched for expiry on partitions "
            "%s in %.2f s",
            sum(len(index) for index in self.indexes.values()),
            sorted(self.indexes),
            time.monotonic() - started,
        )

    def _rebuild(self) -> None:
        partitions = self.active_partitions()
        indexes = {partition: DeadlineIndex() for partition in partitions}
        for key, raw in self.sessions.items():
            record = SessionRecord.from_bytes(raw)
            index = indexes.get(record.partition)
            first = next_expiry(record)
            if index is not None and first is not None:
                index.watch(key, first[0])
        marks: dict[int, datetime] = {}
        for partition in partitions:
            stored = self.watermarks.get(str(partition).encode())
            if stored is not None:
                marks[partition] = datetime.fromisoformat(stored.decode())
        self.indexes, self.marks = indexes, marks
        self.recovered = True
