"""A simulated week on the real broker: emitted and accepted, bad input dead-lettered.

One `ledger worker` subprocess, on topics of its own, validates everything that
lands on its ledger topic. `ledger emit` refuses the malformed lines itself, so
nothing it sends is dead-lettered; the simulator's raw Kafka output sends them as
they are, and the worker dead-letters exactly those.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from kafka_fixtures import WorkerProcess, free_port, wait_for

from ledger.kafka.admin import admin_client
from schemas import DeadLetter

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(1800)]

LEDGER = str(Path(sys.executable).parent / "ledger")
# A full week of a small organisation, small because the full worker (fold,
# monitors, audit) takes every record; no scripted account, whose 24/7 traffic
# would double it.
WEEK = [
    "--humans", "6", "--agents", "4", "--hybrids", "2", "--days", "7",
    "--seed", "5", "--bad-input-rate", "0.005", "--scripted-humans", "0",
]  # fmt: skip
REASONS = {
    "broken_json": "not valid JSON",
    "naive_timestamp": "timezone missing",
    "unknown_type": "unknown event type",
    "bad_identifier": "not an identifier",
    "oversize": "over the 65536-byte limit",
}


@dataclass
class Ledger:
    """A worker subprocess and the environment that names its topics."""

    env: dict[str, str]
    process: WorkerProcess

    @property
    def bootstrap(self) -> str:
        return self.env["LEDGER_KAFKA_BOOTSTRAP"]

    def topic(self, name: str) -> str:
        return self.env[f"LEDGER_TOPIC_{name.upper()}"]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `ledger` command against this worker's broker and topics."""
        return subprocess.run(
            [LEDGER, *args], env=self.env, capture_output=True, text=True, timeout=900
        )

    def ends(self, topic: str) -> dict[int, int]:
        return asyncio.run(_end_offsets(self.bootstrap, self.topic(topic)))

    def wait_until_consumed(self, ends: dict[int, int]) -> None:
        """Wait until the worker has committed every offset below `ends`."""
        group, topic = self.env["LEDGER_APP_ID"], self.topic("events")

        def consumed() -> bool:
            assert self.process.alive(), f"the worker died:\n{self.process.log_tail()}"
            done = asyncio.run(_committed(self.bootstrap, group, topic))
            return all(done.get(p, 0) >= end for p, end in ends.items())

        wait_for(consumed, 1200, "worker caught up", 2.0, self.process.log_tail)


@pytest.fixture(scope="module")
def ledger(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    """`ledger worker` on fresh topics, app id, data dir and port."""
    workdir = tmp_path_factory.mktemp("simulate-ledger")
    suffix = uuid.uuid4().hex[:10]
    port = free_port()
    env = {
        **os.environ,
        "LEDGER_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LEDGER_DATA_DIR": str(workdir),
        "LEDGER_APP_ID": f"simulate-test-{suffix}",
        "LEDGER_PARTITIONS": "2",
        "LEDGER_WEB_PORT": str(port),
        # The simulated week lies in the past: event time only, from the records
        # and the simulator's ticks.
        "LEDGER_WALL_CLOCK_TICKS": "false",
        "LEDGER_TOPIC_EVENTS": f"sim-{suffix}.auth.events",
        "LEDGER_TOPIC_DEAD_LETTERS": f"sim-{suffix}.auth.events.dlq",
        "LEDGER_TOPIC_COMMANDS": f"sim-{suffix}.session.commands",
        "LEDGER_TOPIC_REVOCATIONS": f"sim-{suffix}.session.revocations",
        "LEDGER_TOPIC_ALERTS": f"sim-{suffix}.alerts",
    }
    process = WorkerProcess([LEDGER, "worker"], env, workdir / "worker.log")
    try:
        wait_for(
            lambda: not process.alive() or _health(port) == 200,
            300,
            "ledger worker /health 200",
            1.0,
            process.log_tail,
        )
        assert process.alive(), process.log_tail()
        yield Ledger(env, process)
    finally:
        if process.alive():
            process.stop(timeout=60)


def test_simulated_week_through_emit_is_appended_and_never_dead_lettered(
    ledger: Ledger, tmp_path: Path
) -> None:
    out, labels_file = tmp_path / "week.jsonl", tmp_path / "labels.json"
    made = ledger.run(
        "simulate", *WEEK, "--out", str(out), "--labels", str(labels_file)
    )
    assert made.returncode == 0, made.stderr
    counts = json.loads(labels_file.read_text())["counts"]
    letters_before = ledger.ends("dead_letters")

    emitted = ledger.run("emit", str(out))

    # emit refuses the malformed lines itself (exit 1) and appends the rest.
    assert emitted.returncode == 1, emitted.stderr
    assert (
        f"appended {counts['events']} events to {ledger.topic('events')}; "
        f"rejected {counts['bad_input']} of {counts['records']} lines"
    ) in emitted.stdout
    ledger.wait_until_consumed(ledger.ends("events"))
    assert ledger.ends("dead_letters") == letters_before


def test_simulated_week_sent_raw_dead_letters_exactly_the_bad_input(
    ledger: Ledger, tmp_path: Path
) -> None:
    labels_file = tmp_path / "labels.json"
    letters_before = ledger.ends("dead_letters")

    sent = ledger.run("simulate", *WEEK, "--kafka", "--labels", str(labels_file))

    assert sent.returncode == 0, sent.stderr
    bad = json.loads(labels_file.read_text())["bad_input"]
    ledger.wait_until_consumed(ledger.ends("events"))
    letters = asyncio.run(
        _read(ledger.bootstrap, ledger.topic("dead_letters"), letters_before)
    )
    assert len(letters) == bad["total"] > 0
    kinds = Counter(
        kind
        for letter in letters
        for kind, reason in REASONS.items()
        if reason in letter.reason
    )
    assert kinds == Counter(bad["by_kind"])
    assert Counter(letter.key.decode() for letter in letters) == Counter(
        entry["key"] for entry in bad["records"]
    )


def _health(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            return r.status
    except OSError:
        return None


async def _end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    async with admin_client(bootstrap) as admin:
        [description] = await admin.describe_topics([topic])
    partitions = [
        TopicPartition(topic, p["partition"]) for p in description["partitions"]
    ]
    assert partitions, f"topic {topic} has no partitions"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    async with admin_client(bootstrap) as admin:
        offsets = await admin.list_consumer_group_offsets(group)
    return {
        tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic
    }


async def _read(bootstrap: str, topic: str, since: dict[int, int]) -> list[DeadLetter]:
    ends = await _end_offsets(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    # aiokafka 0.14 raises CancelledError from stop() if its offset-reset task
    # never ran; one turn of the loop lets it start.
    await asyncio.sleep(0)
    letters: list[DeadLetter] = []
    try:
        wanted = {
            TopicPartition(topic, p): end for p, end in ends.items() if end > since[p]
        }
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, since[tp.partition])
        async with asyncio.timeout(120):
            while wanted:
                for tp, batch in (await consumer.getmany(timeout_ms=1000)).items():
                    letters += [
                        DeadLetter.model_validate_json(record.value)
                        for record in batch
                        if record.offset < wanted.get(tp, 0)
                    ]
                    if await consumer.position(tp) >= wanted.get(tp, 0):
                        wanted.pop(tp, None)
    finally:
        await consumer.stop()
    return letters
