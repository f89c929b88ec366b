"""A real session-projection worker under test, its HTTP API and its topic."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition
from kafka_fixtures import WorkerProcess, free_port, wait_for

from ledger.settings import LedgerSettings

SESSIONS_WORKER = Path(__file__).parent.parent / "apps" / "sessions_worker.py"
READER_TOKEN = "reader-token-for-session-tests"


def worker_env(bootstrap: str, names: str, **more: str) -> dict[str, str]:
    """LEDGER_* settings of a worker on topics named after `names`."""
    return {
        "LEDGER_KAFKA_BOOTSTRAP": bootstrap,
        "LEDGER_PARTITIONS": "4",
        "LEDGER_TOPIC_EVENTS": f"{names}.auth.events",
        "LEDGER_TOPIC_DEAD_LETTERS": f"{names}.auth.events.dlq",
        "LEDGER_TOPIC_COMMANDS": f"{names}.session.commands",
        "LEDGER_TOPIC_REVOCATIONS": f"{names}.session.revocations",
        "LEDGER_TOPIC_ALERTS": f"{names}.alerts",
        "LEDGER_READER_TOKEN": READER_TOKEN,
        "LEDGER_PRODUCER_TOKEN": "producer-token-for-session-tests",
        "LEDGER_ADMIN_TOKEN": "admin-token-for-session-tests",
        # Event time only: the tests send every tick themselves.
        "LEDGER_WALL_CLOCK_TICKS": "false",
        **more,
    }


@dataclass
class SessionWorker:
    """A worker subprocess running the projection and the session endpoints."""

    env: dict[str, str]
    process: WorkerProcess

    @property
    def settings(self) -> LedgerSettings:
        return LedgerSettings(
            **{
                name.removeprefix("LEDGER_").lower(): value
                for name, value in self.env.items()
                if name.startswith("LEDGER_")
            }
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['LEDGER_WEB_PORT']}"

    def get(self, path: str, token: str | None = READER_TOKEN) -> tuple[int, Any]:
        """GET `path`; the status and the JSON body (None when nothing answers)."""
        request = urllib.request.Request(self.url + path)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
        except OSError:
            return 0, None

    def validity(self, session_id: str) -> dict[str, Any]:
        status, body = self.get(f"/sessions/{urllib.parse.quote(session_id, safe='')}")
        assert status in (200, 404), (status, body)
        return body

    def records(self) -> dict[str, Any] | None:
        """Every stored record and the watermarks, or None while not serving."""
        status, body = self.get("/projection/records")
        return body if status == 200 else None

    def record(self, session_id: str) -> dict[str, Any] | None:
        dump = self.records() or {"records": []}
        found = [r for r in dump["records"] if r["session_id"] == session_id]
        return found[0] if found else None

    def watermarks(self) -> dict[int, str]:
        status, body = self.get("/projection")
        if status != 200:
            return {}
        return {int(p): mark for p, mark in body["watermarks"].items()}

    def wait_for_watermarks(self, at: str, timeout: float = 180) -> None:
        """Wait until every partition has folded up to the tick at `at` (ISO)."""
        wait_for(
            lambda: (
                (marks := self.watermarks())
                and len(marks) == 4
                and all(mark >= at for mark in marks.values())
            ),
            timeout,
            f"every partition's watermark at {at}",
            on_timeout=lambda: f"{self.watermarks()}\n{self.process.log_tail()}",
        )

    def serving(self) -> bool:
        """Whether tables are recovered and all four partitions are assigned."""
        status, body = self.get("/projection")
        return status == 200 and not body["recovering"] and len(body["partitions"]) == 4

    def stop(self) -> int:
        return self.process.stop(timeout=90)


def start_worker(env: dict[str, str], workdir: Path, name: str) -> SessionWorker:
    """Start a worker with `env` in a fresh data dir; return once it serves."""
    data_dir = workdir / name
    full = {
        **os.environ,
        **env,
        "LEDGER_DATA_DIR": str(data_dir),
        "LEDGER_WEB_PORT": str(free_port()),
    }
    data_dir.mkdir(parents=True)
    process = WorkerProcess(
        [sys.executable, str(SESSIONS_WORKER)], full, workdir / f"{name}.log"
    )
    worker = SessionWorker(full, process)
    wait_for(
        lambda: not process.alive() or worker.serving(),
        240,
        f"{name} recovered and serving every partition",
        interval=1.0,
        on_timeout=process.log_tail,
    )
    assert process.alive(), f"{name} exited:\n{process.log_tail()}"
    return worker


async def read_topic(
    bootstrap: str, topic: str, partitions: int = 4, timeout: float = 120
) -> list[ConsumerRecord]:
    """Every record of `topic` up to its current end offsets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(
            [TopicPartition(topic, p) for p in range(partitions)]
        )
        wanted = {tp: end for tp, end in ends.items() if end > 0}
        consumer.assign(list(wanted))
        await consumer.seek_to_beginning(*wanted)
        records: list[ConsumerRecord] = []
        async with asyncio.timeout(timeout):
            while wanted:
                for tp, batch in (await consumer.getmany(timeout_ms=1000)).items():
                    records.extend(r for r in batch if r.offset < wanted.get(tp, 0))
                    if tp in wanted and await consumer.position(tp) >= wanted[tp]:
                        del wanted[tp]
        return records
    finally:
        await consumer.stop()
