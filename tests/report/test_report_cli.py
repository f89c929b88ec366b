"""`ledger report` end to end: its own embedded store, dead letters from the broker.

The store is filled by a subprocess, and `ledger report` runs as one, because chDB
lets one process at a time hold a path and this test process holds another.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from kafka_fixtures import free_port
from report_samples import sample_labels

from ledger.worker.validation import dead_letter
from schemas import serialize

LEDGER = Path(sys.executable).parent / "ledger"
HERE = Path(__file__).parent

FILL = """
from report_samples import records, sample_alerts, sample_events, sample_notices
from ledger.settings import LedgerSettings
from projections.rows import ALERTS, AUTH_EVENTS, REVOCATIONS
from projections.store import AuditStore

store = AuditStore(LedgerSettings())
store.write_records(AUTH_EVENTS, records(sample_events(), "auth.events"))
store.write_records(ALERTS, records(sample_alerts(), "alerts"))
store.write_records(REVOCATIONS, records(sample_notices(), "session.revocations"))
store.close()
"""


@pytest.fixture(scope="module")
def store_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of a ledger whose embedded store holds the sample week."""
    root = tmp_path_factory.mktemp("report-cli")
    env = {
        **os.environ,
        "LEDGER_DATA_DIR": str(root / "data"),
        "LEDGER_CLICKHOUSE_URL": f"chdb://{root / 'clickhouse'}",
        # Nothing listens there, so the report opens the store itself.
        "LEDGER_WEB_PORT": str(free_port()),
        "LEDGER_READER_TOKEN": "report-cli-reader",
        # Wide enough that no line of the report wraps.
        "COLUMNS": "200",
    }
    subprocess.run(
        [sys.executable, "-c", FILL],
        env={**env, "PYTHONPATH": str(HERE)},
        check=True,
        timeout=300,
    )
    return env


async def _send(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


def run_report(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LEDGER), "report", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.broker
def test_report_cli_counts_dead_letters_and_writes_html(
    store_env: dict[str, str],
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    tmp_path: Path,
) -> None:
    dead_letters = topic_factory(1, prefix="report-dlq")
    received = datetime(2025, 3, 8, tzinfo=UTC)
    letters = [
        dead_letter(
            b"{}", "not JSON", source_topic="auth.events", received_at=received
        ),
        dead_letter(b"x", "not JSON", source_topic="auth.events", received_at=received),
        dead_letter(
            b"<okta/>",
            "okta: not an Okta System Log event",
            source_topic="file:/var/log/okta/system.json",
            received_at=received,
        ),
    ]
    asyncio.run(
        _send(
            kafka_bootstrap,
            dead_letters,
            [serialize(letter) for letter in letters] + [b"written by someone else"],
        )
    )
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(sample_labels()))
    page = tmp_path / "out" / "report.html"
    env = {
        **store_env,
        "LEDGER_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "LEDGER_TOPIC_DEAD_LETTERS": dead_letters,
    }

    finished = run_report(env, "--labels", str(labels), "--html", str(page))

    assert finished.returncode == 0, finished.stderr
    assert "dead letters held: 4" in finished.stdout
    assert "from the audit store chdb://" in finished.stdout
    assert "Labelled incidents: 2 of 4 caught" in finished.stdout
    by_source = table_rows(finished.stdout, "Dead letters by source (all 4)")
    assert by_source == {"auth.events": "2", "file system.json": "1", "unknown": "1"}
    by_reason = table_rows(finished.stdout, "Dead letters by reason")
    assert by_reason["not JSON"] == "2"
    assert by_reason["okta: not an Okta System Log event"] == "1"
    html = page.read_text(encoding="utf-8")
    assert "<b>2 of 4</b>" in html
    assert "Dead letters held in the dead-letter topic: 4." in html
    assert '<td>file system.json</td><td class="n">1</td>' in html


def table_rows(output: str, title: str) -> dict[str, str]:
    """First and last cell of each row of the rich table under `title`."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == title)
    rows = {}
    for line in lines[start + 4 :]:
        if not line.startswith("│"):
            break
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        rows[cells[0]] = cells[-1]
    return rows


def test_report_cli_without_broker_says_unknown(store_env: dict[str, str]) -> None:
    env = {**store_env, "LEDGER_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"}

    finished = run_report(env)

    assert finished.returncode == 0, finished.stderr
    assert "dead letters held: unknown" in finished.stdout
    assert "(no broker answered)" in finished.stdout


def test_report_cli_refuses_a_labels_file_that_is_not_json(
    store_env: dict[str, str], tmp_path: Path
) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text("not json")

    finished = run_report(store_env, "--labels", str(labels))

    assert finished.returncode == 2
    assert "is not JSON" in finished.stderr
