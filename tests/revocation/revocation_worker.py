"""A real worker with the revocation engine, its endpoints, and its topics' records."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from kafka_fixtures import WorkerProcess, free_port, wait_for
from sessions.session_worker import SessionWorker, read_topic

from schemas import Event, parse_event, serialize

REVOCATION_APP = Path(__file__).parent / "revocation_app.py"
ADMIN_TOKEN = "admin-token-for-session-tests"
PRODUCER_TOKEN = "producer-token-for-session-tests"


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
