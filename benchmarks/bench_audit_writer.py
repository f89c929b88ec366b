"""Audit writer throughput into chDB, against a direct clickhouse-connect insert.

    python benchmarks/bench_audit_writer.py [--events 30000] [--batch 5000]

Both sides write the same rows into identical tables (same migrations, so the same
projection and materialized views) of one embedded engine, in the same run:

- direct: `client.insert` of rows prepared beforehand (validated, serialized,
  chained), the same columns the writer inserts;
- writer: `AuditStore.write_records`, the call the Faust agent makes, from raw
  Kafka record bytes: validation, serialization, the stored-position check,
  chain hashing and the insert with its de-duplication token;
- writer, parsed: `AuditStore.write_rows` from already validated rows, which
  isolates the cost of the de-duplication check and the chain;
- replay: the writer again over batches already stored, as after a crash.

The ratios are what to compare between machines; absolute rates drift.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from results import emit

from ledger.settings import LedgerSettings
from projections.messages import KafkaRecord, intake, parsers
from projections.rows import (
    AUTH_EVENTS,
    GENESIS_HASH,
    Position,
    chain_link,
    insert_columns,
    values_of,
)
from projections.store import AuditStore
from schemas import AccessRecorded, AuthenticationFailed, HeartbeatReceived, serialize
from schemas.examples import examples, started

PARTITIONS = 8


def make_records(count: int) -> list[KafkaRecord]:
    """`count` raw records of a mixed stream over 8 partitions, keyed by session."""
    bases = examples()
    kinds = [
        bases[AccessRecorded],
        bases[HeartbeatReceived],
        bases[AuthenticationFailed],
        started("user"),
        started("hybrid"),
    ]
    start = datetime(2025, 3, 3, tzinfo=UTC)
    now = datetime.now(UTC)
    records = []
    for n in range(count):
        base = kinds[n % len(kinds)]
        session = f"{base.category}-{n % 500}"
        event = base.model_copy(
            update={
                "event_id": uuid5(NAMESPACE_URL, f"urn:bench:{n}"),
                "session_id": session,
                "occurred_at": start + timedelta(seconds=n * 3),
            }
        )
        records.append(
            KafkaRecord(
                Position("auth.events", n % PARTITIONS, n // PARTITIONS, now),
                session.encode(),
                serialize(event),
            )
        )
    return records


def direct_values(
    settings: LedgerSettings, records: list[KafkaRecord]
) -> list[list[Any]]:
    """The rows the writer stores, prepared up front for the direct insert."""
    rows = intake(parsers(settings)["auth_events"], records).rows
    heads: dict[int, str] = {}
    values = []
    for row in sorted(rows, key=lambda r: (r.position.partition, r.position.offset)):
        position = row.position
        prev = heads.get(position.partition, GENESIS_HASH)
        link = chain_link(prev, position.partition, position.offset, row.message_json)
        heads[position.partition] = link
        values.append([*values_of(row), prev, link])
    return values


def timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        dsn = f"chdb://{Path(folder) / 'clickhouse'}"
        records = make_records(args.events)
        count = len(records)

        def store(database: str) -> AuditStore:
            opened = AuditStore(
                LedgerSettings(
                    data_dir=Path(folder),
                    clickhouse_url=dsn,
                    clickhouse_database=database,
                )
            )
            opened.open_writer()
            return opened

        direct, writer, parsed = store("direct"), store("writer"), store("parsed")
        try:
            values = direct_values(direct.settings, records)
            client = direct.open_writer()
            columns = list(insert_columns(AUTH_EVENTS))
            direct_seconds = timed(
                lambda: [
                    client.insert("auth_events", chunk, column_names=columns)
                    for chunk in batches(values, args.batch)
                ]
            )
            writer_seconds = timed(
                lambda: [
                    writer.write_records(AUTH_EVENTS, chunk)
                    for chunk in batches(records, args.batch)
                ]
            )
            rows = intake(parsers(parsed.settings)["auth_events"], records)
            parsed_seconds = timed(
                lambda: [
                    parsed.write_rows(AUTH_EVENTS, chunk)
                    for chunk in batches(rows.rows, args.batch)
                ]
            )
            writer.forget_heads()
            replay_seconds = timed(
                lambda: [
                    writer.write_records(AUTH_EVENTS, chunk)
                    for chunk in batches(records, args.batch)
                ]
            )
            stored = [
                s.query("SELECT count() FROM auth_events").rows[0][0]
                for s in (direct, writer, parsed)
            ]
            assert stored == [count] * 3, stored
            assert writer.verify().ok
        finally:
            for opened in (direct, writer, parsed):
                opened.close()

    base = count / direct_seconds
    print(
        f"audit writer into chDB: {count:,} events, batches of {args.batch:,}, "
        f"{PARTITIONS} partitions"
    )
    print(f"  {'direct clickhouse-connect insert':<44} {base:>10,.0f} rows/s   1.00")
    for label, seconds in (
        ("writer from raw records (agent's path)", writer_seconds),
        ("writer from validated rows (dedup + chain)", parsed_seconds),
        ("writer replaying stored batches", replay_seconds),
    ):
        rate = count / seconds
        print(f"  {label:<44} {rate:>10,.0f} rows/s   {rate / base:.2f}")
        emit(
            "audit writer",
            label,
            rate,
            "rows/s",
            baseline=base,
            baseline_label="direct clickhouse-connect insert into chDB",
            note=f"{count:,} events, batches of {args.batch:,}",
        )


if __name__ == "__main__":
    main()
