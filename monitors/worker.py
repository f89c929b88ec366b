"""The monitors on the Faust worker: re-key the ledger by principal, judge, publish.

Two steps:

- The router takes each valid event of `auth.events` (keyed by session) and
  forwards its raw bytes to the internal topic `<app id>-monitor-events`, keyed by
  `monitors.context.partition_key`: the principal, or for a hybrid the user it
  acts for. A hybrid's later events may not carry the delegation, so the router
  remembers each hybrid session's user in the `monitor-subjects` table (keyed by
  session id, written from the session's own partition). Control messages are
  skipped; invalid records are skipped too (the ledger agent dead-letters them).
  It runs inside the ledger agent, on the event that agent has already parsed
  and validated; a worker without the ledger agent gets a `monitor-router` agent
  of its own. Every agent reading `auth.events` is one more Faust delivery of
  every record: merging the two took the full worker from about 730 to 905
  events/s (`benchmarks/bench_pipeline.py`).
- `monitors` reads the re-keyed topic, one event at a time, and runs the
  `MonitorEngine` over an `EncodedStore` of changelog-backed tables: baselines by
  principal key, contexts by session id, source-address baselines and learned
  models by partition. Every key is written only while processing its own
  partition, so each changelog partition holds the state of one monitor
  partition and a moved or restarted worker recovers it there. Alerts go to the
  alerts topic keyed by principal, revocations to `session.commands` keyed by
  session id, both with `send_soon` (not awaited one by one).

The state is written back, not through: changes stay decoded in memory and are
written to the tables once per partition every `state_flush_events` events or
`state_flush_seconds` seconds, and the events are acknowledged only after that
(`ledger.worker.flushing`). A principal's baseline is over a kilobyte; writing
it and its changelog record on every event was most of the worker's produce
traffic. A partition that falls quiet is flushed by a control record the
worker's timer sends to it.

Known shortcomings, each with the condition under which it matters:

- Source-address baselines are kept per monitor partition, so password spraying
  is seen only among the people whose events share a partition with the
  address's other targets; with P partitions, a spray over N people shows about
  N/P of them per partition. Re-keying failed logins by address in a third agent
  would see them all.
- Learned models are kept per monitor partition and written to their table every
  `monitor_model_every` events: a crash loses at most that much learning, and
  each partition's model calibrates on its own share of the category's traffic.
- A session whose events carry different principals (a lying producer) is
  judged under each principal, and its context may flip between partitions.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import faust
from faust.types import EventT, TopicT

from ledger.settings import LedgerSettings
from ledger.topics import TopicSpec
from ledger.worker.app import CONTROL_HEADER, LedgerWorker, control_kind, is_control
from ledger.worker.flushing import FLUSH, HeldAcks
from ledger.worker.validation import record_time
from monitors.context import partition_key
from monitors.engine import MonitorEngine
from monitors.policy import load_monitor_policy
from monitors.store import EncodedStore
from schemas import (
    AuthEvent,
    InvalidEvent,
    SessionCategory,
    SessionStarted,
    parse_event,
    serialize,
)

logger = logging.getLogger(__name__)

PROJECTION_COMPONENT = "ledger.worker.projection"
"""The ledger agent's component: with it, events are routed from its iteration."""

ROUTED_RETENTION = timedelta(days=7)
"""How long the re-keyed copy of the ledger is kept; the ledger itself keeps all."""


def _raw_table(app: faust.App, name: str, partitions: int, help: str) -> faust.Table:
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


def routed_topic_name(settings: LedgerSettings) -> str:
    """The name of the topic of ledger events re-keyed for the monitors."""
    return f"{settings.app_id}-monitor-events"


def monitor_topics(settings: LedgerSettings) -> list[TopicSpec]:
    """The topics the monitors need before the worker starts.

    `ledger worker` creates them with the ledger's own topics. Faust would create
    the re-keyed topic itself, but only just before it subscribes, and a broker
    whose metadata lags behind the creation then leaves the topic unassigned
    until the consumer's next metadata refresh (five minutes).
    """
    return [
        TopicSpec(
            name=routed_topic_name(settings),
            partitions=settings.partitions,
            cleanup_policy="delete",
            retention_ms=int(ROUTED_RETENTION.total_seconds() * 1000),
            keyed=True,
            purpose="ledger events re-keyed by principal (a hybrid by its user) "
            "for the monitors",
        )
    ]


def routed_topic(worker: LedgerWorker) -> TopicT:
    """The internal topic of ledger events re-keyed for the monitors."""
    settings = worker.settings
    return worker.app.topic(
        routed_topic_name(settings),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
        retention=ROUTED_RETENTION,
        internal=True,
    )


def install(worker: LedgerWorker) -> None:
    """Install the monitor router and the monitors agent on the worker's app."""
    app = worker.app
    settings = worker.settings
    partitions = settings.partitions
    max_future_skew = timedelta(seconds=settings.max_future_skew_seconds)
    routed = routed_topic(worker)
    subjects = _raw_table(
        app, "monitor-subjects", partitions, "The user each hybrid session acts for."
    )
    store = EncodedStore(
        principals=_raw_table(
            app, "monitor-baselines", partitions, "Principal baselines."
        ),
        sources=_raw_table(
            app, "monitor-sources", partitions, "Source-address baselines."
        ),
        models=_raw_table(
            app, "monitor-models", partitions, "Learned models by partition."
        ),
        contexts=_raw_table(
            app, "monitor-contexts", partitions, "Session contexts for monitors."
        ),
        model_every=settings.monitor_model_every,
        write_back=settings.state_flush_events > 1,
    )
    policy = load_monitor_policy(settings.policy_file)
    engine = MonitorEngine(policy, store)

    held = HeldAcks(settings.state_flush_events, settings.state_flush_seconds)

    @app.on_partitions_revoked.connect
    async def forget(sender: object, revoked: object, **kwargs: object) -> None:
        # Faust reads every partition again from its committed offset after a
        # rebalance, and a partition may come back after another worker moved its
        # state on: what was not written is applied again to what was.
        dropped = held.drop()
        store.forget()
        if dropped:
            logger.info(
                "monitors: %d events not yet written to their tables will be read "
                "again after the rebalance",
                dropped,
            )

    def parsed_record(event: EventT) -> AuthEvent:
        """The event a ledger record holds, judged as the ledger agent judges it."""
        return parse_event(
            event.value,
            now=record_time(event.message.timestamp),
            max_future_skew=max_future_skew,
            max_bytes=settings.max_event_bytes,
        )

    def route(event: EventT, parsed: AuthEvent) -> None:
        subject = None
        if parsed.category is SessionCategory.HYBRID:
            session = parsed.session_id.encode()
            if parsed.delegation is not None:
                subject = parsed.delegation.subject
                if isinstance(parsed, SessionStarted):
                    subjects[session] = subject.encode()
            else:
                known = subjects.get(session)
                subject = known.decode() if known else None
        key = partition_key(parsed.category, parsed.principal.id, subject)
        routed.send_soon(key=key.encode(), value=event.value)

    if PROJECTION_COMPONENT in worker.components:
        # The ledger agent has parsed and validated the event already.
        worker.valid_event_observers.append(route)
    else:

        @app.agent(worker.events, name="monitor-router", concurrency=1)
        async def route_alone(stream: faust.StreamT) -> None:
            async for event in stream.events():
                if is_control(event) or event.value is None:
                    continue
                try:
                    parsed = parsed_record(event)
                except InvalidEvent:
                    continue  # the ledger agent dead-letters it
                route(event, parsed)

    def judge(event: EventT) -> None:
        try:
            parsed = parsed_record(event)
        except InvalidEvent as refused:
            logger.warning(
                "re-keyed record at partition %d offset %d skipped: %s",
                event.message.partition,
                event.message.offset,
                refused.reason,
            )
            return
        try:
            verdict = engine.observe(parsed)
        except Exception:
            # One event the engine cannot judge must not stop the monitors. What
            # it changed before failing stays: the unwritten changes of the other
            # events of this partition cannot be told apart from it.
            logger.exception(
                "event %s of %s skipped by the monitors",
                parsed.event_id,
                parsed.principal.id,
            )
            return
        for alert in verdict.alerts:
            worker.alerts.send_soon(
                key=alert.principal_id.encode(), value=serialize(alert)
            )
        for command in verdict.revocations:
            logger.info(
                "monitors revoke session %s (cascade): %s",
                command.session_id,
                command.reason,
            )
            worker.commands.send_soon(
                key=command.session_id.encode(), value=serialize(command)
            )

    @app.agent(routed, name="monitors", concurrency=1)
    async def monitor(stream: faust.StreamT) -> None:
        # Acknowledged by hand, once the changes of the events are in the tables.
        manual = stream.noack()
        async for event in manual.events():
            partition = event.message.partition
            due = held.hold(event)
            store.scope = str(partition)
            control = control_kind(event)
            if control is None:
                judge(event)
            if due or control == FLUSH:
                store.flush(store.scope)
                await held.release(partition, manual)

    @app.timer(settings.state_flush_seconds)
    async def ask_for_flushes() -> None:
        for partition in held.quiet():
            await routed.send(
                partition=partition, value=b"", headers=[(CONTROL_HEADER, FLUSH)]
            )

    @app.task
    async def announce() -> None:
        # At start, not at install: the worker configures logging in between.
        logger.info(
            "monitors running: %d detectors, %s re-keyed by principal through %s",
            len(engine.detectors),
            settings.topic_events,
            routed.get_topic_name(),
        )
