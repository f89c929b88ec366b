"""Recovery of a worker restarted on a million sessions, against reading its changelog.

    python benchmarks/bench_recovery.py [--sessions 1000000] [--sample 20]
        [--timeout 3600] [--no-replay]

In one run, on fresh topics of the broker named by LEDGER_KAFKA_BOOTSTRAP (else
the one `ledger kafka up` started):

1. A worker subprocess runs the session components (validation and fold,
   lifecycle clock, health, session API) with RocksDB tables. `--sessions`
   `session.started` events (agents and people, keyed by session id) are
   produced in bulk with a plain aiokafka producer, and the worker folds them
   until its consumer group has committed them all. The fold is reported too.
2. The worker is stopped (SIGTERM) and restarted twice on the same app id:
   - resume: with its data dir kept, so RocksDB resumes from its saved offsets;
   - replay: with a fresh data dir, so the whole changelog is read again.
   Each restart is timed from the spawn until `/health` answers 200 and
   `GET /sessions/{id}` answers active for every session of a sample spread
   over the partitions.
3. baseline: a plain aiokafka consumer reads the sessions changelog topic from
   its start to its end, nothing more.

The ratios of the restart times to the baseline are what to compare between
machines. On a 2-core box a million sessions take many minutes to fold; the
run says how long.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from results import emit
from worker_process import (
    WorkerProcess,
    discard_state,
    drained_at,
    get_json,
    plain_read,
    settings_of,
    unique_name,
    worker_env,
)

from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.topics import ledger_topics
from schemas import (
    LifecycleRequest,
    Principal,
    Scope,
    SessionStarted,
    parse_event,
    serialize,
)

INVOICES = Scope(resource="s3://acme-invoices/*", operations=("read", "list"))
ZERO_ID = str(UUID(int=0)).encode()
SESSION_MARK = b"sess-0000000"
PRINCIPAL_MARK = b"who-0000"


def templates(at: datetime) -> list[bytes]:
    """Serialized starts of an agent and of a person, with marks to replace."""
    agent = SessionStarted(
        event_id=UUID(int=0),
        occurred_at=at,
        session_id=SESSION_MARK.decode(),
        category="agent",
        principal=Principal(
            id=f"{PRINCIPAL_MARK.decode()}@acme", kind="ai_agent", agent_type="batch"
        ),
        lifecycle=LifecycleRequest(task_id=f"task-{SESSION_MARK.decode()}"),
        scopes=(INVOICES,),
        auth_method="client_credentials",
    )
    person = SessionStarted(
        event_id=UUID(int=0),
        occurred_at=at,
        session_id=SESSION_MARK.decode(),
        category="user",
        principal=Principal(id=f"{PRINCIPAL_MARK.decode()}@acme", kind="human"),
        scopes=(INVOICES,),
        mfa=True,
        auth_method="oidc",
    )
    return [serialize(agent), serialize(agent), serialize(person)]


def session_id(number: int) -> str:
    return f"sess-{number:07d}"


def starts(count: int, at: datetime) -> Iterator[tuple[bytes, bytes]]:
    """`count` session starts as (key, value): two agents for each person, all
    at `at`, so that no deadline passes while they are folded."""
    shapes = templates(at)
    for number in range(count):
        session = session_id(number).encode()
        value = (
            shapes[number % 3]
            .replace(ZERO_ID, str(UUID(int=number + 1)).encode())
            .replace(SESSION_MARK, session)
            .replace(PRINCIPAL_MARK, f"who-{number % 5000:04d}".encode())
        )
        yield session, value


async def produce(bootstrap: str, topic: str, records: Iterator) -> int:
    """Send every record keyed with murmur2, in bulk; wait for all acks."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        linger_ms=20,
        max_batch_size=512 * 1024,
        partitioner=DefaultPartitioner(),
    )
    await producer.start()
    sent = 0
    try:
        pending = []
        for key, value in records:
            pending.append(await producer.send(topic, value, key=key))
            sent += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


def ready_at(worker: WorkerProcess, sample: list[str], timeout: float) -> float:
    """When (perf_counter) /health was 200 and every sampled session answered
    active."""
    deadline = time.monotonic() + timeout
    waiting = list(sample)
    while time.monotonic() < deadline:
        worker.check_alive()
        if get_json(worker.port, "/health")[0] == 200:
            while waiting:
                status, body = get_json(worker.port, f"/sessions/{waiting[0]}")
                if status != 200 or not body["active"]:
                    break
                waiting.pop(0)
            if not waiting:
                return time.perf_counter()
        time.sleep(0.1)
    raise SystemExit(
        f"the restarted worker was not ready within {timeout:.0f} s "
        f"({len(waiting)} sampled sessions unanswered): {worker.log}"
    )


def restart(
    command: list[str], env: dict, log: Path, sample: list[str], timeout: float
) -> float:
    """Seconds from spawning the worker until it is ready; it is stopped after."""
    spawned = time.perf_counter()
    worker = WorkerProcess(command, env, log)
    try:
        return ready_at(worker, sample, timeout) - spawned
    finally:
        worker.stop()


def serve() -> None:
    """Worker mode: the session components, until SIGTERM."""
    import faust

    from ledger.worker import build_worker, clock, projection, sessions_api, web

    settings = LedgerSettings()
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    components = [projection.install, clock.install, web.install, sessions_api.install]
    worker = build_worker(settings, components)
    faust.Worker(worker.app, loglevel="warning").execute_from_commandline()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument(
        "--no-replay", action="store_true", help="skip the fresh-data-dir restart"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.argv = [sys.argv[0], "worker"]
        serve()
        return
    began = time.monotonic()

    def left() -> float:
        return max(60.0, args.timeout - (time.monotonic() - began))

    bootstrap = LedgerSettings().bootstrap_servers
    name = unique_name("recovery")
    work = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    env = worker_env(bootstrap, name, work / "kept", LEDGER_WALL_CLOCK_TICKS="false")
    settings = settings_of(env)
    asyncio.run(ensure_topics(bootstrap, ledger_topics(settings)))
    command = [sys.executable, __file__, "--serve"]
    n = args.sessions
    rng = random.Random(5)
    sample = [session_id(i) for i in rng.sample(range(n), min(args.sample, n))]
    for _, value in starts(3, datetime.now(UTC)):
        parse_event(value)  # the templates stay valid events

    worker = WorkerProcess(command, env, work / "fold.log")
    try:
        worker.wait_serving(left())
        print(f"producing {n:,} session starts ...", flush=True)
        at = datetime.now(UTC) - timedelta(minutes=1)
        sent_at, cpu_at = time.perf_counter(), worker.cpu_seconds()
        asyncio.run(produce(bootstrap, settings.topic_events, starts(n, at)))
        produced = time.perf_counter() - sent_at
        print(f"produced in {produced:.1f} s; folding ...", flush=True)
        folded_at, folded_cpu = asyncio.run(
            drained_at(
                bootstrap,
                settings.app_id,
                [settings.topic_events],
                timeout=left(),
                probe=worker.cpu_seconds,
            )
        )
        fold, fold_cpu = folded_at - sent_at, folded_cpu - cpu_at
        print(f"folded in {fold:.1f} s from the first send", flush=True)
        worker.check_alive()
    finally:
        stopping = time.perf_counter()
        worker.stop()
        stop = time.perf_counter() - stopping

    changelog = f"{settings.app_id}-sessions-changelog"
    read, read_seconds, _ = asyncio.run(plain_read(bootstrap, changelog))
    events, events_seconds, _ = asyncio.run(
        plain_read(bootstrap, settings.topic_events)
    )
    print(f"baseline: plain read of {changelog}: {read:,} records", flush=True)

    resume = restart(command, env, work / "resume.log", sample, left())
    print(f"resume with RocksDB kept: ready in {resume:.1f} s", flush=True)
    replay = None
    if not args.no_replay:
        fresh = {**env, "LEDGER_DATA_DIR": str(work / "fresh")}
        replay = restart(command, fresh, work / "replay.log", sample, left())
        print(f"replay into a fresh data dir: ready in {replay:.1f} s", flush=True)

    total = time.monotonic() - began
    print(f"{n:,} sessions on 8 partitions; the run took {total / 60:.1f} min")
    print(f"  produced                         {produced:8.1f} s")
    print(f"  folded (first send to committed) {fold:8.1f} s  ({n / fold:,.0f}/s)")
    print(f"  worker CPU for the fold          {fold_cpu:8.1f} s")
    print(f"  worker stopped in                {stop:8.1f} s")
    print(f"  baseline: plain read, changelog  {read_seconds:8.1f} s  ({read:,})")
    print(f"  restart, RocksDB kept (resume)   {resume:8.1f} s")
    if replay is not None:
        print(f"  restart, fresh dir (replay)      {replay:8.1f} s")
    print(f"  load average (1 min) at the end  {os.getloadavg()[0]:8.1f}")
    note = (
        f"{n:,} sessions, session components, sample of {len(sample)}; run took "
        f"{total / 60:.0f} min"
    )
    # The tables and chDB are kept only when the run failed; the logs always.
    discard_state(work)
    label = f"plain aiokafka read of the changelog, {read:,} records"
    emit(
        "recovery",
        "restart ready, RocksDB kept (resume)",
        resume,
        "s",
        baseline=read_seconds,
        baseline_label=label,
        better="lower",
        note=note,
    )
    if replay is not None:
        emit(
            "recovery",
            "restart ready, fresh data dir (changelog replay)",
            replay,
            "s",
            baseline=read_seconds,
            baseline_label=label,
            better="lower",
            note=note,
        )
    emit(
        "recovery",
        "fold of the session starts",
        n / fold,
        "events/s",
        baseline=events / events_seconds,
        baseline_label="plain aiokafka consumer, same topic",
        note=f"first send to committed, {n:,} starts produced in {produced:.0f} s; "
        f"{n / fold_cpu:,.0f} per worker CPU-second",
    )


if __name__ == "__main__":
    main()
