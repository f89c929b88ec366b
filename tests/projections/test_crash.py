"""The audit writer survives SIGKILL mid-batch: every event ends up stored once.

A real worker (tests/projections/audit_worker.py) runs as a subprocess against the
real broker and an embedded chDB store. While 20,000 events arrive it is killed
three times right after a batch of the new records lands, then restarted. The
test reads the store through the worker's HTTP API while the worker runs (only
one process may hold the chDB path), and opens it itself once the worker stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from audit_samples import varied_event
from kafka_fixtures import WorkerProcess, free_port, wait_for

from ledger.settings import LedgerSettings
from projections.store import AuditStore
from schemas import Alert, RevocationNotice, serialize
from schemas.examples import example

pytestmark = [pytest.mark.broker, pytest.mark.slow]

WORKER = Path(__file__).parent / "audit_worker.py"
LEDGER_CLI = str(Path(sys.executable).parent / "ledger")
PARTITIONS = 4
EVENTS = 20_000
CHUNKS = 4
KILLS = 3
READER_TOKEN = "crash-test-reader"
ALERTS_PER_CHUNK = 50
NOTICES_PER_CHUNK = 25


def _chunk(number: int, seed: str) -> dict[str, list[tuple[bytes | None, bytes, Any]]]:
    """One chunk of traffic: valid events, refused records, ticks, alerts, notices."""
    size = EVENTS // CHUNKS
    events: list[tuple[bytes | None, bytes, Any]] = []
    for n in range(number * size, (number + 1) * size):
        event = varied_event(n, seed)
        events.append((event.session_id.encode(), serialize(event), None))
        if n % 100 == 0:
            events.append((b"agent-session-1", b'{"type": "not an event"}', None))
        if n % 200 == 0:
            events.append((b"agent-session-2", b"tick", [("ledger-control", b"1")]))
    alerts = [
        (
            None,
            serialize(
                example(Alert, alert_id=f"00000000-0000-4000-8000-{number:04d}{n:08d}")
            ),
            None,
        )
        for n in range(ALERTS_PER_CHUNK)
    ]
    notices = [
        (
            None,
            serialize(example(RevocationNotice, session_id=f"revoked-{number}-{n}")),
            None,
        )
        for n in range(NOTICES_PER_CHUNK)
    ]
    return {"events": events, "alerts": alerts, "revocations": notices}


async def _produce(
    bootstrap: str, topics: dict[str, str], chunk: dict[str, Any]
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        sent = [
            await producer.send(topics[kind], value, key=key, headers=headers)
            for kind, records in chunk.items()
            for key, value, headers in records
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def _post(port: int, path: str, body: dict[str, Any], token: str = READER_TOKEN) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _ask(port: int, sql: str, token: str = READER_TOKEN) -> Any:
    return _post(port, "/audit/query", {"sql": sql}, token)["rows"]


def _count(port: int, table: str = "auth_events") -> int | None:
    try:
        return int(_ask(port, f"SELECT count() FROM {table}")[0][0])
    except (OSError, urllib.error.URLError, ValueError, KeyError):
        return None


def _answering(port: int, worker: WorkerProcess) -> bool:
    if not worker.alive():
        raise AssertionError(f"the audit worker exited:\n{worker.log_tail()}")
    return _count(port) is not None


def test_writer_killed_mid_batch_three_times_stores_each_event_once(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    unique_name: Callable[..., str],
    spawn_process: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    topics = {
        "events": topic_factory(PARTITIONS, prefix="audit-events"),
        "alerts": topic_factory(PARTITIONS, prefix="audit-alerts"),
        "revocations": topic_factory(PARTITIONS, prefix="audit-revocations"),
    }
    port = free_port()
    env = {
        **os.environ,
        "LEDGER_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LEDGER_APP_ID": unique_name("audit-crash"),
        "LEDGER_DATA_DIR": str(tmp_path / "data"),
        "LEDGER_CLICKHOUSE_URL": f"chdb://{tmp_path / 'clickhouse'}",
        "LEDGER_TOPIC_EVENTS": topics["events"],
        "LEDGER_TOPIC_ALERTS": topics["alerts"],
        "LEDGER_TOPIC_REVOCATIONS": topics["revocations"],
        "LEDGER_PARTITIONS": str(PARTITIONS),
        "LEDGER_WEB_PORT": str(port),
        "LEDGER_READER_TOKEN": READER_TOKEN,
        "LEDGER_TABLE_STORE": "memory://",
        "LEDGER_AUDIT_BATCH_ROWS": "2000",
        "LEDGER_AUDIT_BATCH_SECONDS": "0.5",
    }
    seed = unique_name("crash")
    runs: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        worker = spawn_process(
            [sys.executable, str(WORKER)], env, f"audit-worker-{len(runs)}"
        )
        runs.append(worker)
        wait_for(
            lambda: _answering(port, worker),
            120,
            "the audit worker answering /audit/query",
            on_timeout=worker.log_tail,
        )
        return worker

    # 1. Produce in chunks; after each of the first three, kill the worker as soon
    #    as a batch of the new chunk has landed, while later batches are in flight.
    worker = start()
    for number in range(CHUNKS):
        before = _count(port) or 0
        asyncio.run(_produce(kafka_bootstrap, topics, _chunk(number, seed)))
        if number < KILLS:
            wait_for(
                lambda before=before: (_count(port) or 0) > before,
                120,
                f"rows of chunk {number} landing",
                interval=0.05,
                on_timeout=worker.log_tail,
            )
            worker.kill()
            worker = start()

    # 2. The last run catches up; read it through the worker while it holds chDB.
    wait_for(
        lambda: (
            _count(port) == EVENTS
            and _count(port, "alerts") == CHUNKS * ALERTS_PER_CHUNK
            and _count(port, "revocations") == CHUNKS * NOTICES_PER_CHUNK
        ),
        240,
        "every event, alert and notice stored",
        interval=0.5,
        on_timeout=lambda: f"events={_count(port)}\n{worker.log_tail()}",
    )
    assert _post(port, "/audit/verify", {})["ok"] is True
    with pytest.raises(urllib.error.HTTPError) as refused:
        _ask(port, "SELECT 1", token="not-the-reader-token")
    assert refused.value.code == 401
    cli = subprocess.run(
        [LEDGER_CLI, "query", "SELECT count() FROM agent_trail"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert worker.stop() == 0, worker.log_tail()

    # 3. The worker stopped: open the store here and check it thoroughly.
    store = AuditStore(
        LedgerSettings(
            data_dir=tmp_path / "data", clickhouse_url=env["LEDGER_CLICKHOUSE_URL"]
        )
    )
    try:
        stored = store.query(
            "SELECT count(), uniqExact(event_id), "
            "uniqExact(kafka_partition, kafka_offset) FROM auth_events"
        ).rows[0]
        assert stored == [EVENTS, EVENTS, EVENTS]
        assert store.verify().ok
        truth = store.query(
            "SELECT count(), uniqExact(session_id) FROM auth_events"
        ).rows[0]
        assert (
            store.query("SELECT sum(events) FROM activity_hourly").rows[0][0]
            == truth[0]
        )
        assert store.query("SELECT count() FROM session_states").rows[0][0] == truth[1]
        agents = store.query("SELECT count() FROM agent_trail").rows[0][0]
        assert str(agents) in cli.stdout
        assert store.query("SELECT uniqExact(alert_id) FROM alerts").rows == [
            [CHUNKS * ALERTS_PER_CHUNK]
        ]
    finally:
        store.close()

    # The restarts really met records that were stored but not yet committed.
    logs = "\n".join(run.log.read_text(errors="replace") for run in runs)
    assert "already stored" in logs
    assert "Traceback" not in logs
