"""Full-pipeline throughput: one worker with every component, against a plain consumer.

    python benchmarks/bench_pipeline.py [--events 100000] [--timeout 1800]

In one run, on fresh topics of the broker named by LEDGER_KAFKA_BOOTSTRAP (else
the one `ledger kafka up` started):

1. `--events` records of the simulator's organisation (people, agents, hybrids,
   labelled incidents, one malformed record in a thousand) are produced to the
   ledger topic with the simulator's event-time ticks, before any worker runs.
2. `ledger worker` starts on those topics with every default component:
   validation and fold, lifecycle clock, ingest API, session API, revocation
   engine, audit writer into chDB, monitors (re-keyed by principal) and
   metrics. Wall-clock ticks are off, because the traffic is in simulated time.
3. The rate counts the records of the ledger topic (simulated events, ticks,
   and everything the worker appended) from the first sample of its fold
   counter until its consumer group has committed every offset of every topic
   it reads (`ledger.kafka.lag.group_lag`), so its start-up is left out.
4. baseline: after the worker stopped, a plain aiokafka consumer reads the same
   topic from the start, nothing more.

The ratio to the baseline is the number to compare between machines; the same
ratio per CPU-second of each side's own process is also given, which stays
meaningful when other work shares the machine. DESIGN.md's target is 30 %.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from results import emit
from worker_process import (
    WorkerProcess,
    discard_state,
    drained_at,
    end_offsets,
    get_json,
    plain_read,
    settings_of,
    unique_name,
    worker_env,
)

from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.simulate.clock import MINUTE, to_datetime
from ledger.simulate.scenario import Scenario
from ledger.simulate.simulation import Simulation
from ledger.topics import ledger_topics
from ledger.worker.clock import TICK_HEADERS, tick_value
from monitors.worker import routed_topic_name

SIMULATED_START = date(2026, 9, 7)
EVENTS_PER_DAY = 15_000
"""About what the scenario below produces per simulated day."""
TICK_EVERY = 5 * MINUTE
"""Simulated time between two rounds of ticks, as the simulator sends them."""


def simulated_records(count: int, seed: int) -> list:
    """The first `count` records of a simulated organisation, in event time."""
    days = min(366, count // EVENTS_PER_DAY + 2)
    scenario = Scenario(
        humans=60,
        agents=30,
        hybrids=10,
        days=days,
        seed=seed,
        start=SIMULATED_START,
        bad_input_rate=0.001,
    )
    simulation = Simulation(scenario, now=datetime.now(UTC))
    records = list(itertools.islice(simulation.records(), count))
    if len(records) < count:
        raise SystemExit(f"the scenario yields {len(records)} records, not {count}")
    return records


async def produce(
    bootstrap: str, topic: str, records: list, rate: float | None = None
) -> tuple[int, int]:
    """Send the records keyed by session, murmur2, with a round of event-time ticks
    to every partition each `TICK_EVERY` of simulated time; (records, ticks).

    With `rate`, at most that many records per second, as live traffic comes.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
        partitioner=DefaultPartitioner(),
    )
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        pending: list[asyncio.Future] = []
        ticks = 0
        next_tick = records[0].at - records[0].at % TICK_EVERY + TICK_EVERY
        began = time.monotonic()
        for sent, record in enumerate(records):
            if rate and sent % 50 == 0:
                ahead = began + sent / rate - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
            while record.at >= next_tick:
                value = tick_value(to_datetime(next_tick))
                for partition in partitions:
                    pending.append(
                        await producer.send(
                            topic, value, partition=partition, headers=TICK_HEADERS
                        )
                    )
                ticks += len(partitions)
                next_tick += TICK_EVERY
            pending.append(await producer.send(topic, record.value, key=record.key))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(records), ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()

    bootstrap = LedgerSettings().bootstrap_servers
    name = unique_name("pipeline")
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    env = worker_env(bootstrap, name, work, LEDGER_WALL_CLOCK_TICKS="false")
    settings = settings_of(env)

    print(f"simulating {args.events:,} records ...", flush=True)
    records = simulated_records(args.events, args.seed)
    asyncio.run(ensure_topics(bootstrap, ledger_topics(settings)))
    sent, ticks = asyncio.run(produce(bootstrap, settings.topic_events, records))
    produced = sum(asyncio.run(end_offsets(bootstrap, settings.topic_events)).values())
    print(
        f"{sent:,} records and {ticks:,} ticks on "
        f"{settings.topic_events} ({produced:,} offsets)",
        flush=True,
    )

    worker = WorkerProcess.ledger_worker(env, work / "worker.log")
    deadline = time.monotonic() + args.timeout
    try:
        # The first sample: healthy and folding; what came before is start-up.
        while True:
            worker.check_alive()
            health, body = get_json(worker.port, "/health")
            folded = worker.folded()
            if health == 200 and folded > 0:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker never folded healthy: {worker.log}")
            time.sleep(0.2)
        first_at, first_cpu = time.perf_counter(), worker.cpu_seconds()
        components = body["components"]
        print(f"worker components: {', '.join(components)}", flush=True)
        topics = [
            settings.topic_events,
            settings.topic_dead_letters,
            settings.topic_commands,
            settings.topic_revocations,
            settings.topic_alerts,
            routed_topic_name(settings),
        ]
        done_at, done_cpu = asyncio.run(
            drained_at(
                bootstrap,
                settings.app_id,
                topics,
                timeout=deadline - time.monotonic(),
                probe=worker.cpu_seconds,
            )
        )
        worker.check_alive()
    finally:
        worker.stop()
    total = sum(asyncio.run(end_offsets(bootstrap, settings.topic_events)).values())
    handled = total - folded
    rate = handled / (done_at - first_at)
    per_cpu = handled / (done_cpu - first_cpu)

    read, seconds, cpu = asyncio.run(plain_read(bootstrap, settings.topic_events))
    raw, raw_cpu = read / seconds, read / cpu
    print(
        f"{total:,} records on the ledger topic after the run "
        f"({total - produced:,} appended by the worker); "
        f"{handled:,} handled in {done_at - first_at:.1f} s"
    )
    print(f"{'':44}{'records/s':>12}{'per CPU-second':>16}")
    print(f"{'baseline: plain aiokafka consumer':44}{raw:12,.0f}{raw_cpu:16,.0f}")
    print(f"{'full worker, every default component':44}{rate:12,.0f}{per_cpu:16,.0f}")
    print(f"{'ratio':44}{rate / raw:12.1%}{per_cpu / raw_cpu:16.1%}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    note = (
        f"{args.events:,} simulated events, {total:,} records with ticks and "
        f"appends; {len(components)} components"
    )
    emit(
        "pipeline",
        "full worker throughput, end to end",
        rate,
        "events/s",
        baseline=raw,
        baseline_label="plain aiokafka consumer, same topic",
        note=note,
    )
    # The tables and chDB are kept only when the run failed; the logs always.
    discard_state(work)
    emit(
        "pipeline",
        "full worker throughput per CPU-second",
        per_cpu,
        "events/CPU-s",
        baseline=raw_cpu,
        baseline_label="plain aiokafka consumer, same topic",
        note="each side's own process CPU time",
    )


if __name__ == "__main__":
    main()
