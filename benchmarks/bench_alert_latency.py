"""Latency from an event to its alert at a stated load, against a plain Kafka pipe.

    python benchmarks/bench_alert_latency.py [--rate 20] [--attacks 1]
        [--seconds 120] [--grace 120] [--timeout 900]

In one run, on fresh topics of the broker named by LEDGER_KAFKA_BOOTSTRAP (else
the one `ledger kafka up` started), one process sends and receives, so both
ends read the same clock (`time.perf_counter`):

1. baseline: a plain aiokafka producer sends `--rate` records per second to a
   topic of 8 partitions for `--seconds`, `--attacks` of them per second
   marked; a plain aiokafka consumer of that topic notes when each marked
   record arrives. Its latency is one produce → consume round trip.
2. pipeline: `ledger worker` with every default component and wall-clock ticks
   runs on fresh ledger topics. `--sessions` agent sessions and one session for
   each attack start first. Then, at the same rates: normal traffic (accesses
   inside the session's grant, heartbeats) and attacks, each an access by its
   own agent outside its grant, which `agent_out_of_scope` turns into a high
   alert. Latency runs from just before the attack's send to the arrival of its
   alert on the alerts topic: validation, the monitors' re-keying hop, the
   monitors, and the alert's own produce and consume.

p50 and p99 (nearest rank) of both are reported; the ratios to the pipe are
what to compare between machines. Missing alerts fail the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition
from results import emit
from worker_process import (
    PARTITIONS,
    WorkerProcess,
    discard_state,
    drained_at,
    settings_of,
    unique_name,
    worker_env,
)

from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.topics import TopicSpec, ledger_topics
from monitors.worker import monitor_topics, routed_topic_name
from schemas import (
    AccessRecorded,
    HeartbeatReceived,
    LifecycleRequest,
    Principal,
    Scope,
    SessionStarted,
    Source,
    serialize,
)

INVOICES = Scope(resource="s3://acme-invoices/*", operations=("read", "list"))
CLOUD = Source(ip="10.20.0.7", cloud_region="eu-west-1", asn=16509)

Record = tuple[bytes, bytes]


def agent(number: int, prefix: str) -> tuple[str, Principal]:
    """Session id and principal of one agent."""
    principal = Principal(id=f"svc-{prefix}-{number}@acme", kind="ai_agent")
    return f"{prefix}-{number:05d}", principal


def start(session: str, principal: Principal) -> Record:
    event = SessionStarted(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        session_id=session,
        category="agent",
        principal=principal,
        source=CLOUD,
        lifecycle=LifecycleRequest(task_id=f"task-{session}"),
        scopes=(INVOICES,),
        auth_method="client_credentials",
    )
    return session.encode(), serialize(event)


def normal(number: int, sessions: int) -> Record:
    """The `number`th event of normal traffic: a read inside the grant, or a beat."""
    session, principal = agent(number % sessions, "busy")
    envelope = {
        "event_id": uuid.uuid4(),
        "occurred_at": datetime.now(UTC),
        "session_id": session,
        "category": "agent",
        "principal": principal,
        "source": CLOUD,
    }
    if number % 4 == 3:
        event = HeartbeatReceived(**envelope)
    else:
        resource = f"s3://acme-invoices/2026/{number % 97}/inv-{number}.pdf"
        event = AccessRecorded(**envelope, resource=resource, operation="read")
    return session.encode(), serialize(event)


def attack(number: int) -> tuple[str, Record]:
    """An intruder's read outside its agent's grant; the session id marks it."""
    session, principal = agent(number, "intruder")
    event = AccessRecorded(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        session_id=session,
        category="agent",
        principal=principal,
        source=CLOUD,
        resource=f"s3://acme-payroll/2026/salaries-{number}.csv",
        operation="read",
    )
    return session, (session.encode(), serialize(event))


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    """The producer both sides use: the ledger client's settings."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        partitioner=DefaultPartitioner(),
    )


async def consumer_at_end(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """A consumer of every partition of `topic`, from its current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer


async def drive(
    producer: AIOKafkaProducer,
    topic: str,
    options: argparse.Namespace,
    next_normal: Callable[[int], Record],
    next_mark: Callable[[int], tuple[str, Record]],
    sent: dict[str, float],
) -> None:
    """Send normal records at `--rate` and marked ones at `--attacks` per second."""
    began = time.perf_counter()
    normals = marks = 0
    while (elapsed := time.perf_counter() - began) < options.seconds:
        while normals < elapsed * options.rate:
            key, value = next_normal(normals)
            await producer.send(topic, value, key=key)
            normals += 1
        while marks < elapsed * options.attacks:
            mark, (key, value) = next_mark(marks)
            sent[mark] = time.perf_counter()
            await producer.send(topic, value, key=key)
            marks += 1
        await asyncio.sleep(0.01)
    await producer.flush()


async def collect(
    consumer: AIOKafkaConsumer,
    mark_of: Callable[[bytes, bytes], str | None],
    sent: dict[str, float],
    expected: int,
    arrived: dict[str, float],
) -> None:
    """Note when each marked record arrives, until `expected` have."""
    while len(arrived) < expected:
        for batch in (await consumer.getmany(timeout_ms=100)).values():
            now = time.perf_counter()
            for record in batch:
                mark = mark_of(record.key, record.value)
                if mark in sent and mark not in arrived:
                    arrived[mark] = now


async def measure(
    bootstrap: str,
    send_topic: str,
    receive_topic: str,
    options: argparse.Namespace,
    next_normal: Callable[[int], Record],
    next_mark: Callable[[int], tuple[str, Record]],
    mark_of: Callable[[bytes, bytes], str | None],
) -> tuple[list[float], int]:
    """Latencies in seconds of the marks that arrived, and how many were sent."""
    consumer = await consumer_at_end(bootstrap, receive_topic)
    producer = producer_for(bootstrap)
    await producer.start()
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}
    expected = math.ceil(options.seconds * options.attacks)
    try:
        collector = asyncio.create_task(
            collect(consumer, mark_of, sent, expected, arrived)
        )
        await drive(producer, send_topic, options, next_normal, next_mark, sent)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(collector, options.grace)
    finally:
        await producer.stop()
        await consumer.stop()
    # In sending order, so that a pipeline falling behind shows as a rising trend.
    order = sorted(arrived, key=sent.__getitem__)
    return [arrived[mark] - sent[mark] for mark in order], len(sent)


def trend(values: list[float]) -> str:
    """Median latency in ms of the first and of the last tenth in sending order:
    a rising latency means the worker fell behind the load."""
    tenth = max(1, len(values) // 10)
    first = percentile(values[:tenth], 0.5) * 1e3
    return f"{first:,.0f}/{percentile(values[-tenth:], 0.5) * 1e3:,.0f}"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def send_all(bootstrap: str, topic: str, records: list[Record]) -> None:
    producer = producer_for(bootstrap)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def first_alert(bootstrap: str, topic: str, events: str, timeout: float) -> None:
    """Send one attack and wait for its alert: the whole path is live then."""
    consumer = await consumer_at_end(bootstrap, topic)
    try:
        session, record = attack(0)
        await send_all(bootstrap, events, [record])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                if any(json.loads(r.value)["session_id"] == session for r in batch):
                    return
        raise SystemExit(f"no alert for the warm-up attack within {timeout:.0f} s")
    finally:
        await consumer.stop()


def alert_mark(key: bytes, value: bytes) -> str | None:
    alert = json.loads(value)
    return alert.get("session_id") if alert.get("detector") else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="events/s")
    parser.add_argument("--attacks", type=float, default=1.0, help="attacks/s")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--grace", type=float, default=120.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    options = parser.parse_args()

    bootstrap = LedgerSettings().bootstrap_servers
    name = unique_name("latency")
    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    env = worker_env(bootstrap, name, work)
    settings = settings_of(env)
    pipe = TopicSpec(f"{name}.pipe", PARTITIONS, "delete", 3_600_000, True, "pipe")
    topics = [*ledger_topics(settings), *monitor_topics(settings), pipe]
    asyncio.run(ensure_topics(bootstrap, topics))
    load_text = (
        f"{options.rate:g} events/s for {options.seconds:g} s, "
        f"{options.attacks:g} marked/s"
    )

    print(f"baseline: plain pipe, {load_text} ...", flush=True)
    plain, plain_sent = asyncio.run(
        measure(
            bootstrap,
            pipe.name,
            pipe.name,
            options,
            lambda n: normal(n, options.sessions),
            lambda n: (f"mark-{n}", (f"mark-{n}".encode(), b'{"mark": true}')),
            lambda key, value: key.decode() if key.startswith(b"mark-") else None,
        )
    )

    attacks = math.ceil(options.seconds * options.attacks)
    starts = [start(*agent(n, "busy")) for n in range(options.sessions)]
    starts += [start(*agent(n, "intruder")) for n in range(attacks + 1)]
    worker = WorkerProcess.ledger_worker(env, work / "worker.log")
    try:
        worker.wait_serving(options.timeout)
        asyncio.run(send_all(bootstrap, settings.topic_events, starts))
        consumed = [
            settings.topic_events,
            settings.topic_commands,
            routed_topic_name(settings),
        ]
        asyncio.run(
            drained_at(
                bootstrap, settings.app_id, consumed, timeout=options.timeout, settle=2
            )
        )
        # Intruder 0 is the warm-up; the measured attacks are 1..attacks.
        asyncio.run(
            first_alert(bootstrap, settings.topic_alerts, settings.topic_events, 300)
        )
        print(f"pipeline: full worker, {load_text} ...", flush=True)
        latencies, pipeline_sent = asyncio.run(
            measure(
                bootstrap,
                settings.topic_events,
                settings.topic_alerts,
                options,
                lambda n: normal(n, options.sessions),
                lambda n: attack(n + 1),
                alert_mark,
            )
        )
        worker.check_alive()
    finally:
        worker.stop()

    print(
        f"{'':30}{'min ms':>9}{'p50 ms':>9}{'p99 ms':>9}{'first/last':>14}{'got':>10}"
    )
    for label, values, count in (
        ("baseline: produce -> consume", plain, plain_sent),
        ("event -> alert, full worker", latencies, pipeline_sent),
    ):
        if values:
            low, p50 = min(values) * 1e3, percentile(values, 0.5) * 1e3
            p99 = percentile(values, 0.99) * 1e3
            print(
                f"{label:30}{low:9.1f}{p50:9.1f}{p99:9.1f}{trend(values):>14}"
                f"{len(values):>6}/{count}"
            )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    if not plain or not latencies:
        raise SystemExit(f"no latency measured; see the worker log {worker.log}")
    for share, label in ((0.5, "p50"), (0.99, "p99")):
        emit(
            "alert latency",
            f"event → alert {label}",
            percentile(latencies, share) * 1e3,
            "ms",
            baseline=percentile(plain, share) * 1e3,
            baseline_label=f"plain aiokafka produce → consume {label}",
            better="lower",
            note=f"{load_text} (agent reads outside their grant); "
            f"{len(latencies)}/{pipeline_sent} alerts; median of first/last tenth "
            f"{trend(latencies)} ms",
        )
    missing = pipeline_sent - len(latencies)
    if missing or len(plain) < plain_sent:
        raise SystemExit(
            f"{missing} of {pipeline_sent} alerts and {plain_sent - len(plain)} of "
            f"{plain_sent} pipe records did not arrive within {options.grace:.0f} s; "
            f"see {worker.log}"
        )
    # The tables and chDB are kept only when the run failed; the logs always.
    discard_state(work)


if __name__ == "__main__":
    main()
