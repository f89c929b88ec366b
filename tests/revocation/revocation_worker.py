"""A real worker with the revocation engine, its endpoints, and its topics' records."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, TopicPartition
from kafka_fixtures import WorkerProcess, free_port, wait_for
from sessions.session_worker import SessionWorker, read_topic, worker_env

from ledger.worker.clock import send_ticks
from schemas import Event, parse_event, serialize

REVOCATION_APP = Path(__file__).parent / "revocation_app.py"
ADMIN_TOKEN = "admin-token-for-session-tests"
PRODUCER_TOKEN = "producer-token-for-session-tests"
READER_TOKEN = "reader-token-for-session-tests"
PARTITIONS = 4


@dataclass
class RevocationWorker(SessionWorker):
    """The session worker's API plus the revocation endpoints."""

    def post(
        self, path: str, body: Any, token: str | None = ADMIN_TOKEN
    ) -> tuple[int, Any]:
        """POST JSON to `path`; the status and the JSON answer."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def engine(self) -> dict[str, Any]:
        """What the revocation engine reports (GET /revocations)."""
        status, body = self.get("/revocations")
        assert status == 200, (status, body)
        return body

    def commands_handled(self) -> int:
        return sum(self.engine()["commands"].values())

    def status_of(self, session_id: str) -> str | None:
        found = self.record(session_id)
        return None if found is None else found.get("status", "active")

    def topic(self, setting: str) -> list[ConsumerRecord]:
        """Every record of the topic named by `LEDGER_<setting>` so far."""
        bootstrap = self.env["LEDGER_KAFKA_BOOTSTRAP"]
        return asyncio.run(read_topic(bootstrap, self.env[setting]))

    def topic_size(self, setting: str) -> int:
        """How many records the topic named by `LEDGER_<setting>` holds."""
        return asyncio.run(
            end_offsets(self.env["LEDGER_KAFKA_BOOTSTRAP"], self.env[setting])
        )

    def ledger_events(self, kind: str) -> list[Event]:
        """Events of type `kind` on the ledger topic, parsed."""
        found = []
        for record in self.topic("LEDGER_TOPIC_EVENTS"):
            if record.key is None:  # ticks
                continue
            event = parse_event(record.value, now=None)
            if event.type == kind:
                found.append(event)
        return found

    def wait_for_status(
        self, sessions: Iterable[str], status: str, timeout: float = 180
    ) -> None:
        wanted = list(sessions)
        wait_for(
            lambda: all(self.status_of(s) == status for s in wanted),
            timeout,
            f"{wanted} {status}",
            interval=0.5,
            on_timeout=lambda: (
                str({s: self.status_of(s) for s in wanted})
                + "\n"
                + self.process.log_tail()
            ),
        )


@dataclass
class Story:
    """A revocation worker and the time its story started."""

    worker: RevocationWorker
    t0: datetime

    def produce(self, events: Iterable[Event]) -> None:
        """Append events to the worker's ledger topic."""
        env = self.worker.env
        asyncio.run(
            produce(env["LEDGER_KAFKA_BOOTSTRAP"], env["LEDGER_TOPIC_EVENTS"], events)
        )


def revocation_env(
    bootstrap: str, workdir: Path, prefix: str, **more: str
) -> dict[str, str]:
    """LEDGER_* settings of a worker on fresh topics, whose users idle for a day
    so that no test outlives a user session it expects active."""
    names = f"{prefix}-{uuid.uuid4().hex[:10]}"
    policy = workdir / "policy.yaml"
    policy.write_text("user:\n  lifecycle:\n    idle_timeout: 86400\n")
    return worker_env(
        bootstrap, names, LEDGER_APP_ID=names, LEDGER_POLICY_FILE=str(policy), **more
    )


def start_revocation_worker(
    env: dict[str, str], workdir: Path, name: str
) -> RevocationWorker:
    """Start the revocation app with `env` in a fresh data dir; return once it
    serves every partition."""
    data_dir = workdir / name
    full = {
        **os.environ,
        **env,
        "LEDGER_DATA_DIR": str(data_dir),
        "LEDGER_WEB_PORT": str(free_port()),
    }
    data_dir.mkdir(parents=True)
    process = WorkerProcess(
        [sys.executable, str(REVOCATION_APP)], full, workdir / f"{name}.log"
    )
    worker = RevocationWorker(full, process)
    wait_for(
        lambda: not process.alive() or worker.serving(),
        240,
        f"{name} recovered and serving every partition",
        interval=1.0,
        on_timeout=process.log_tail,
    )
    assert process.alive(), f"{name} exited:\n{process.log_tail()}"
    return worker


async def produce(bootstrap: str, topic: str, events: Iterable[Event]) -> None:
    """Append events keyed by session id with the murmur2 partitioner; wait for
    every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, serialize(event), key=event.session_id.encode())
            for event in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def assert_replay_changes_nothing(worker: RevocationWorker, command: dict) -> None:
    """Send `command` again; check that no revocation or notice follows from it."""
    revoked = len(worker.ledger_events("session.revoked"))
    notices = worker.topic_size("LEDGER_TOPIC_REVOCATIONS")
    handled = worker.commands_handled()
    copies = PARTITIONS if command["type"] != "revoke.session" else 1

    status, body = worker.post("/revocations", command)
    assert status == 202, body
    # The engine counts a command once the broker has its revocations.
    wait_for(
        lambda: worker.commands_handled() >= handled + copies,
        120,
        "the replayed command handled on every partition",
        on_timeout=worker.process.log_tail,
    )
    # A tick behind anything appended: once folded, so is all that came before.
    now = datetime.now(UTC)
    asyncio.run(tick(worker, now))
    worker.wait_for_watermarks(now.isoformat())

    assert len(worker.ledger_events("session.revoked")) == revoked
    assert worker.topic_size("LEDGER_TOPIC_REVOCATIONS") == notices


async def tick(worker: RevocationWorker, at: datetime) -> None:
    """Send a partition clock tick at `at` to every partition of the ledger."""
    producer = AIOKafkaProducer(bootstrap_servers=worker.env["LEDGER_KAFKA_BOOTSTRAP"])
    await producer.start()
    try:
        await send_ticks(producer, worker.env["LEDGER_TOPIC_EVENTS"], PARTITIONS, at)
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str, topic: str) -> int:
    """The sum of the topic's end offsets: how many records it ever received."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(
            [TopicPartition(topic, p) for p in range(PARTITIONS)]
        )
        return sum(ends.values())
    finally:
        await consumer.stop()
