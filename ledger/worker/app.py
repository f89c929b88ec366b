"""The Faust app, its topics, and the components installed on it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import faust
from faust.types import EventT, TopicT

from ledger.credentials import Credentials, load_credentials
from ledger.settings import LedgerSettings
from ledger.topics import FOREVER, TopicSpec
from schemas import AuthEvent

logger = logging.getLogger(__name__)

# Header that marks the ledger's own control messages (partition clock ticks) on
# auth.events, so that no producer's event can be mistaken for one by accident.
CONTROL_HEADER = "ledger-control"


def control_kind(event: EventT) -> bytes | None:
    """The kind of a ledger control message (b"tick", b"flush"), or None for a
    record."""
    headers = event.message.headers or ()
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        if name == CONTROL_HEADER:
            return value or b""
    return None


def is_control(event: EventT) -> bool:
    """Whether a record is one of the ledger's own control messages."""
    return control_kind(event) is not None


ValidEventObserver = Callable[[EventT, AuthEvent], None]


@dataclass
class LedgerWorker:
    """A Faust app with the ledger's topics; components add agents and pages."""

    settings: LedgerSettings
    app: faust.App
    credentials: Credentials
    events: TopicT
    dead_letters: TopicT
    commands: TopicT
    revocations: TopicT
    alerts: TopicT
    components: list[str] = field(default_factory=list)
    valid_event_observers: list[ValidEventObserver] = field(default_factory=list)
    """Called by the ledger agent with every valid event, before the fold.

    They run inside the agent's iteration of that event, so they may write tables
    (on the event's partition) and send without a Faust agent of their own: every
    agent that subscribes to the ledger topic costs one more delivery per record.
    """


Component = Callable[[LedgerWorker], None]


def _broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap.split(",") if server]


def _raw_topic(app: faust.App, name: str, partitions: int | None) -> TopicT:
    # Values stay bytes: each consumer parses once, with pydantic, from the raw bytes.
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )


def create_app(settings: LedgerSettings) -> faust.App:
    """A Faust app configured from the ledger's settings."""
    return faust.App(
        settings.app_id,
        broker=_broker_urls(settings.bootstrap_servers),
        store=settings.table_store,
        datadir=str(settings.data_dir / "worker" / settings.app_id),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # Table contents are served only through authenticated ledger endpoints.
        web_tables_enabled=False,
        web_graph_enabled=False,
        producer_acks=-1,
        autodiscover=False,
        stream_buffer_maxsize=settings.stream_buffer_maxsize,
        broker_max_poll_records=settings.broker_max_poll_records,
        producer_linger=settings.producer_linger_ms / 1000,
        producer_max_batch_size=settings.producer_max_batch_bytes,
        table_standby_replicas=0,
        # Faust's stop (and rebalance) otherwise waits for every delivered record
        # to be acked, and a record dropped from an agent's buffer when flow
        # control clears it never is: the worker hung for good on SIGTERM during
        # start-up. Unacked records are not committed, so they are read again on
        # restart, which every consumer here absorbs (at-least-once, idempotent).
        stream_wait_empty=False,
    )


def build_worker(
    settings: LedgerSettings, components: Iterable[Component] | None = None
) -> LedgerWorker:
    """A worker with the ledger's topics and the given components installed."""
    app = create_app(settings)
    # Faust holds back every agent once 100 records wait to be produced, and logs
    # a warning each time; a folded event can send several (changelogs, derived
    # events, the monitors' copy), so 100 stalls the agents on ordinary traffic.
    app.producer.buffer.max_messages = settings.producer_buffer_records
    keyed = settings.partitions
    worker = LedgerWorker(
        settings=settings,
        app=app,
        credentials=load_credentials(settings),
        events=_raw_topic(app, settings.topic_events, keyed),
        dead_letters=_raw_topic(app, settings.topic_dead_letters, None),
        commands=_raw_topic(app, settings.topic_commands, keyed),
        revocations=_raw_topic(app, settings.topic_revocations, keyed),
        alerts=_raw_topic(app, settings.topic_alerts, keyed),
    )
    for install in components if components is not None else default_components():
        install(worker)
        worker.components.append(install.__module__)
    return worker


def changelog_topics(worker: LedgerWorker) -> list[TopicSpec]:
    """The changelog topics of the worker's tables, to create before Faust starts.

    Faust creates them itself while starting, but on a busy broker the consumer's
    metadata can still lack one when the first event is folded, and the table write
    then fails with PartitionsMismatch ("changelog topic has 0 partitions").
    """
    specs = []
    for table in worker.app.tables.values():
        specs.append(
            TopicSpec(
                name=table.changelog_topic.get_topic_name(),
                partitions=table.partitions or worker.settings.partitions,
                cleanup_policy="compact",
                retention_ms=FOREVER,
                keyed=True,
                purpose=f"changelog of the {table.name} table",
            )
        )
    return specs


def default_components() -> list[Component]:
    """Every component of a full worker, in installation order."""
    from ledger.worker import (
        clock,
        ingest_api,
        metrics,
        projection,
        revocation,
        sessions_api,
        web,
    )
    from monitors import worker as monitors
    from projections import audit

    return [
        projection.install,
        clock.install,
        web.install,
        ingest_api.install,
        sessions_api.install,
        revocation.install,
        audit.install,
        monitors.install,
        metrics.install,
    ]
