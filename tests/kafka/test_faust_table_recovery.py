"""A Faust table survives a worker restart through its changelog topic alone.

The worker runs as a real subprocess (tests/apps/counter_app.py) against the real
broker. The restarted worker gets a fresh data dir and the source offsets are
committed before the stop, so its table can only come from the changelog.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import TopicPartition
from kafka_fixtures import WorkerProcess, free_port, wait_for

from ledger.kafka.admin import admin_client

pytestmark = pytest.mark.broker

COUNTER_APP = Path(__file__).parent.parent / "apps" / "counter_app.py"
PARTITIONS = 4


def read_totals(port: int) -> dict[str, int] | None:
    """The worker's table via its web page, or None while it does not answer."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/totals/", timeout=2
        ) as response:
            return json.load(response)["totals"]
    except (OSError, urllib.error.URLError, ValueError):
        return None


async def produce(
    bootstrap: str, topic: str, records: list[tuple[bytes, int]]
) -> dict[int, int]:
    """Send keyed records; return the next offset of every partition written."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, str(value).encode(), key=key)
            for key, value in records
        ]
        metadata = await asyncio.gather(*sent)
    finally:
        await producer.stop()
    ends: dict[int, int] = {}
    for record in metadata:
        ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
    return ends


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    async with admin_client(bootstrap) as admin:
        offsets = await admin.list_consumer_group_offsets(group)
    return {
        tp.partition: meta.offset
        for tp, meta in offsets.items()
        if isinstance(tp, TopicPartition) and tp.topic == topic
    }


def sums(records: list[tuple[bytes, int]]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for key, value in records:
        totals[key.decode()] += value
    return dict(totals)


def test_faust_table_restart_with_fresh_data_dir_recovers_from_changelog(
    kafka_bootstrap: str, topic_factory, unique_name, spawn_process, tmp_path: Path
) -> None:
    topic = topic_factory(PARTITIONS, prefix="counter-source")
    app_id = unique_name("counter")

    def start_worker(name: str) -> tuple[WorkerProcess, int]:
        port = free_port()
        env = {
            **os.environ,
            "COUNTER_BROKER": kafka_bootstrap,
            "COUNTER_APP_ID": app_id,
            "COUNTER_TOPIC": topic,
            "COUNTER_PARTITIONS": str(PARTITIONS),
            "COUNTER_DATA_DIR": str(tmp_path / name),
            "COUNTER_WEB_PORT": str(port),
        }
        command = [sys.executable, str(COUNTER_APP), "worker", "--loglevel", "info"]
        return spawn_process(command, env, name), port

    def table_equals(port: int, expected: dict[str, int]) -> bool:
        return read_totals(port) == expected

    first_batch = [(f"session-{n % 7}".encode(), n) for n in range(1, 50)]
    second_batch = [(f"session-{n % 3}".encode(), 100) for n in range(10)]

    # 1. The first worker folds the first batch into its table.
    first, first_port = start_worker("worker-1")
    started = time.monotonic()
    ends = asyncio.run(produce(kafka_bootstrap, topic, first_batch))
    wait_for(
        lambda: table_equals(first_port, sums(first_batch)),
        90,
        "first worker's table",
        on_timeout=first.log_tail,
    )
    print(
        f"first worker folded the batch {time.monotonic() - started:.1f} s after start"
    )

    # 2. Every source offset is committed, so a restart will not re-read the source.
    wait_for(
        lambda: asyncio.run(committed(kafka_bootstrap, app_id, topic)) == ends,
        30,
        "committed source offsets",
        on_timeout=first.log_tail,
    )
    stopping = time.monotonic()
    code = first.stop(timeout=60)
    print(f"first worker stopped in {time.monotonic() - stopping:.1f} s, code {code}")

    # 3. A second worker with an empty data dir rebuilds the table from the changelog.
    second, second_port = start_worker("worker-2")
    started = time.monotonic()
    wait_for(
        lambda: table_equals(second_port, sums(first_batch)),
        90,
        "table recovered from the changelog",
        on_timeout=second.log_tail,
    )
    print(f"second worker recovered in {time.monotonic() - started:.1f} s")

    # 4. It resumes from the committed offsets: new events count once, old ones not
    # again.
    asyncio.run(produce(kafka_bootstrap, topic, second_batch))
    expected = sums(first_batch + second_batch)
    wait_for(
        lambda: table_equals(second_port, expected),
        60,
        "second worker's table after more events",
        on_timeout=lambda: f"{read_totals(second_port)}\n{second.log_tail()}",
    )
    assert second.stop(timeout=60) is not None
    assert not second.alive()
