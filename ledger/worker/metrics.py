"""Operational metrics of the worker: `GET /metrics` in Prometheus text format.

Each worker owns its `CollectorRegistry`, never prometheus-client's global one, so
that several workers in one process do not collide. Every figure is about this
worker; with several workers, sum over them.

| metric | type | what |
|---|---|---|
| `ledger_events_in_total{category}` | counter | valid events the ledger agent read |
| `ledger_sessions{category,status}` | gauge | sessions of this worker's partitions |
| `ledger_dead_letters_total` | counter | records read from the dead-letter topic |
| `ledger_alerts_total{category,detector,severity}` | counter | new alerts read |
| `ledger_revocations_total{category,cause}` | counter | revocation notices read |
| `ledger_invalid_records_total{topic}` | counter | alerts, notices refused |
| `ledger_consumer_lag{topic,partition}` | gauge | highwater minus committed offset |
| `ledger_audit_backlog_rows` | gauge | rows the ClickHouse writer holds |

- Events in are counted by the ledger agent as it parses them, and sessions by a
  fold listener (before and after of each changed record). The session counts
  are recounted from the table after every recovery, one extra pass over the
  table's values, so a restart or a rebalance starts from the truth.
- Dead letters, alerts and revocation notices are counted by agents on their
  topics, in batches: each counts what it read since the worker started, from
  the group's committed offset (a first start reads the topics from the start).
  An alert that grows is sent again under its `alert_id`; it counts once, as
  long as its id is among the last `REMEMBERED_ALERTS` this worker saw, with
  the severity it was first read with.
- Lag is asked of the broker at scrape time, for the ledger's own topics assigned
  here: highwater minus the offset this worker last committed (Faust's monitor),
  or minus its fetch position before its first commit of that partition.

No credential by default: Prometheus scrapes without one, and operators keep
the port behind the network. `LEDGER_METRICS_TOKEN` makes `/metrics` require
`Authorization: Bearer <token>`. The figures carry no session or principal id.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from faust.types import TP
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from pydantic import ValidationError
from pydantic_core import from_json

from ledger.domain.records import SessionRecord
from ledger.worker.app import LedgerWorker
from ledger.worker.sessions_table import session_tables
from ledger.worker.web import bearer_token
from projections.audit import AuditWriter, audit_writer
from schemas import Alert, AuthEvent, RevocationNotice

logger = logging.getLogger(__name__)

BATCH = 1000
BATCH_SECONDS = 1.0
LAG_TIMEOUT_SECONDS = 5.0
PROJECTION_COMPONENT = "ledger.worker.projection"
AUDIT_COMPONENT = "projections.audit"
REMEMBERED_ALERTS = 100_000
"""Alert ids remembered so that a merged alert, sent again, counts once."""


class RecentIds:
    """The last `size` ids seen, oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._seen: OrderedDict[UUID, None] = OrderedDict()

    def first_time(self, key: UUID) -> bool:
        """Whether `key` is new; remember it either way."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


class SessionCensus:
    """Sessions by (category, status): a fold listener, recounted on recovery."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def moved(
        self, before: SessionRecord | None, after: SessionRecord, event: AuthEvent
    ) -> None:
        """Move one session from its old status to its new one."""
        if before is not None:
            self.counts[(before.category.value, before.status.value)] -= 1
        self.counts[(after.category.value, after.status.value)] += 1

    def recount(self, sessions: Iterable[tuple[str, str]]) -> None:
        """Start again from (category, status) pairs, one per session."""
        self.counts = Counter(sessions)


class WorkerCollector(Collector):
    """The figures read at scrape time from the worker's own state."""

    def __init__(self, worker: LedgerWorker) -> None:
        self.worker = worker
        self.census: SessionCensus | None = None
        self.lag: dict[TP, int] = {}

    def collect(self) -> Iterator[Metric]:
        yield from self._projection()
        lag = GaugeMetricFamily(
            "ledger_consumer_lag",
            "Records behind the highwater mark: highwater minus committed offset.",
            labels=["topic", "partition"],
        )
        for tp, behind in sorted(self.lag.items()):
            lag.add_metric([tp.topic, str(tp.partition)], behind)
        yield lag
        writer = self._audit_writer()
        if writer is not None:
            yield GaugeMetricFamily(
                "ledger_audit_backlog_rows",
                "Rows handed to the ClickHouse writer that it has not written yet.",
                value=writer.pending_rows,
            )

    def _projection(self) -> Iterator[Metric]:
        if self.census is None:
            return
        events = CounterMetricFamily(
            "ledger_events_in",
            "Valid events the ledger agent read, by session category.",
            labels=["category"],
        )
        for category, count in sorted(session_tables(self.worker).events_in.items()):
            events.add_metric([category.value], count)
        yield events
        sessions = GaugeMetricFamily(
            "ledger_sessions",
            "Sessions of this worker's partitions by category and status.",
            labels=["category", "status"],
        )
        for (category, status), count in sorted(self.census.counts.items()):
            sessions.add_metric([category, status], count)
        yield sessions

    def _audit_writer(self) -> AuditWriter | None:
        if AUDIT_COMPONENT not in self.worker.components:
            return None
        return audit_writer(self.worker)

    async def refresh_lag(self) -> None:
        """Ask the broker for the highwater of the ledger's topics assigned here."""
        try:
            async with asyncio.timeout(LAG_TIMEOUT_SECONDS):
                self.lag = await consumer_lag(self.worker)
        except Exception as error:
            # A scrape during a rebalance or a broker outage still answers.
            logger.warning(
                "consumer lag not measured (%s); /metrics leaves it out until the "
                "next scrape",
                error,
            )
            self.lag = {}


def ledger_topic_names(worker: LedgerWorker) -> set[str]:
    """The topics the ledger declares, whose lag /metrics reports."""
    settings = worker.settings
    return {
        settings.topic_events,
        settings.topic_dead_letters,
        settings.topic_commands,
        settings.topic_revocations,
        settings.topic_alerts,
    }


async def consumer_lag(worker: LedgerWorker) -> dict[TP, int]:
    """Highwater minus committed offset for each ledger topic-partition assigned."""
    app = worker.app
    consumer = app.consumer
    topics = ledger_topic_names(worker)
    assigned = sorted(tp for tp in consumer.assignment() if tp.topic in topics)
    if not assigned:
        return {}
    highwaters = await consumer.highwaters(*assigned)
    committed = app.monitor.tp_committed_offsets
    lag: dict[TP, int] = {}
    for tp in assigned:
        end = highwaters.get(tp)
        done = committed.get(tp)
        if done is None:
            done = await consumer.position(tp)
        if end is not None and done is not None:
            lag[tp] = max(end - done, 0)
    return lag


def install(worker: LedgerWorker) -> None:
    """Install /metrics, its counting agents and its fold listener."""
    registry = CollectorRegistry(auto_describe=True)
    collector = WorkerCollector(worker)
    registry.register(collector)
    if PROJECTION_COMPONENT in worker.components:
        collector.census = _count_sessions(worker)
    else:
        logger.info(
            "the projection is not installed on this worker: /metrics has no "
            "event or session counts"
        )
    _install_topic_counters(worker, registry)
    _install_page(worker, registry, collector)


def _count_sessions(worker: LedgerWorker) -> SessionCensus:
    tables = session_tables(worker)
    census = SessionCensus()
    tables.listeners.append(census.moved)

    async def recount() -> None:
        partitions = tables.active_partitions()
        pairs = []
        for raw in tables.sessions.values():
            # Only two fields are needed; the full model costs three times more.
            fields = from_json(raw)
            if fields["partition"] in partitions:
                pairs.append((fields["category"], fields.get("status", "active")))
        census.recount(pairs)

    tables.sessions.on_recover(recount)
    return census


def _install_topic_counters(worker: LedgerWorker, registry: CollectorRegistry) -> None:
    app = worker.app
    dead_letters = PromCounter(
        "ledger_dead_letters",
        "Records this worker read from the dead-letter topic.",
        registry=registry,
    )
    alerts = PromCounter(
        "ledger_alerts",
        "New alerts this worker read from the alerts topic (updates count once).",
        ["category", "detector", "severity"],
        registry=registry,
    )
    revocations = PromCounter(
        "ledger_revocations",
        "Revocation notices this worker read, by category and cause.",
        ["category", "cause"],
        registry=registry,
    )
    invalid = PromCounter(
        "ledger_invalid_records",
        "Alerts or revocation notices that failed validation and were not counted.",
        ["topic"],
        registry=registry,
    )

    @app.agent(worker.dead_letters, name="metrics-dead-letters", concurrency=1)
    async def count_dead_letters(stream: Any) -> None:
        async for batch in stream.take(BATCH, within=BATCH_SECONDS):
            dead_letters.inc(len(batch))

    seen = RecentIds(REMEMBERED_ALERTS)

    @app.agent(worker.alerts, name="metrics-alerts", concurrency=1)
    async def count_alerts(stream: Any) -> None:
        async for batch in stream.take(BATCH, within=BATCH_SECONDS):
            for value in batch:
                try:
                    alert = Alert.model_validate_json(value)
                except ValidationError:
                    invalid.labels(worker.settings.topic_alerts).inc()
                    continue
                if not seen.first_time(alert.alert_id):
                    continue
                alerts.labels(
                    alert.category.value, alert.detector, alert.severity.value
                ).inc()

    @app.agent(worker.revocations, name="metrics-revocations", concurrency=1)
    async def count_revocations(stream: Any) -> None:
        async for batch in stream.take(BATCH, within=BATCH_SECONDS):
            for value in batch:
                try:
                    notice = RevocationNotice.model_validate_json(value)
                except ValidationError:
                    invalid.labels(worker.settings.topic_revocations).inc()
                    continue
                revocations.labels(notice.category.value, notice.cause.value).inc()


def _install_page(
    worker: LedgerWorker, registry: CollectorRegistry, collector: WorkerCollector
) -> None:
    token = worker.settings.metrics_token

    @worker.app.page("/metrics")
    class Metrics(View):
        """The worker's metrics in Prometheus text format (version 0.0.4)."""

        async def get(self, request: Request) -> Response:
            if token is not None:
                presented = bearer_token(request) or ""
                if not hmac.compare_digest(
                    presented.encode(), token.get_secret_value().encode()
                ):
                    return self.json(
                        {"error": "missing or unknown bearer credential"},
                        status=401,
                        headers={"WWW-Authenticate": 'Bearer realm="session-ledger"'},
                    )
            await collector.refresh_lag()
            return self.bytes(
                generate_latest(registry),
                headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4},
            )
