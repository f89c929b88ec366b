"""`ledger verify` finds rows changed, deleted or inserted behind the writer's back."""

from __future__ import annotations

import json

import pytest
from audit_samples import event_records
from typer.testing import CliRunner

from ledger.cli import app
from ledger.settings import LedgerSettings
from projections.rows import AUTH_EVENTS, chain_link
from projections.store import AuditStore

PARTITIONS = 3


@pytest.fixture
def written(store: AuditStore) -> AuditStore:
    # Offsets 0, 2, 4, ... on each partition: gaps like those of skipped records.
    store.write_records(AUTH_EVENTS, event_records(90, PARTITIONS))
    return store


def _mutate(store: AuditStore, statement: str) -> None:
    store.open_writer().command(f"{statement} SETTINGS mutations_sync = 2")


def _verify_cli(settings: LedgerSettings) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["verify"],
        env={
            "LEDGER_DATA_DIR": str(settings.data_dir),
            "LEDGER_CLICKHOUSE_URL": settings.clickhouse_dsn,
            "LEDGER_WEB_PORT": str(settings.web_port),
        },
    )
    return result.exit_code, result.output


def test_verify_on_untouched_store_passes(
    written: AuditStore, audit_settings: LedgerSettings
) -> None:
    verdict = written.verify()

    assert verdict.ok
    assert verdict.rows == 90
    assert [p.partition for p in verdict.partitions] == [0, 1, 2]
    assert all(p.starts_at_genesis for p in verdict.partitions)
    code, output = _verify_cli(audit_settings)
    assert code == 0, output
    assert "90 rows in 3 chains: intact" in output


def test_verify_after_column_update_reports_altered_row(
    written: AuditStore, audit_settings: LedgerSettings
) -> None:
    _mutate(
        written,
        # Sort-key columns cannot be updated at all; session_id is not one.
        "ALTER TABLE auth_events UPDATE session_id = 'sess-forged' "
        "WHERE kafka_partition = 1 AND kafka_offset = 20",
    )

    verdict = written.verify()

    broken = {p.partition: p for p in verdict.partitions if not p.ok}
    assert list(broken) == [1]
    finding = broken[1].first_problem
    assert (finding.offset, finding.problem) == (20, "altered")
    assert "session_id" in finding.detail
    code, output = _verify_cli(audit_settings)
    assert code == 1
    assert "ALTERED at offset 20" in output


def test_verify_after_json_update_reports_altered_row(written: AuditStore) -> None:
    _mutate(
        written,
        "ALTER TABLE auth_events UPDATE event_json = concat(event_json, ' ') "
        "WHERE kafka_partition = 0 AND kafka_offset = 8",
    )

    finding = _only_problem(written)

    assert (finding.offset, finding.problem) == (8, "altered")


def test_verify_after_deleted_row_reports_gap(written: AuditStore) -> None:
    _mutate(
        written,
        "ALTER TABLE auth_events DELETE "
        "WHERE kafka_partition = 2 AND kafka_offset = 10",
    )

    finding = _only_problem(written)

    assert (finding.offset, finding.problem) == (12, "gap")
    assert "between offset 8 and 12" in finding.detail


def test_verify_after_rehashed_row_reports_broken_link(written: AuditStore) -> None:
    # A forger who recomputes the changed row's own hash still breaks the next link.
    client = written.open_writer()
    prev_hash, event_json, session_id = client.query(
        "SELECT prev_hash, event_json, session_id FROM auth_events "
        "WHERE kafka_partition = 0 AND kafka_offset = 6"
    ).result_rows[0]
    forged = event_json.replace(f'"session_id":"{session_id}"', '"session_id":"forged"')
    assert forged != event_json
    new_hash = chain_link(prev_hash, 0, 6, forged.encode())
    _mutate(
        written,
        "ALTER TABLE auth_events UPDATE event_json = "
        f"{_literal(forged)}, chain_hash = '{new_hash}', session_id = 'forged' "
        "WHERE kafka_partition = 0 AND kafka_offset = 6",
    )

    finding = _only_problem(written)

    assert (finding.offset, finding.problem) == (8, "gap")


def test_verify_after_forged_insert_reports_inserted_row(written: AuditStore) -> None:
    client = written.open_writer()
    columns = [
        name
        for (name,) in client.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() "
            "AND table = 'auth_events' AND default_kind = '' ORDER BY position"
        ).result_rows
    ]
    row = dict(
        zip(
            columns,
            client.query(
                f"SELECT {', '.join(columns)} FROM auth_events "
                "WHERE kafka_partition = 1 AND kafka_offset = 10"
            ).result_rows[0],
            strict=True,
        )
    )
    # A self-consistent row at offset 11, linked to offset 10, as a forger would.
    document = json.loads(row["event_json"])
    document["event_id"] = "00000000-0000-4000-8000-000000000011"
    forged = json.dumps(document, separators=(",", ":"))
    row.update(
        event_id=document["event_id"],
        event_json=forged,
        kafka_offset=11,
        prev_hash=row["chain_hash"],
        chain_hash=chain_link(row["chain_hash"], 1, 11, forged.encode()),
    )
    client.insert("auth_events", [list(row.values())], column_names=list(row))

    finding = _only_problem(written)

    assert (finding.offset, finding.problem) == (12, "inserted")
    assert "offset 10" in finding.detail


def _only_problem(store: AuditStore):
    verdict = store.verify()
    broken = [p for p in verdict.partitions if not p.ok]
    assert len(broken) == 1, verdict.as_dict()
    return broken[0].first_problem


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
