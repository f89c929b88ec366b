"""The audit projection in the worker: three batching agents and the analyst pages.

Each agent reads one topic (`auth.events`, `alerts`, `session.revocations`) in
batches of up to `audit_batch_rows` records or `audit_batch_seconds`, whichever
comes first, with `noack_take`. A batch is acknowledged only after ClickHouse
took it, so its offsets are committed only then. When ClickHouse is slow or down
the batch is held and retried with exponential backoff (up to 30 s): nothing is
dropped, and the agent never raises, because Faust acknowledges a failed batch.

ClickHouse calls are synchronous, so they all run on one dedicated thread: the
event loop is never blocked, and the clients are never used from two threads.

Pages, for the reader credential: `POST /audit/query` runs one read-only
statement or a canned report, `POST /audit/verify` checks the hash chains.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import faust
from faust.types import EventT, TopicT
from faust.web import Request, Response, View

from ledger.credentials import Role
from ledger.worker.app import LedgerWorker, is_control
from ledger.worker.validation import record_time
from ledger.worker.web import json_bytes, requires
from projections.errors import AuditError, QueryRefused, StoreUnavailable
from projections.messages import KafkaRecord
from projections.readonly import report
from projections.rows import ALERTS, AUTH_EVENTS, REVOCATIONS, Position, TableSpec
from projections.store import AuditStore, WriteOutcome

logger = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0
MAX_QUERY_ROWS = 100_000


class ClickHouseThread:
    """Runs synchronous ClickHouse calls, one at a time, on one dedicated thread."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="audit-clickhouse"
        )

    async def run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(call, *args, **kwargs)
        )

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


def retry_delay(attempt: int) -> float:
    """Seconds to wait before retry `attempt` (1-based): doubling, capped at 30 s."""
    return min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempt - 1))


class AuditWriter:
    """Writes batches to the store, retrying each until ClickHouse takes it."""

    def __init__(self, store: AuditStore, thread: ClickHouseThread) -> None:
        self.store = store
        self.thread = thread
        # Rows handed to write() that ClickHouse has not taken yet, held ones too.
        self.pending_rows = 0

    async def open(self) -> None:
        """Connect and migrate, retrying until ClickHouse answers."""
        await self._until_done("open the audit store", self.store.open_writer)

    async def write(
        self, spec: TableSpec, records: Sequence[KafkaRecord]
    ) -> WriteOutcome:
        """Write one batch; return only once ClickHouse took it."""
        what = f"{len(records)} {spec.table} record(s) ({_span(records)})"
        self.pending_rows += len(records)
        try:
            return await self._until_done(
                f"write {what}", self.store.write_records, spec, records
            )
        finally:
            self.pending_rows -= len(records)

    async def _until_done(self, what: str, call: Callable[..., T], *args: Any) -> T:
        attempt, started = 0, time.monotonic()
        while True:
            try:
                result = await self.thread.run(call, *args)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                attempt += 1
                delay = retry_delay(attempt)
                logger.warning(
                    "audit writer could not %s: %s; holding it (its offsets stay "
                    "uncommitted, nothing is dropped) and retrying in %.1f s "
                    "(attempt %d)",
                    what,
                    error,
                    delay,
                    attempt,
                    exc_info=attempt == 1 and not isinstance(error, StoreUnavailable),
                )
                await asyncio.sleep(delay)
                continue
            if attempt:
                logger.info(
                    "audit writer recovered: could %s after %d failed attempt(s) "
                    "over %.0f s; writing resumes",
                    what,
                    attempt,
                    time.monotonic() - started,
                )
            return result


def _span(records: Sequence[KafkaRecord]) -> str:
    ranges: dict[int, list[int]] = {}
    for record in records:
        position = record.position
        span = ranges.setdefault(position.partition, [position.offset, position.offset])
        span[0] = min(span[0], position.offset)
        span[1] = max(span[1], position.offset)
    return ", ".join(
        f"partition {partition} offsets {low}-{high}"
        for partition, (low, high) in sorted(ranges.items())
    )


def record_of(event: EventT) -> KafkaRecord:
    """The writer's view of a consumed Faust event (raw key and value bytes)."""
    message = event.message
    return KafkaRecord(
        position=Position(
            message.topic,
            message.partition,
            message.offset,
            record_time(message.timestamp),
        ),
        key=message.key,
        value=message.value,
        control=is_control(event),
    )


_WRITERS: weakref.WeakKeyDictionary[faust.App, AuditWriter] = (
    weakref.WeakKeyDictionary()
)


def audit_writer(worker: LedgerWorker) -> AuditWriter | None:
    """The audit writer installed on the worker's app, or None (for /metrics)."""
    return _WRITERS.get(worker.app)


def install(worker: LedgerWorker) -> None:
    """Install the audit agents and the analyst pages on the worker."""
    settings = worker.settings
    app = worker.app
    store = AuditStore(settings)
    thread = ClickHouseThread()
    writer = _WRITERS[app] = AuditWriter(store, thread)

    for topic, spec, name in (
        (worker.events, AUTH_EVENTS, "audit-events"),
        (worker.alerts, ALERTS, "audit-alerts"),
        (worker.revocations, REVOCATIONS, "audit-revocations"),
    ):
        _install_agent(worker, writer, topic, spec, name)

    @app.task
    async def open_audit_store() -> None:
        await writer.open()

    async def forget_heads(sender: Any, *args: Any, **kwargs: Any) -> None:
        # Another worker may have written these partitions since we last did.
        await thread.run(store.forget_heads)

    async def close_store(sender: Any, *args: Any, **kwargs: Any) -> None:
        await thread.run(store.close)
        thread.shutdown()

    app.on_partitions_assigned.connect(forget_heads)
    app.on_before_shutdown.connect(close_store)
    _install_pages(worker, store, thread)


def _install_agent(
    worker: LedgerWorker,
    writer: AuditWriter,
    topic: TopicT,
    spec: TableSpec,
    name: str,
) -> None:
    settings = worker.settings

    async def write_batches(stream: Any) -> None:
        async for batch in stream.noack_take(
            settings.audit_batch_rows, within=settings.audit_batch_seconds
        ):
            await writer.write(spec, [record_of(event) for event in batch])
            for event in batch:
                await stream.ack(event)

    write_batches.__name__ = write_batches.__qualname__ = name.replace("-", "_")
    worker.app.agent(topic, name=name, concurrency=1)(write_batches)


def _install_pages(
    worker: LedgerWorker, store: AuditStore, thread: ClickHouseThread
) -> None:
    app = worker.app

    @app.page("/audit/query")
    class AuditQuery(View):
        """One read-only statement, or a canned report, on the audit store."""

        @requires(worker, Role.READER)
        async def post(self, request: Request) -> Response:
            try:
                body = json.loads(await request.read() or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                sql, title = _statement_of(body)
                limit = min(int(body.get("limit", 10_000)), MAX_QUERY_ROWS)
                result = await thread.run(store.query, sql, limit=limit)
            except (ValueError, TypeError) as error:
                return self.json({"error": f"bad request body: {error}"}, status=400)
            except QueryRefused as error:
                return self.json({"error": str(error)}, status=400)
            except StoreUnavailable as error:
                return self.json({"error": str(error)}, status=503)
            except AuditError as error:
                return self.json({"error": str(error)}, status=422)
            answer = {**result.as_dict(), "title": title}
            return json_bytes(self, json.dumps(answer).encode())

    @app.page("/audit/verify")
    class AuditVerify(View):
        """Recompute the hash chains of auth_events."""

        @requires(worker, Role.READER)
        async def post(self, request: Request) -> Response:
            try:
                verdict = await thread.run(store.verify)
            except StoreUnavailable as error:
                return self.json({"error": str(error)}, status=503)
            except AuditError as error:
                return self.json({"error": str(error)}, status=422)
            return json_bytes(self, json.dumps(verdict.as_dict()).encode())


def _statement_of(body: dict[str, Any]) -> tuple[str, str | None]:
    if "report" in body:
        chosen = report(str(body["report"]))
        return chosen.sql, chosen.title
    sql = body.get("sql")
    if not isinstance(sql, str):
        raise ValueError('give "sql" (a string) or "report" (a report name)')
    return sql, None
