"""A real ledger worker under test, and reading back what landed on its topics."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.partitioner import murmur2
from kafka_fixtures import WorkerProcess, free_port, read_records, wait_for

from ledger.credentials import Role
from ledger.kafka.admin import admin_client
from ledger.settings import LedgerSettings
from schemas import DeadLetter

LEDGER_WORKER = Path(__file__).parent.parent / "apps" / "ledger_worker.py"
PARTITIONS = 4


def java_partition(key: bytes, partitions: int) -> int:
    """Java's (and aiokafka's) default partition for a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@dataclass
class RunningLedger:
    """A `ledger worker` subprocess on its own topics, app id and port."""

    settings: LedgerSettings
    env: dict[str, str]
    process: WorkerProcess
    tokens: dict[Role, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}"

    def health(self) -> int | None:
        """The status of GET /health, or None while nothing answers."""
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as reply:
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def get_session(self, session_id: str) -> tuple[int, dict[str, Any]]:
        """GET /sessions/{id} with the reader credential; status and JSON answer."""
        request = urllib.request.Request(
            f"{self.url}/sessions/{urllib.parse.quote(session_id, safe='')}",
            headers={"Authorization": f"Bearer {self.tokens[Role.READER]}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, json.load(reply)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def post_events(
        self, body: bytes, token: str | None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """POST /events; the status and the JSON answer."""
        request = urllib.request.Request(
            f"{self.url}/events", data=body, method="POST", headers=headers or {}
        )
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, json.load(reply)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def start_ledger(bootstrap: str, workdir: Path) -> RunningLedger:
    """Start a worker on fresh topics; return once /health answers 200."""
    suffix = uuid.uuid4().hex[:10]
    tokens = {role: secrets.token_urlsafe(24) for role in Role}
    env = {
        **os.environ,
        "LEDGER_KAFKA_BOOTSTRAP": bootstrap,
        "LEDGER_DATA_DIR": str(workdir),
        "LEDGER_APP_ID": f"ledger-test-{suffix}",
        "LEDGER_PARTITIONS": str(PARTITIONS),
        "LEDGER_TOPIC_EVENTS": f"test-{suffix}.auth.events",
        "LEDGER_TOPIC_DEAD_LETTERS": f"test-{suffix}.auth.events.dlq",
        "LEDGER_TOPIC_COMMANDS": f"test-{suffix}.session.commands",
        "LEDGER_TOPIC_REVOCATIONS": f"test-{suffix}.session.revocations",
        "LEDGER_TOPIC_ALERTS": f"test-{suffix}.alerts",
        "LEDGER_WEB_PORT": str(free_port()),
        "LEDGER_PRODUCER_TOKEN": tokens[Role.PRODUCER],
        "LEDGER_ADMIN_TOKEN": tokens[Role.ADMIN],
        "LEDGER_READER_TOKEN": tokens[Role.READER],
    }
    settings = LedgerSettings(
        **{
            name.removeprefix("LEDGER_").lower(): value
            for name, value in env.items()
            if name.startswith("LEDGER_") and not name.endswith("_TOKEN")
        }
    )
    process = WorkerProcess(
        [sys.executable, str(LEDGER_WORKER)], env, workdir / "worker.log"
    )
    ledger = RunningLedger(settings, env, process, tokens)
    wait_for(
        lambda: not process.alive() or ledger.health() == 200,
        240,
        "ledger worker /health 200",
        interval=1.0,
        on_timeout=process.log_tail,
    )
    assert process.alive(), f"the worker exited:\n{process.log_tail()}"
    return ledger


async def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """The offsets consumer group `group` has committed on `topic`."""
    async with admin_client(bootstrap) as admin:
        offsets = await admin.list_consumer_group_offsets(group)
    return {
        tp.partition: meta.offset
        for tp, meta in offsets.items()
        if tp.topic == topic and meta.offset >= 0
    }


def dead_letters(
    ledger: RunningLedger, since: dict[int, int] | None = None
) -> list[DeadLetter]:
    """The dead letters the worker has written (from `since`)."""
    records = asyncio.run(
        read_records(
            ledger.settings.bootstrap_servers,
            ledger.settings.topic_dead_letters,
            since,
        )
    )
    return [DeadLetter.model_validate_json(record.value) for record in records]
