"""A ledger worker run as a subprocess on topics of its own, for the benchmarks.

Shared by `bench_pipeline.py`, `bench_alert_latency.py` and `bench_recovery.py`:
fresh topic names per run, the worker's environment, readiness, its CPU time,
a clean stop, the consumer group's drain, and a plain aiokafka read of a topic
(the baseline most of them compare against).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from ledger.kafka.admin import admin_client
from ledger.kafka.lag import group_lag
from ledger.settings import LedgerSettings

PARTITIONS = 8
READER = "bench-reader-token"
ADMIN = "bench-admin-token"
PRODUCER = "bench-producer-token"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_env(bootstrap: str, name: str, data_dir: Path, **extra: str) -> dict:
    """`LEDGER_*` variables of a worker on topics named after `name` alone."""
    return {
        "LEDGER_KAFKA_BOOTSTRAP": bootstrap,
        "LEDGER_APP_ID": name,
        "LEDGER_PARTITIONS": str(PARTITIONS),
        "LEDGER_DATA_DIR": str(data_dir),
        "LEDGER_TOPIC_EVENTS": f"{name}.auth.events",
        "LEDGER_TOPIC_DEAD_LETTERS": f"{name}.dlq",
        "LEDGER_TOPIC_COMMANDS": f"{name}.commands",
        "LEDGER_TOPIC_REVOCATIONS": f"{name}.revocations",
        "LEDGER_TOPIC_ALERTS": f"{name}.alerts",
        "LEDGER_WEB_PORT": str(free_port()),
        "LEDGER_READER_TOKEN": READER,
        "LEDGER_ADMIN_TOKEN": ADMIN,
        "LEDGER_PRODUCER_TOKEN": PRODUCER,
        **extra,
    }


def unique_name(prefix: str) -> str:
    """A topic and app id prefix no earlier run used."""
    return f"bench-{prefix}-{uuid.uuid4().hex[:8]}"


def settings_of(env: dict[str, str]) -> LedgerSettings:
    """The settings a worker with `env` runs under."""
    return LedgerSettings(
        **{k.removeprefix("LEDGER_").lower(): v for k, v in env.items()}
    )


def get_json(port: int, path: str, token: str = READER) -> tuple[int, Any]:
    """(status, JSON body) of a GET on the worker; status 0 when it does not answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except (OSError, ValueError):
        return 0, None


class WorkerProcess:
    """One worker subprocess, its log, its port; stopped with SIGTERM."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.env = env
        self.port = int(env["LEDGER_WEB_PORT"])
        self.log = log
        Path(env["LEDGER_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command, env={**os.environ, **env}, stdout=output, stderr=output
            )

    @classmethod
    def ledger_worker(cls, env: dict[str, str], log: Path) -> WorkerProcess:
        """`ledger worker`: every default component, the topics created first."""
        ledger = Path(sys.executable).parent / "ledger"
        return cls([str(ledger), "worker", "--log-level", "warning"], env, log)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(
                f"the worker exited with {self.process.returncode}; see {self.log}"
            )

    def wait_serving(self, timeout: float) -> float:
        """Wait until /health is 200 and every partition is assigned and recovered;
        return when that was (perf_counter)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            health, _ = get_json(self.port, "/health")
            if health == 200:
                status, body = get_json(self.port, "/projection")
                if (
                    status == 200
                    and not body["recovering"]
                    and len(body["partitions"]) == PARTITIONS
                ):
                    return time.perf_counter()
            time.sleep(0.25)
        raise SystemExit(
            f"the worker was not serving within {timeout:.0f} s: {self.log}"
        )

    def folded(self) -> int:
        """Records and ticks the worker's ledger agent folded since it started."""
        status, body = get_json(self.port, "/projection")
        return int(body["folded"]) if status == 200 else 0

    def cpu_seconds(self) -> float:
        """CPU time (user + system, every thread) the worker has used so far."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 120.0) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within `timeout`."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


def discard_state(work: Path) -> None:
    """Remove the worker's tables and chDB under `work`; keep its logs."""
    for entry in work.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
    print(f"worker logs kept in {work}", flush=True)


async def drained_at(
    bootstrap: str,
    group: str,
    topics: list[str],
    *,
    timeout: float,
    settle: float = 4.0,
    probe: Callable[[], float] = time.process_time,
) -> tuple[float, float]:
    """When (perf_counter) `group` first had nothing left to commit on `topics` and
    still had nothing `settle` seconds later, and what `probe` said then.

    The settle time covers what the worker appends after reading its cause
    (expiries, re-keyed events, alerts). Offsets are committed every 2.8 s, so
    the answer is late by up to that much plus one poll.
    """
    deadline = time.monotonic() + timeout
    zero_since: tuple[float, float] | None = None
    while True:
        lags = await group_lag(bootstrap, group, topics)
        now = time.perf_counter()
        if all(entry.lag == 0 for entry in lags):
            zero_since = zero_since or (now, probe())
            if now - zero_since[0] >= settle:
                return zero_since
        else:
            zero_since = None
        if time.monotonic() > deadline:
            behind = sum(entry.lag for entry in lags)
            raise SystemExit(
                f"group {group} still trailed by {behind} records after {timeout:.0f} s"
            )
        await asyncio.sleep(0.5)


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The end offset of each partition of `topic`."""
    async with admin_client(bootstrap) as admin:
        described = await admin.describe_topics([topic])
    partitions = [
        TopicPartition(topic, entry["partition"])
        for found in described
        if found.get("error_code", 0) == 0
        for entry in found["partitions"]
    ]
    if not partitions:
        raise SystemExit(f"topic {topic} does not exist on {bootstrap}")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    # aiokafka raises CancelledError from stop() if a task it started never ran.
    await asyncio.sleep(0)
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


async def plain_read(bootstrap: str, topic: str) -> tuple[int, float, float]:
    """(records, seconds, CPU-seconds) for a plain aiokafka consumer reading every
    record of `topic` from the start, no group, no commits."""
    ends = await end_offsets(bootstrap, topic)
    wanted = {TopicPartition(topic, p): end for p, end in ends.items() if end}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=2000
    )
    await consumer.start()
    await asyncio.sleep(0)
    try:
        consumer.assign(list(wanted))
        await consumer.seek_to_beginning(*wanted)
        seen = 0
        started, cpu = time.perf_counter(), time.process_time()
        # Read up to the end offsets rather than count records: a compacted
        # changelog has gaps in its offsets.
        left = dict(wanted)
        while left:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                seen += len(batch)
            for tp in list(left):
                if await consumer.position(tp) >= left[tp]:
                    left.pop(tp)
        return seen, time.perf_counter() - started, time.process_time() - cpu
    finally:
        await consumer.stop()
