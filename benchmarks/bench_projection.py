"""Session projection throughput on a real broker, against a plain consumer.

    python benchmarks/bench_projection.py [--events 30000] [--timeout 600]

In one run, on fresh topics of the broker named by LEDGER_KAFKA_BOOTSTRAP (else
the one `ledger kafka up` started):

1. A mixed stream of users, agents and hybrids (starts, heartbeats, accesses,
   token refreshes, task completions, ends, child links) is produced, with a tick
   to every partition each simulated minute.
2. baseline: a plain aiokafka consumer reads the whole topic, nothing more.
3. Faust floor: a worker whose one agent only iterates `stream.events()`: what
   Faust itself costs per record before any work is done.
4. projection: one worker with every session component (validation, fold,
   tables with changelogs, expiry index, derived appends, clock, web) folds the
   same topic from the start. Worker rates count the records handled between two
   samples of the worker's `/projection` counter, so start-up is left out.
5. fold alone: the same events parsed and folded in this process, no Kafka.
6. memory: 50,000 sessions of the same mix started and folded in this process.
   Reported per million sessions: the records' serialized size (what RocksDB and
   the changelog hold) and the expiry index's size in RAM (tracemalloc).

The ratio projection / baseline is the number to compare between machines. Rates
are also given per CPU-second of each side's own process, which stays meaningful
when other work shares the machine.
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
import tracemalloc
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from results import emit

from ledger.domain.deadlines import DeadlineIndex
from ledger.domain.fold import apply
from ledger.domain.lifecycle import next_expiry
from ledger.domain.records import SessionRecord
from ledger.kafka.admin import ensure_topics
from ledger.policy import Policy
from ledger.settings import LedgerSettings
from ledger.topics import ledger_topics
from ledger.worker.clock import TICK_HEADERS, tick_value
from schemas import (
    AccessRecorded,
    Actor,
    Delegation,
    HeartbeatReceived,
    LifecycleRequest,
    Principal,
    Scope,
    SessionEnded,
    SessionStarted,
    TaskCompleted,
    TokenRefreshed,
    parse_event,
    serialize,
)

PARTITIONS = 8
T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
READER = "bench-reader-token"
INVOICES = Scope(resource="s3://invoices/*", operations=("read", "list"))


def make_events(
    count: int, seed: int = 7, start_share: float = 0.04
) -> list[tuple[bytes, bytes | None]]:
    """`count` (key, value) records of a mixed stream; ticks have no key.

    About `start_share` of the events start a session; the rest happen in live
    sessions.
    """
    rng = random.Random(seed)
    records: list[tuple[bytes, bytes | None]] = []
    live: list[tuple[str, str, Principal]] = []
    users: list[str] = []
    clock = T0
    n = 0

    def envelope(session: str, category: str, principal: Principal) -> dict:
        return {
            "event_id": uuid.UUID(int=rng.getrandbits(128)),
            "occurred_at": clock,
            "session_id": session,
            "category": category,
            "principal": principal,
        }

    while len(records) < count:
        n += 1
        clock += timedelta(milliseconds=rng.randint(5, 60))
        roll = rng.random()
        if roll < start_share or not live:
            session = f"s-{n}"
            kind = rng.random()
            if kind < 0.4:
                principal = Principal(id=f"user-{n % 5000}@acme", kind="human")
                event = SessionStarted(
                    **envelope(session, "user", principal), scopes=(INVOICES,)
                )
                users.append(session)
                category = "user"
            elif kind < 0.9 or not users:
                principal = Principal(id=f"svc-{n % 300}", kind="ai_agent")
                parent = rng.choice(users) if users and rng.random() < 0.3 else None
                event = SessionStarted(
                    **envelope(session, "agent", principal),
                    parent_session_id=parent,
                    lifecycle=LifecycleRequest(
                        task_id=f"task-{n}", heartbeat_ttl_seconds=120
                    ),
                    scopes=(INVOICES,),
                )
                category = "agent"
            else:
                principal = Principal(id=f"copilot-{n % 50}", kind="ai_agent")
                subject = rng.choice(users)
                event = SessionStarted(
                    **envelope(session, "hybrid", principal),
                    delegation=Delegation(
                        subject="someone@acme",
                        subject_session_id=subject,
                        actors=(Actor(id=principal.id, kind=principal.kind),),
                    ),
                    scopes=(
                        Scope(resource="s3://invoices/2025/*", operations=("read",)),
                    ),
                )
                category = "hybrid"
            live.append((session, category, principal))
        else:
            session, category, principal = rng.choice(live)
            kind = rng.random()
            base = envelope(session, category, principal)
            if kind < 0.45:
                event = HeartbeatReceived(**base)
            elif kind < 0.85:
                event = AccessRecorded(
                    **base,
                    resource=f"s3://invoices/2025/{n % 97}.pdf",
                    operation="read",
                )
            elif kind < 0.95:
                event = TokenRefreshed(**base, reason="proactive", token_id=f"t-{n}")
            else:
                live.remove((session, category, principal))
                if category == "agent":
                    event = TaskCompleted(
                        **base, task_id=f"task-{session[2:]}", outcome="succeeded"
                    )
                else:
                    event = SessionEnded(**base, reason="logout")
        records.append((session.encode(), serialize(event)))
        if n % 500 == 0:
            records.append((b"", tick_value(clock)))
    records.append((b"", tick_value(clock)))
    return records


async def produce(bootstrap: str, topic: str, records: list) -> dict[int, int]:
    """Send every record (ticks to every partition); return the end offsets."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        sent = []
        for key, value in records:
            if key:
                sent.append(await producer.send(topic, value, key=key))
            else:
                for partition in range(PARTITIONS):
                    sent.append(
                        await producer.send(
                            topic, value, partition=partition, headers=TICK_HEADERS
                        )
                    )
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return await end_offsets(bootstrap, topic)


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(
            [TopicPartition(topic, p) for p in range(PARTITIONS)]
        )
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process so far; this one when `pid` is None."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def baseline(
    bootstrap: str, topic: str, ends: dict[int, int]
) -> tuple[float, float]:
    """Records per second and per CPU-second a plain aiokafka consumer reads."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=2000
    )
    await consumer.start()
    try:
        wanted = {TopicPartition(topic, p): end for p, end in ends.items() if end}
        consumer.assign(list(wanted))
        await consumer.seek_to_beginning(*wanted)
        total = sum(wanted.values())
        seen = 0
        started, cpu = time.perf_counter(), cpu_seconds()
        while seen < total:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                seen += len(batch)
        elapsed, used = time.perf_counter() - started, cpu_seconds() - cpu
        return total / elapsed, total / used
    finally:
        await consumer.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_status(port: int) -> dict | None:
    """The worker's `/projection` answer, or None while it does not answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/projection",
        headers={"Authorization": f"Bearer {READER}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return json.loads(reply.read())
    except OSError:
        return None


def run_worker(
    mode: str, env: dict[str, str], total: int, timeout: float
) -> tuple[float, float]:
    """Records per second and per CPU-second a worker in `mode` handles, between
    its first and last sample; the topic is read from its start."""
    env = {
        **env,
        "LEDGER_APP_ID": f"{env['LEDGER_APP_ID']}-{mode}",
        "LEDGER_DATA_DIR": f"{env['LEDGER_DATA_DIR']}/{mode}",
        "LEDGER_WEB_PORT": str(free_port()),
    }
    Path(env["LEDGER_DATA_DIR"]).mkdir(parents=True)
    port = int(env["LEDGER_WEB_PORT"])
    log = Path(env["LEDGER_DATA_DIR"]) / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, __file__, "--serve", mode],
            env={**os.environ, **env},
            stdout=output,
            stderr=output,
        )
    try:
        deadline = time.monotonic() + timeout
        first: tuple[float, int, float] | None = None
        last: tuple[float, int, float] = (0.0, 0, 0.0)
        while time.monotonic() < deadline:
            status = worker_status(port)
            now, cpu = time.perf_counter(), cpu_seconds(worker.pid)
            if status is not None and status["folded"] > 0:
                if first is None:
                    first = (now, status["folded"], cpu)
                last = (now, status["folded"], cpu)
                if status["folded"] >= total:
                    break
            if worker.poll() is not None:
                raise SystemExit(f"the {mode} worker exited; see {log}")
            # Each sample costs the worker one request: twice a second is noise.
            time.sleep(0.5)
        else:
            raise SystemExit(
                f"the {mode} worker handled {last[1]} of {total} in {timeout:.0f} s"
            )
        assert first is not None
        handled = last[1] - first[1]
        return handled / (last[0] - first[0]), handled / (last[2] - first[2])
    finally:
        worker.terminate()
        worker.wait(90)


def fold_rate(records: list) -> float:
    """Events per second of parse + pure fold in this process, no Kafka."""
    policy = Policy()
    store: dict[str, SessionRecord] = {}
    started = time.perf_counter()
    for offset, (key, value) in enumerate(records):
        if not key:
            continue
        event = parse_event(value)
        record, _ = apply(
            store.get(event.session_id), event, policy, partition=0, offset=offset
        )
        if record is not None:
            store[event.session_id] = record
    return sum(1 for key, _ in records if key) / (time.perf_counter() - started)


def memory_per_million(sessions: int) -> tuple[float, float]:
    """Bytes per million sessions: serialized records, and the expiry index.

    `sessions` sessions of the stream's mix are started and folded in this
    process; records are measured by their stored bytes, the index by
    tracemalloc. Later events add little: times, health and a refresh count.
    """
    policy = Policy()
    records = [
        (key, value)
        for key, value in make_events(sessions, seed=11, start_share=1.0)
        if key
    ]
    store: dict[str, SessionRecord] = {}
    for offset, (_, value) in enumerate(records):
        event = parse_event(value)
        record, _ = apply(None, event, policy, partition=0, offset=offset)
        assert record is not None
        store[event.session_id] = record
    stored = sum(len(record.to_bytes()) for record in store.values())
    tracemalloc.start()
    index = DeadlineIndex()
    watched = 0
    for session, record in store.items():
        first = next_expiry(record)
        if first is not None:
            index.watch(session.encode(), first[0])
            watched += 1
    in_ram, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return stored / len(store) * 1e6, in_ram / max(watched, 1) * 1e6


def serve(mode: str) -> None:
    """Worker mode, until SIGTERM: every session component, or (`floor`) one
    agent that only iterates the stream and counts."""
    import faust
    from faust.web import Request, Response, View

    from ledger.worker import build_worker, clock, projection, sessions_api, web

    settings = LedgerSettings()
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    if mode == "projection":
        worker = build_worker(
            settings,
            [projection.install, clock.install, web.install, sessions_api.install],
        )
    else:
        worker = build_worker(settings, [])
        handled = {"folded": 0}

        @worker.app.agent(worker.events, name="floor", concurrency=1)
        async def floor(stream):
            async for _ in stream.events():
                handled["folded"] += 1

        @worker.app.page("/projection")
        class Handled(View):
            async def get(self, request: Request) -> Response:
                return self.json(handled)

    faust.Worker(worker.app, loglevel="warn").execute_from_commandline()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--memory-sessions", type=int, default=50_000)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--serve", choices=("projection", "floor"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        sys.argv = [sys.argv[0], "worker"]
        serve(args.serve)
        return

    bootstrap = LedgerSettings().bootstrap_servers
    names = f"bench-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="bench-projection-"))
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
        "LEDGER_READER_TOKEN": READER,
        "LEDGER_WALL_CLOCK_TICKS": "false",
    }
    settings = LedgerSettings(
        **{k.removeprefix("LEDGER_").lower(): v for k, v in env.items()}
    )
    asyncio.run(ensure_topics(bootstrap, ledger_topics(settings)))

    print(f"generating {args.events} records ...", flush=True)
    records = make_events(args.events)
    ends = asyncio.run(produce(bootstrap, settings.topic_events, records))
    total = sum(ends.values())
    print(f"{total} records on {settings.topic_events} ({PARTITIONS} partitions)")

    raw = asyncio.run(baseline(bootstrap, settings.topic_events, ends))
    floor = run_worker("floor", env, total, args.timeout)
    folded = run_worker("projection", env, total, args.timeout)
    print(f"{'':40}{'records/s':>12}{'per CPU-second':>16}")
    for name, (rate, per_cpu) in (
        ("baseline: plain aiokafka consumer", raw),
        ("Faust floor: agent that only iterates", floor),
        ("projection: one worker, all agents", folded),
    ):
        print(f"{name:40}{rate:12,.0f}{per_cpu:16,.0f}")
    for name, (rate, per_cpu), (base, base_cpu) in (
        ("ratio projection / baseline", folded, raw),
        ("ratio projection / Faust floor", folded, floor),
    ):
        print(f"{name:40}{rate / base:12.2%}{per_cpu / base_cpu:16.2%}")
    for metric, value, base, unit in (
        ("session worker throughput", folded[0], raw[0], "records/s"),
        ("session worker per CPU-second", folded[1], raw[1], "records/CPU-s"),
    ):
        emit(
            "projection",
            metric,
            value,
            unit,
            baseline=base,
            baseline_label="plain aiokafka consumer, same topic",
            note=f"{total:,} records, fold + clock + web + session API",
        )

    print(f"pure fold in this process (parse + apply): {fold_rate(records):,.0f}/s")
    record_bytes, index_bytes = memory_per_million(args.memory_sessions)
    print(
        f"memory per million sessions: {record_bytes / 2**20:,.0f} MiB of "
        f"serialized records (RocksDB and changelog), {index_bytes / 2**20:,.0f} MiB "
        "of expiry index in RAM per million watched"
    )


if __name__ == "__main__":
    main()
