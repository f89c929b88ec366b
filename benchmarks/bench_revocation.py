"""Emergency revocation of a large agent fleet on a real broker.

    python benchmarks/bench_revocation.py [--sessions 100000] [--sample 50]
        [--timeout 900]

In one run, on fresh topics of the broker named by LEDGER_KAFKA_BOOTSTRAP (else
the one `ledger kafka up` started):

1. One worker subprocess runs the projection, the session endpoints and the
   revocation engine (RocksDB tables with changelogs, notices in ledger format).
2. `--sessions` agent `session.started` events are produced in bulk; the run
   waits until the worker has folded them all. That time, from the first send to
   the last fold, is the baseline, beside a plain aiokafka consumer reading the
   same records.
3. `POST /revocations` issues `revoke.emergency` for agents. From just before
   that request it measures (a) when the first and the last of `--sample`
   sessions (spread over the partitions) is answered inactive by
   `GET /sessions/{id}`, (b) when the engine has appended every revocation, and
   (c) when all notices are on `session.revocations`.

The ratios against the fold of the starts are the numbers to compare between
machines. Every wait is bounded by `--timeout`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from results import emit

from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.topics import ledger_topics
from schemas import LifecycleRequest, Principal, Scope, SessionStarted, serialize

PARTITIONS = 8
ADMIN = "bench-admin-token"
READER = "bench-reader-token"
INVOICES = Scope(resource="s3://invoices/*", operations=("read", "list"))


class Deadline:
    """The run's time budget; every wait asks it how long it may still take."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self, what: str) -> None:
        if time.monotonic() > self.ends:
            raise SystemExit(f"{what} not done within the {self.seconds:.0f} s budget")


def agent_starts(count: int, t0: datetime) -> list[tuple[bytes, bytes]]:
    """`count` agent session starts in event time after `t0`, as (key, value)."""
    records = []
    for n in range(count):
        session = f"agent-{n:07d}"
        event = SessionStarted(
            event_id=uuid.UUID(int=n + 1),
            occurred_at=t0 + timedelta(milliseconds=n),
            session_id=session,
            category="agent",
            principal=Principal(
                id=f"svc-{n % 500}@acme", kind="ai_agent", agent_type="batch"
            ),
            lifecycle=LifecycleRequest(task_id=f"task-{n}"),
            scopes=(INVOICES,),
        )
        records.append((session.encode(), serialize(event)))
    return records


async def produce(bootstrap: str, topic: str, records: list) -> None:
    """Send every record keyed with the murmur2 partitioner; wait for all acks."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def plain_consume(bootstrap: str, topic: str, total: int) -> float:
    """Seconds a plain aiokafka consumer takes to read `total` records of `topic`."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=2000
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = 0
        started = time.perf_counter()
        while seen < total:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                seen += len(batch)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def get(port: int, path: str, token: str = READER) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return 0, None


def wait_until(deadline: Deadline, what: str, condition) -> float:
    """Poll `condition` until true; return when it became true (perf_counter)."""
    while not condition():
        deadline.check(what)
        time.sleep(0.05)
    return time.perf_counter()


async def watch_emergency(
    port: int, bootstrap: str, topic: str, sample: list[str], total: int, budget: float
) -> dict[str, float]:
    """Issue the emergency; time validity rejections, the sweep and the notices."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=5000
    )
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    marks: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {READER}"}
    base = f"http://127.0.0.1:{port}"

    async def poll_validity(session: aiohttp.ClientSession) -> None:
        rejected: set[str] = set()
        while len(rejected) < len(sample):
            for session_id in sample:
                if session_id in rejected:
                    continue
                path = f"/sessions/{urllib.parse.quote(session_id, safe='')}"
                async with session.get(base + path, headers=headers) as reply:
                    body = await reply.json()
                if not body["active"]:
                    rejected.add(session_id)
                    marks.setdefault("first_rejected", time.perf_counter())
                    marks.setdefault("first_reason", body.get("reason"))
        marks["all_sample_rejected"] = time.perf_counter()

    async def poll_sweep(session: aiohttp.ClientSession) -> None:
        while True:
            async with session.get(base + "/revocations", headers=headers) as reply:
                body = await reply.json()
            if body["revocations_appended"] >= total:
                marks["swept"] = time.perf_counter()
                return
            await asyncio.sleep(0.1)

    async def count_notices() -> None:
        seen = 0
        while seen < total:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                seen += len(batch)
        marks["notices"] = time.perf_counter()

    try:
        async with aiohttp.ClientSession() as session:
            command = {"type": "revoke.emergency", "reason": "benchmark"}
            started = time.perf_counter()
            async with session.post(
                base + "/revocations",
                json=command,
                headers={"Authorization": f"Bearer {ADMIN}"},
            ) as reply:
                assert reply.status == 202, await reply.text()
            marks["accepted"] = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(
                    poll_validity(session), poll_sweep(session), count_notices()
                ),
                budget,
            )
    finally:
        await consumer.stop()
    return {
        name: at - started if isinstance(at, float) else at
        for name, at in marks.items()
    }


def serve() -> None:
    """Worker mode: projection, sessions API and revocation engine, until SIGTERM."""
    import faust

    from ledger.worker import (
        build_worker,
        clock,
        projection,
        revocation,
        sessions_api,
        web,
    )

    settings = LedgerSettings()
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    components = [
        projection.install,
        clock.install,
        web.install,
        sessions_api.install,
        revocation.install,
    ]
    worker = build_worker(settings, components)
    faust.Worker(worker.app, loglevel="warning").execute_from_commandline()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.argv = [sys.argv[0], "worker"]
        serve()
        return
    deadline = Deadline(args.timeout)

    bootstrap = LedgerSettings().bootstrap_servers
    names = f"bench-revocation-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="bench-revocation-"))
    port = free_port()
    env = {
        "LEDGER_KAFKA_BOOTSTRAP": bootstrap,
        "LEDGER_APP_ID": names,
        "LEDGER_PARTITIONS": str(PARTITIONS),
        "LEDGER_DATA_DIR": str(work),
        "LEDGER_TOPIC_EVENTS": f"{names}.auth.events",
        "LEDGER_TOPIC_DEAD_LETTERS": f"{names}.dlq",
        "LEDGER_TOPIC_COMMANDS": f"{names}.commands",
        "LEDGER_TOPIC_REVOCATIONS": f"{names}.revocations",
        "LEDGER_TOPIC_ALERTS": f"{names}.alerts",
        "LEDGER_WEB_PORT": str(port),
        "LEDGER_ADMIN_TOKEN": ADMIN,
        "LEDGER_READER_TOKEN": READER,
        "LEDGER_WALL_CLOCK_TICKS": "false",
    }
    settings = LedgerSettings(
        **{k.removeprefix("LEDGER_").lower(): v for k, v in env.items()}
    )
    asyncio.run(ensure_topics(bootstrap, ledger_topics(settings)))

    log = work / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            env={**os.environ, **env},
            stdout=output,
            stderr=output,
        )
    try:
        wait_until(
            deadline,
            "the worker serving every partition",
            lambda: (
                (
                    worker.poll() is None
                    and (status := get(port, "/projection"))[0] == 200
                    and not status[1]["recovering"]
                    and len(status[1]["partitions"]) == PARTITIONS
                )
                or worker.poll() is not None
            ),
        )
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited; see {log}")

        n = args.sessions
        t0 = datetime.now(UTC) - timedelta(minutes=4)
        print(f"generating {n} agent session starts ...", flush=True)
        records = agent_starts(n, t0)
        sent = time.perf_counter()
        asyncio.run(produce(bootstrap, settings.topic_events, records))
        produced = time.perf_counter() - sent
        folded_at = wait_until(
            deadline,
            f"the fold of {n} starts",
            lambda: (get(port, "/projection")[1] or {}).get("folded", 0) >= n,
        )
        fold_seconds = folded_at - sent
        raw_seconds = asyncio.run(plain_consume(bootstrap, settings.topic_events, n))

        rng = random.Random(3)
        sample = [f"agent-{i:07d}" for i in rng.sample(range(n), min(args.sample, n))]
        assert all(get(port, f"/sessions/{s}")[1]["active"] for s in sample)
        remaining = deadline.ends - time.monotonic()
        marks = asyncio.run(
            watch_emergency(
                port, bootstrap, settings.topic_revocations, sample, n, remaining
            )
        )
    except TimeoutError as error:
        raise SystemExit(
            f"the emergency did not finish within the budget: {log}"
        ) from (error)
    finally:
        worker.terminate()
        worker.wait(90)

    notices = marks["notices"]
    print(f"{n} active agent sessions on {PARTITIONS} partitions, one worker")
    print(f"  produced in {produced:8.2f} s")
    print(
        f"  baseline: fold of the starts       {fold_seconds:8.2f} s "
        f"({n / fold_seconds:,.0f}/s)"
    )
    print(
        f"  baseline: plain aiokafka consume   {raw_seconds:8.2f} s "
        f"({n / raw_seconds:,.0f}/s)"
    )
    print("emergency revocation of agents, from just before POST /revocations:")
    print(f"  202 accepted                       {marks['accepted']:8.3f} s")
    print(
        f"  first sampled validity rejected    {marks['first_rejected']:8.3f} s "
        f"({marks['first_reason']})"
    )
    everyone = marks["all_sample_rejected"]
    print(f"  all {len(sample)} sampled rejected          {everyone:8.3f} s")
    print(f"  all revocations appended (sweep)   {marks['swept']:8.2f} s")
    print(f"  all {n} notices published     {notices:8.2f} s ({n / notices:,.0f}/s)")
    print("ratios:")
    print(f"  notices / fold of the starts       {notices / fold_seconds:8.2f}")
    print(f"  notices / plain consume            {notices / raw_seconds:8.2f}")
    print(
        f"  first rejection / fold of starts   "
        f"{marks['first_rejected'] / fold_seconds:8.4f}"
    )
    shape = f"{n:,} active agent sessions, emergency revocation of agents"
    emit(
        "revocation",
        "emergency: first validity check rejected",
        marks["first_rejected"],
        "s",
        baseline=fold_seconds,
        baseline_label=f"the worker's fold of the {n:,} starts",
        better="lower",
        note=shape,
    )
    emit(
        "revocation",
        "emergency: every notice published",
        notices,
        "s",
        baseline=raw_seconds,
        baseline_label=f"plain aiokafka read of the {n:,} starts",
        better="lower",
        note=f"{shape}; {n / notices:,.0f} notices/s",
    )


if __name__ == "__main__":
    main()
