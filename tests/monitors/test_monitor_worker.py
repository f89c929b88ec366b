"""The monitors on a real worker and broker: a stolen agent token is reported and cut.

A `ledger worker` subprocess (every default component) runs on topics of its own.
The document agent works normally for four days, then its token is used from a
new network in another country: an alert must reach the alerts topic, keyed by
the agent, and a cascade revocation must reach `session.commands`, keyed by the
session. The same holds when the worker is restarted on a fresh data dir after
the agent's baseline has warmed up: the baseline comes back from its changelog,
so the theft is judged at once and normal work raises nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka_fixtures import WorkerProcess, free_port, wait_for
from monitor_streams import MONDAY, agent_event, agent_started

from ledger.kafka.lag import wait_until_drained
from schemas import (
    AccessRecorded,
    Alert,
    LifecycleRequest,
    RevocationCause,
    RevocationNotice,
    RevokeSession,
    Severity,
    Source,
    parse_command,
    serialize,
)
from schemas.examples import AGENT_SESSION, DOC_AGENT

pytestmark = pytest.mark.broker

LEDGER_WORKER = Path(__file__).parent.parent / "apps" / "ledger_worker.py"
PARTITIONS = 4


CHILD_SESSION = "sess-agent-5b21-worker-1"


def normal_then_stolen() -> list:
    """Four days of reads from eu-west-1, with a worker session spawned on the
    third, then one read from a Russian network."""
    events = [agent_started(MONDAY, lifecycle=LifecycleRequest())]
    for step in range(1, 81):
        events.append(agent_event(AccessRecorded, MONDAY + timedelta(hours=1.2 * step)))
        if step == 60:
            events.append(
                agent_started(
                    MONDAY + timedelta(hours=1.2 * step, minutes=1),
                    session_id=CHILD_SESSION,
                    parent_session_id=AGENT_SESSION,
                    lifecycle=LifecycleRequest(),
                )
            )
    stolen = Source(ip="198.51.100.23", country="RU", asn=12389)
    events.append(
        agent_event(AccessRecorded, MONDAY + timedelta(days=4, hours=1), source=stolen)
    )
    return events


async def produce(bootstrap: str, topic: str, events: list) -> None:
    # aiokafka's default partitioner is murmur2, as the ledger requires.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic, serialize(event), key=event.session_id.encode()
            )
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) on `topic` so far."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        return [
            (record.key, record.value) for batch in batches.values() for record in batch
        ]
    finally:
        await consumer.stop()


def start_worker(
    bootstrap: str,
    workdir: Path,
    spawn,
    suffix: str | None = None,
    name: str = "ledger-worker",
) -> tuple[WorkerProcess, dict]:
    """A worker on topics named after `suffix` (new ones unless given)."""
    suffix = suffix or uuid.uuid4().hex[:10]
    topics = {
        "events": f"test-{suffix}.auth.events",
        "alerts": f"test-{suffix}.alerts",
        "commands": f"test-{suffix}.session.commands",
        "revocations": f"test-{suffix}.session.revocations",
        "app_id": f"monitors-test-{suffix}",
        "suffix": suffix,
    }
    env = {
        **os.environ,
        "LEDGER_KAFKA_BOOTSTRAP": bootstrap,
        "LEDGER_DATA_DIR": str(workdir),
        "LEDGER_APP_ID": topics["app_id"],
        "LEDGER_PARTITIONS": str(PARTITIONS),
        "LEDGER_TOPIC_EVENTS": topics["events"],
        "LEDGER_TOPIC_DEAD_LETTERS": f"test-{suffix}.auth.events.dlq",
        "LEDGER_TOPIC_COMMANDS": topics["commands"],
        "LEDGER_TOPIC_REVOCATIONS": topics["revocations"],
        "LEDGER_TOPIC_ALERTS": topics["alerts"],
        "LEDGER_WEB_PORT": str(free_port()),
        "LEDGER_WALL_CLOCK_TICKS": "false",
        "LEDGER_TABLE_STORE": "memory://",
    }
    process = spawn([sys.executable, str(LEDGER_WORKER)], env, name)
    return process, {**topics, "port": env["LEDGER_WEB_PORT"]}


def wait_until_serving(process: WorkerProcess, port: str) -> None:
    wait_for(
        lambda: not process.alive() or worker_ready(port),
        240,
        "ledger worker /health 200",
        interval=1.0,
        on_timeout=process.log_tail,
    )
    assert process.alive(), process.log_tail()


def worker_ready(port: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def test_monitor_worker_stolen_agent_token_alerts_and_revokes(
    kafka_bootstrap: str, spawn_process, tmp_path: Path
) -> None:
    process, topics = start_worker(kafka_bootstrap, tmp_path / "worker", spawn_process)
    wait_until_serving(process, topics["port"])

    asyncio.run(produce(kafka_bootstrap, topics["events"], normal_then_stolen()))

    def alerts() -> list[tuple[bytes, Alert]]:
        records = asyncio.run(read_all(kafka_bootstrap, topics["alerts"]))
        return [(key, Alert.model_validate_json(value)) for key, value in records]

    def commands() -> list[tuple[bytes, RevokeSession]]:
        records = asyncio.run(read_all(kafka_bootstrap, topics["commands"]))
        return [(key, parse_command(value)) for key, value in records]

    wait_for(
        lambda: (
            not process.alive()
            or any(a.detector == "agent_new_network" for _, a in alerts())
        ),
        180,
        "an agent_new_network alert on the alerts topic",
        interval=2.0,
        on_timeout=process.log_tail,
    )
    assert process.alive(), process.log_tail()
    [(key, alert)] = [(k, a) for k, a in alerts() if a.detector == "agent_new_network"]
    assert key == DOC_AGENT.id.encode()
    assert alert.severity is Severity.HIGH
    assert alert.session_id == AGENT_SESSION
    assert {e.feature for e in alert.evidence} == {"asn", "cloud_region", "country"}

    wait_for(
        lambda: bool(commands()),
        120,
        "a revocation on session.commands",
        interval=2.0,
        on_timeout=process.log_tail,
    )
    [(key, command)] = commands()
    assert key == AGENT_SESSION.encode()
    assert isinstance(command, RevokeSession)
    assert (command.session_id, command.cascade) == (AGENT_SESSION, True)
    assert command.requester == "monitors"

    # The revocation engine carries the command out: the session and the worker
    # session it spawned are revoked, and enforcement points are told.
    def notices() -> dict[str, RevocationNotice]:
        records = asyncio.run(read_all(kafka_bootstrap, topics["revocations"]))
        notices = (RevocationNotice.model_validate_json(v) for _, v in records)
        return {notice.session_id: notice for notice in notices}

    wait_for(
        lambda: len(notices()) >= 2,
        120,
        "revocation notices for the session and its child",
        interval=2.0,
        on_timeout=process.log_tail,
    )
    revoked = notices()
    assert set(revoked) == {AGENT_SESSION, CHILD_SESSION}
    assert revoked[AGENT_SESSION].command_id == command.command_id
    assert revoked[CHILD_SESSION].cause is RevocationCause.CASCADE
    assert revoked[CHILD_SESSION].cascade_root == AGENT_SESSION

    # Four days of normal work raised nothing else.
    assert [a.detector for _, a in alerts()] == ["agent_new_network"]
    assert process.stop(timeout=60) is not None


def test_monitor_worker_restarted_on_a_fresh_data_dir_keeps_the_baselines(
    kafka_bootstrap: str, spawn_process, tmp_path: Path
) -> None:
    events = normal_then_stolen()
    # Three days and 60 reads: past the agents' warm-up (50 events, 2 days).
    warmed, rest = events[:61], events[61:]
    first, topics = start_worker(kafka_bootstrap, tmp_path / "first", spawn_process)
    wait_until_serving(first, topics["port"])
    asyncio.run(produce(kafka_bootstrap, topics["events"], warmed))
    asyncio.run(
        wait_until_drained(
            kafka_bootstrap,
            topics["app_id"],
            [topics["events"], f"{topics['app_id']}-monitor-events"],
            timeout=180,
        )
    )
    assert first.stop(timeout=60) == 0, first.log_tail()

    # Same app id and topics; nothing on disk: every table comes from its changelog.
    second, restarted = start_worker(
        kafka_bootstrap,
        tmp_path / "second",
        spawn_process,
        suffix=topics["suffix"],
        name="ledger-worker-restarted",
    )
    wait_until_serving(second, restarted["port"])
    asyncio.run(produce(kafka_bootstrap, topics["events"], rest))

    def detectors() -> list[str]:
        records = asyncio.run(read_all(kafka_bootstrap, topics["alerts"]))
        return [Alert.model_validate_json(value).detector for _, value in records]

    # A baseline lost in the restart would be warming up again and say nothing.
    wait_for(
        lambda: not second.alive() or "agent_new_network" in detectors(),
        180,
        "an agent_new_network alert after the restart",
        interval=2.0,
        on_timeout=second.log_tail,
    )
    assert second.alive(), second.log_tail()
    assert detectors() == ["agent_new_network"]
    assert second.stop(timeout=60) is not None
