"""Append-path throughput on a real broker, against a plain producer.

    python benchmarks/bench_append.py [--events 50000] [--batch 500]

In one run, on fresh topics of the broker named by LEDGER_KAFKA_BOOTSTRAP (else
the one `ledger kafka up` started), with the same events (agent accesses over 1,000
sessions, ~700 bytes each):

1. baseline: a plain aiokafka producer with the client's settings (idempotent,
   acks=all, murmur2) sends the pre-serialized bytes, every delivery gathered.
2. client: `LedgerClient.append_many` in batches: validation (serialize, then
   `parse_event` on the bytes), `received_at` stamp, send, gathered deliveries.
3. http: `POST /events` in batches of the same size to one worker subprocess
   (validation agent, fold, web), each answer waiting for the broker's acks.

Ratios against the baseline are the numbers to compare between machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from results import emit

from ledger.client import LedgerClient
from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.topics import ledger_topics
from schemas import AccessRecorded, serialize
from schemas.examples import example


def make_events(count: int) -> list[AccessRecorded]:
    return [
        example(
            AccessRecorded,
            event_id=uuid.uuid4(),
            session_id=f"bench-{n % 1000}",
            resource=f"s3://acme-invoices/2025/03/inv-{n:06d}.pdf",
        )
        for n in range(count)
    ]


async def baseline(bootstrap: str, topic: str, events: list[AccessRecorded]) -> float:
    records = [(e.session_id.encode(), serialize(e)) for e in events]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        partitioner=DefaultPartitioner(),
    )
    await producer.start()
    try:
        started = time.perf_counter()
        sent = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*sent)
        return len(records) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def client(settings: LedgerSettings, events: list, batch: int) -> float:
    async with LedgerClient(settings) as ledger:
        started = time.perf_counter()
        for start in range(0, len(events), batch):
            await ledger.append_many(events[start : start + batch])
        return len(events) / (time.perf_counter() - started)


def http(url: str, token: str, events: list, batch: int) -> float:
    bodies = [
        b"[" + b",".join(serialize(e) for e in events[i : i + batch]) + b"]"
        for i in range(0, len(events), batch)
    ]
    started = time.perf_counter()
    for body in bodies:
        request = urllib.request.Request(
            f"{url}/events",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            assert reply.status == 202, reply.status
    return len(events) / (time.perf_counter() - started)


def topic_names(suffix: str) -> dict[str, str]:
    return {
        "topic_events": f"bench-{suffix}.auth.events",
        "topic_dead_letters": f"bench-{suffix}.auth.events.dlq",
        "topic_commands": f"bench-{suffix}.session.commands",
        "topic_revocations": f"bench-{suffix}.session.revocations",
        "topic_alerts": f"bench-{suffix}.alerts",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_worker(env: dict[str, str], url: str) -> subprocess.Popen:
    log = Path(env["LEDGER_DATA_DIR"]) / "worker.log"
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "ledger"), "worker"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                if reply.status == 200:
                    return worker
        except OSError:
            pass
        time.sleep(1)
    worker.terminate()
    raise SystemExit(f"the worker did not become healthy; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    base = LedgerSettings()
    bootstrap = base.bootstrap_servers
    direct, served = (topic_names(uuid.uuid4().hex[:8]) for _ in range(2))
    settings = LedgerSettings(kafka_bootstrap=bootstrap, **direct)
    asyncio.run(ensure_topics(bootstrap, ledger_topics(settings)))
    token = secrets.token_urlsafe(24)
    port = free_port()
    # The worker gets topics of its own, so that it folds only what it ingests.
    env = {
        **os.environ,
        **{f"LEDGER_{name.upper()}": value for name, value in served.items()},
        "LEDGER_KAFKA_BOOTSTRAP": bootstrap,
        "LEDGER_DATA_DIR": tempfile.mkdtemp(prefix="bench-append-"),
        "LEDGER_APP_ID": f"bench-append-{uuid.uuid4().hex[:8]}",
        "LEDGER_WEB_PORT": str(port),
        "LEDGER_PRODUCER_TOKEN": token,
    }
    events = make_events(args.events)
    size = len(serialize(events[0]))
    print(f"{args.events:,} events of ~{size} bytes, batches of {args.batch}")

    raw = asyncio.run(baseline(bootstrap, settings.topic_events, events))
    report("baseline  plain aiokafka producer", raw, raw)
    appended = asyncio.run(client(settings, make_events(args.events), args.batch))
    report("client    LedgerClient.append_many", appended, raw)

    url = f"http://127.0.0.1:{port}"
    worker = start_worker(env, url)
    try:
        posted = http(url, token, make_events(args.events), args.batch)
    finally:
        worker.terminate()
        worker.wait(90)
    report("http      POST /events", posted, raw)
    shape = f"{args.events:,} events of ~{size} bytes, batches of {args.batch}"
    for metric, rate in (
        ("LedgerClient.append_many", appended),
        ("POST /events, one worker", posted),
    ):
        emit(
            "append",
            metric,
            rate,
            "events/s",
            baseline=raw,
            baseline_label="plain aiokafka producer, same settings",
            note=shape,
        )


def report(what: str, rate: float, baseline_rate: float) -> None:
    print(f"{what:36} {rate:9,.0f} events/s  {rate / baseline_rate:5.0%} of baseline")


if __name__ == "__main__":
    main()
