"""Python client for services that append events to the ledger.

    async with LedgerClient() as ledger:
        session = await ledger.start_agent_session("svc-docproc@acme", "task-42")
        await ledger.heartbeat(session)
        await ledger.record_access(session, "s3://acme-invoices/inv-1.pdf", "read")
        await ledger.complete_task(session)
        await ledger.end_session(session)

`SyncLedgerClient` offers the same methods to code without an event loop.

Every event is validated exactly as the worker will validate it (the same
`schemas.parse_event` on the same bytes, with the wall clock for the future-skew
check) before anything is sent, and is stamped with `received_at`. An invalid
event raises `EventRejected` and nothing is sent. Events go to `auth.events` keyed
by the raw UTF-8 session id, through an idempotent producer (acks=all), and a call
returns once the broker has acknowledged every event it sent.

Exceptions::

    LedgerError
     +-- EventRejected    an event failed validation; nothing was sent
     +-- BrokerError      the broker could not be reached or did not acknowledge
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from pydantic_core import to_json

from ledger.errors import BrokerError, EventRejected
from ledger.settings import LedgerSettings
from schemas import (
    AccessOutcome,
    AuthEvent,
    EndReason,
    Event,
    Health,
    InvalidEvent,
    Principal,
    Scope,
    SessionCategory,
    SessionStarted,
    Source,
    TaskOutcome,
    parse_event,
    serialize,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_HEARTBEAT_TTL_SECONDS = 300.0
"""An agent session expires this long after its last heartbeat, unless told."""


def wall_clock() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Appended:
    """Where the broker stored one appended event."""

    event_id: UUID
    session_id: str
    partition: int
    offset: int


class AgentSession(NamedTuple):
    """A started agent session: its id and the `session.started` event."""

    session_id: str
    started: SessionStarted


class LedgerClient:
    """Appends validated events to `auth.events`; use it as an async context."""

    def __init__(
        self,
        settings: LedgerSettings | None = None,
        *,
        bootstrap: str | None = None,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.settings = settings if settings is not None else LedgerSettings()
        self.bootstrap = bootstrap or self.settings.bootstrap_servers
        self.topic = self.settings.topic_events
        self._clock = clock
        self._max_future_skew = timedelta(seconds=self.settings.max_future_skew_seconds)
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Connect the producer; BrokerError if no broker answers."""
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id="session-ledger-client",
            enable_idempotence=True,
            acks="all",
            linger_ms=self.settings.producer_linger_ms,
            # Routing depends on this: murmur2(session id) % partitions, the Java
            # default, is what Faust's table_route and every other producer use.
            partitioner=DefaultPartitioner(),
        )
        try:
            await producer.start()
        except (KafkaError, OSError) as error:
            await producer.stop()
            raise BrokerError(
                f"no Kafka broker answers at {self.bootstrap} ({error!r}); nothing "
                "can be appended until one does"
            ) from error
        self._producer = producer
        logger.info(
            "ledger client connected to %s (topic %s)", self.bootstrap, self.topic
        )

    async def stop(self) -> None:
        """Flush and close the producer."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    def validate(self, event: Event) -> tuple[AuthEvent, bytes]:
        """The event stamped with `received_at`, and its bytes; else EventRejected."""
        if not isinstance(event, Event):
            raise TypeError(f"expected a schemas event, not {type(event).__name__}")
        now = self._clock()
        raw = serialize(event.model_copy(update={"received_at": now}))
        return self._parse(raw, now), raw

    async def append(self, event: Event) -> Appended:
        """Validate and append one event; return where the broker stored it."""
        [appended] = await self.append_many([event])
        return appended

    async def append_many(self, events: Iterable[Event]) -> list[Appended]:
        """Validate every event, then append them all; order is kept per session.

        One invalid event raises EventRejected (naming its index) before anything
        is sent. The sends are pipelined and awaited together.
        """
        prepared: list[tuple[AuthEvent, bytes]] = []
        for index, event in enumerate(events):
            try:
                prepared.append(self.validate(event))
            except EventRejected as rejected:
                raise EventRejected(
                    f"events[{index}]: {rejected.reason}; none of the batch was sent",
                    rejected.event_id,
                ) from rejected
        return await self._send(prepared)

    async def start_agent_session(
        self,
        principal: Principal | str,
        task_id: str | None = None,
        *,
        session_id: str | None = None,
        heartbeat_ttl_seconds: float | None = DEFAULT_HEARTBEAT_TTL_SECONDS,
        max_lifetime_seconds: float | None = None,
        scopes: Iterable[Scope] = (),
        parent_session_id: str | None = None,
        task_description: str | None = None,
        labels: Mapping[str, str] | None = None,
        source: Source | None = None,
    ) -> AgentSession:
        """Start an agent session, bound to `task_id` if given; send heartbeats.

        A bare `principal` string is an AI agent. With a task, a `task.started`
        event follows the `session.started` one.
        """
        if isinstance(principal, str):
            principal = {"id": principal, "kind": "ai_agent"}
        session_id = session_id or f"agent-{uuid4()}"
        started = self._compose(
            {
                "type": "session.started",
                "session_id": session_id,
                "category": SessionCategory.AGENT,
                "principal": principal,
                "parent_session_id": parent_session_id,
                "source": source,
                "labels": dict(labels or {}),
                "lifecycle": {
                    "task_id": task_id,
                    "heartbeat_ttl_seconds": heartbeat_ttl_seconds,
                    "max_lifetime_seconds": max_lifetime_seconds,
                },
                "scopes": tuple(scopes),
            }
        )
        assert isinstance(started, SessionStarted)
        events: list[Event] = [started]
        if task_id is not None:
            session = AgentSession(session_id, started)
            events.append(
                self._session_event(
                    session,
                    "task.started",
                    task_id=task_id,
                    description=task_description,
                )
            )
        await self.append_many(events)
        return AgentSession(session_id, started)

    async def heartbeat(
        self, session: AgentSession, health: Health | str = Health.HEALTHY
    ) -> Appended:
        """Report that the session's agent is alive."""
        return await self.append(
            self._session_event(session, "heartbeat.received", health=health)
        )

    async def record_access(
        self,
        session: AgentSession,
        resource: str,
        operation: str,
        outcome: AccessOutcome | str = AccessOutcome.ALLOWED,
    ) -> Appended:
        """Record that the session touched `resource` with `operation`."""
        return await self.append(
            self._session_event(
                session,
                "access.recorded",
                resource=resource,
                operation=operation,
                outcome=outcome,
            )
        )

    async def complete_task(
        self,
        session: AgentSession,
        outcome: TaskOutcome | str = TaskOutcome.SUCCEEDED,
        task_id: str | None = None,
    ) -> Appended:
        """Record that the session's task (or `task_id`) finished."""
        task_id = task_id or session.started.lifecycle.task_id
        if task_id is None:
            raise EventRejected(
                f"session {session.session_id} was started without a task; pass "
                "task_id to say which task completed"
            )
        return await self.append(
            self._session_event(
                session, "task.completed", task_id=task_id, outcome=outcome
            )
        )

    async def end_session(
        self, session: AgentSession, reason: EndReason | str = EndReason.COMPLETED
    ) -> Appended:
        """End the session on its own terms."""
        return await self.append(
            self._session_event(session, "session.ended", reason=reason)
        )

    def _session_event(
        self, session: AgentSession, event_type: str, **fields: Any
    ) -> AuthEvent:
        started = session.started
        return self._compose(
            {
                "type": event_type,
                "session_id": session.session_id,
                "category": started.category,
                "principal": started.principal,
                "delegation": started.delegation,
                "parent_session_id": started.parent_session_id,
                "source": started.source,
                "labels": started.labels,
                **fields,
            }
        )

    def _compose(self, fields: dict[str, Any]) -> AuthEvent:
        # Built through JSON and parse_event, so that a bad argument is refused
        # with the same one-line reason the worker would give.
        now = self._clock()
        document = {"event_id": uuid4(), "occurred_at": now, **fields}
        payload = {name: value for name, value in document.items() if value is not None}
        return self._parse(to_json(payload), now)

    def _parse(self, raw: bytes, now: datetime) -> AuthEvent:
        try:
            return parse_event(
                raw,
                now=now,
                max_future_skew=self._max_future_skew,
                max_bytes=self.settings.max_event_bytes,
            )
        except InvalidEvent as invalid:
            raise EventRejected(invalid.reason, invalid.event_id) from invalid

    async def _send(
        self, prepared: Sequence[tuple[AuthEvent, bytes]]
    ) -> list[Appended]:
        producer = self._producer
        if producer is None:
            raise BrokerError("the ledger client is not started; use `async with`")
        deliveries = []
        try:
            for event, raw in prepared:
                deliveries.append(
                    await producer.send(
                        self.topic, raw, key=event.session_id.encode("utf-8")
                    )
                )
        except KafkaError as error:
            raise BrokerError(
                f"event {prepared[len(deliveries)][0].event_id} could not be queued "
                f"for {self.topic} ({error!r}); {len(deliveries)} events before it "
                "may be appended: resend all, consumers de-duplicate on event_id"
            ) from error
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        failures = [
            (event, result)
            for (event, _), result in zip(prepared, results, strict=True)
            if isinstance(result, BaseException)
        ]
        if failures:
            event, first = failures[0]
            raise BrokerError(
                f"{len(failures)} of {len(prepared)} events were not acknowledged by "
                f"{self.topic}, first {event.event_id} ({first!r}); resend them, "
                "consumers de-duplicate on event_id"
            ) from first
        return [
            Appended(event.event_id, event.session_id, meta.partition, meta.offset)
            for (event, _), meta in zip(prepared, results, strict=True)
        ]


class SyncLedgerClient:
    """The `LedgerClient` for code without an event loop; use it as a context.

    It runs its own event loop on a background thread, so that one producer (and
    its idempotence state) serves every call, from any thread.
    """

    def __init__(
        self,
        settings: LedgerSettings | None = None,
        *,
        bootstrap: str | None = None,
        clock: Callable[[], datetime] = wall_clock,
        timeout: float = 60.0,
    ) -> None:
        self._client = LedgerClient(settings, bootstrap=bootstrap, clock=clock)
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the loop thread and connect; BrokerError if no broker answers."""
        if self._loop is not None:
            return
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ledger-client", daemon=True
        )
        self._thread.start()
        try:
            self._run(self._client.start())
        except BaseException:
            self._stop_loop()
            raise

    def close(self) -> None:
        """Flush, disconnect and stop the loop thread."""
        if self._loop is None:
            return
        try:
            self._run(self._client.stop())
        finally:
            self._stop_loop()

    def validate(self, event: Event) -> tuple[AuthEvent, bytes]:
        """See `LedgerClient.validate`."""
        return self._client.validate(event)

    def append(self, event: Event) -> Appended:
        """See `LedgerClient.append`."""
        return self._run(self._client.append(event))

    def append_many(self, events: Iterable[Event]) -> list[Appended]:
        """See `LedgerClient.append_many`."""
        return self._run(self._client.append_many(list(events)))

    def start_agent_session(
        self, principal: Principal | str, task_id: str | None = None, **options: Any
    ) -> AgentSession:
        """See `LedgerClient.start_agent_session`."""
        return self._run(
            self._client.start_agent_session(principal, task_id, **options)
        )

    def heartbeat(
        self, session: AgentSession, health: Health | str = Health.HEALTHY
    ) -> Appended:
        """See `LedgerClient.heartbeat`."""
        return self._run(self._client.heartbeat(session, health))

    def record_access(
        self,
        session: AgentSession,
        resource: str,
        operation: str,
        outcome: AccessOutcome | str = AccessOutcome.ALLOWED,
    ) -> Appended:
        """See `LedgerClient.record_access`."""
        return self._run(
            self._client.record_access(session, resource, operation, outcome)
        )

    def complete_task(
        self,
        session: AgentSession,
        outcome: TaskOutcome | str = TaskOutcome.SUCCEEDED,
        task_id: str | None = None,
    ) -> Appended:
        """See `LedgerClient.complete_task`."""
        return self._run(self._client.complete_task(session, outcome, task_id))

    def end_session(
        self, session: AgentSession, reason: EndReason | str = EndReason.COMPLETED
    ) -> Appended:
        """See `LedgerClient.end_session`."""
        return self._run(self._client.end_session(session, reason))

    def _run(self, call: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            call.close()
            raise BrokerError("the ledger client is not started; use `with`")
        future = asyncio.run_coroutine_threadsafe(call, self._loop)
        try:
            return future.result(self.timeout)
        except TimeoutError as error:
            future.cancel()
            raise BrokerError(
                f"the broker did not answer within {self.timeout:g} s; the events "
                "may or may not be appended: resend them, consumers de-duplicate "
                "on event_id"
            ) from error

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join()
        loop.close()
