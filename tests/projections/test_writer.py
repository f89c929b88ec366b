"""The writer: each event exactly once, whatever the batch boundaries and crashes."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audit_samples import event_records, record

from ledger.settings import LedgerSettings
from projections.audit import AuditWriter, ClickHouseThread, retry_delay
from projections.rows import ALERTS, AUTH_EVENTS, REVOCATIONS
from projections.store import AuditStore
from schemas import Alert, RevocationNotice
from schemas.examples import example


def _counts(store: AuditStore) -> tuple[int, int]:
    return tuple(
        store.query("SELECT count(), uniqExact(event_id) FROM auth_events").rows[0]
    )


def _hashes(store: AuditStore) -> dict[tuple[int, int], tuple[str, str]]:
    rows = store.query(
        "SELECT kafka_partition, kafka_offset, prev_hash, chain_hash FROM auth_events"
    ).rows
    return {(p, o): (prev, chain) for p, o, prev, chain in rows}


def _derived_matches_events(store: AuditStore) -> None:
    truth = store.query(
        "SELECT count(), countIf(type = 'authentication.failed' "
        "OR outcome IN ('denied', 'error', 'failed')), uniqExact(session_id) "
        "FROM auth_events"
    ).rows[0]
    rolled = store.query("SELECT sum(events), sum(failures) FROM activity_hourly").rows[
        0
    ]
    sessions = store.query("SELECT count() FROM session_states").rows[0][0]
    assert rolled == truth[:2]
    assert sessions == truth[2]


def test_writer_with_shifted_batch_boundaries_stores_each_event_once(
    store: AuditStore,
) -> None:
    records = event_records(600)

    store.write_records(AUTH_EVENTS, records[0:250])
    again = store.write_records(AUTH_EVENTS, records[100:400])
    store.forget_heads()
    store.write_records(AUTH_EVENTS, records[50:600])

    assert again.already_stored == 150
    assert again.inserted == 150
    assert _counts(store) == (600, 600)
    assert store.verify().ok
    _derived_matches_events(store)


def test_writer_with_skipped_records_stores_only_valid_events(
    store: AuditStore,
) -> None:
    records = event_records(30, partitions=1)
    tick = record(example(Alert), offset=1, control=True)
    garbage = record(example(Alert), offset=3)  # an alert is not an event
    outcome = store.write_records(AUTH_EVENTS, [*records, tick, garbage])

    assert (outcome.inserted, outcome.control, outcome.invalid) == (30, 1, 1)
    assert _counts(store) == (30, 30)
    assert store.verify().ok


def test_writer_after_partial_insert_fills_holes_with_the_same_hashes(
    store: AuditStore,
) -> None:
    records = event_records(300)
    store.write_records(AUTH_EVENTS, records)
    original = _hashes(store)
    # What an insert cut short across table partitions leaves: some rows missing.
    store.open_writer().command(
        "ALTER TABLE auth_events DELETE WHERE kafka_partition = 0 "
        "AND kafka_offset % 6 = 0 SETTINGS mutations_sync = 2"
    )
    assert _counts(store)[0] < 300
    store.forget_heads()

    store.write_records(AUTH_EVENTS, records)

    assert _counts(store) == (300, 300)
    assert _hashes(store) == original
    assert store.verify().ok


def test_writer_after_lost_view_rows_repairs_sessions_and_rollups(
    store: AuditStore,
) -> None:
    records = event_records(400)
    store.write_records(AUTH_EVENTS, records)
    # What a crash between the table's insert and its views' leaves.
    for table in ("sessions", "activity_hourly"):
        store.open_writer().command(f"TRUNCATE TABLE {table}")
    store.write_records(AUTH_EVENTS, records[:150])

    outcome = store.write_records(AUTH_EVENTS, records)

    assert outcome.repaired and outcome.inserted == 0
    _derived_matches_events(store)
    store.write_records(AUTH_EVENTS, records)
    _derived_matches_events(store)


def test_writer_alerts_and_notices_written_twice_are_stored_once(
    store: AuditStore,
) -> None:
    alerts = [
        record(
            example(Alert, alert_id=f"00000000-0000-4000-8000-{n:012d}"),
            n % 2,
            n,
            "alerts",
        )
        for n in range(20)
    ]
    notices = [
        record(
            example(RevocationNotice, session_id=f"s-{n}"), 0, n, "session.revocations"
        )
        for n in range(10)
    ]

    for _ in range(2):
        store.write_records(ALERTS, alerts)
        store.write_records(REVOCATIONS, notices)

    assert store.query("SELECT count(), uniqExact(alert_id) FROM alerts").rows == [
        [20, 20]
    ]
    assert store.query("SELECT count() FROM revocations").rows == [[10]]


def test_retry_delay_doubles_up_to_thirty_seconds() -> None:
    assert [retry_delay(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_writer_while_store_is_held_elsewhere_retries_then_recovers(
    audit_settings: LedgerSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Another process holds the embedded store: the writer cannot open it.
    path = audit_settings.clickhouse_dsn.removeprefix("chdb://")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, chdb; c = chdb.connect(sys.argv[1]); "
            "print('held', flush=True); time.sleep(60)",
            path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"

        async def scenario() -> float:
            store = AuditStore(audit_settings)
            thread = ClickHouseThread()
            writer = AuditWriter(store, thread)
            started = time.monotonic()
            task = asyncio.create_task(writer.write(AUTH_EVENTS, event_records(50)))
            await asyncio.sleep(2.0)
            assert not task.done(), "the batch must be held while ClickHouse is away"
            holder.kill()
            holder.wait(10)
            outcome = await asyncio.wait_for(task, 30)
            assert outcome.inserted == 50
            await thread.run(store.close)
            thread.shutdown()
            return time.monotonic() - started

        with caplog.at_level(logging.INFO, logger="projections"):
            asyncio.run(scenario())
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "held by another process" in warnings[0].getMessage()
    assert "retrying in 0.5 s" in warnings[0].getMessage()
    assert any("recovered" in r.getMessage() for r in caplog.records)
    store = AuditStore(audit_settings)
    try:
        assert _counts(store) == (50, 50)
    finally:
        store.close()
