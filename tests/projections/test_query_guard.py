"""`ledger query` is read-only: statements that could write are refused twice over."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_samples import event_records
from clickhouse_connect.driver.exceptions import DatabaseError
from kafka_fixtures import free_port
from typer.testing import CliRunner

from ledger.cli import app
from ledger.settings import LedgerSettings
from projections.errors import QueryRefused
from projections.readonly import REPORTS
from projections.rows import AUTH_EVENTS
from projections.store import AuditStore

WRITES = [
    "INSERT INTO auth_events (event_id) VALUES (generateUUIDv4())",
    "insert into auth_events select * from auth_events",
    "ALTER TABLE auth_events DELETE WHERE 1",
    "ALTER TABLE auth_events UPDATE principal_id = 'x' WHERE 1",
    "DROP TABLE auth_events",
    "CREATE TABLE stolen (a Int8) ENGINE = Memory",
    "TRUNCATE TABLE auth_events",
    "RENAME TABLE auth_events TO gone",
    "OPTIMIZE TABLE auth_events FINAL",
    "SYSTEM STOP MERGES",
    "KILL QUERY WHERE 1",
    "GRANT SELECT ON *.* TO nobody",
    "SET readonly = 0",
    "DETACH TABLE auth_events",
    "ATTACH TABLE auth_events",
    "DELETE FROM auth_events WHERE 1",
    "UPDATE auth_events SET principal_id = 'x' WHERE 1",
    "EXCHANGE TABLES auth_events AND alerts",
    "SELECT 1; DROP TABLE auth_events",
    "select 1 /* ; */ ; drop table auth_events",
    "SELECT count() FROM auth_events INTO OUTFILE '/tmp/ledger-outfile.csv'",
    "SELECT file('/etc/hostname')",
    "SELECT * FROM url('http://127.0.0.1:9/', 'CSV', 'a String')",
    "SELECT * FROM file('/etc/hostname', 'LineAsString')",
    "SELECT 1 FORMAT JSON",
    "EXPLAIN SELECT 1 FROM auth_events; DROP TABLE auth_events",
    "WITH x AS (SELECT 1) SELECT * FROM x; INSERT INTO alerts SELECT * FROM alerts",
    "SELECT 'unterminated",
]


@pytest.fixture(scope="module")
def audit_settings(tmp_path_factory: pytest.TempPathFactory) -> LedgerSettings:
    """One store for the module: every test here only reads it."""
    root = tmp_path_factory.mktemp("guard")
    return LedgerSettings(
        data_dir=root / "data",
        clickhouse_url=f"chdb://{root / 'clickhouse'}",
        web_port=free_port(),
        reader_token="test-reader-token",
    )


@pytest.fixture(scope="module")
def loaded(audit_settings: LedgerSettings) -> Iterator[AuditStore]:
    store = AuditStore(audit_settings)
    store.write_records(AUTH_EVENTS, event_records(50))
    yield store
    store.close()


def _env(settings: LedgerSettings) -> dict[str, str]:
    return {
        "LEDGER_DATA_DIR": str(settings.data_dir),
        "LEDGER_CLICKHOUSE_URL": settings.clickhouse_dsn,
        "LEDGER_WEB_PORT": str(settings.web_port),
        "LEDGER_READER_TOKEN": "test-reader-token",
    }


@pytest.mark.parametrize("statement", WRITES)
def test_query_cli_with_writing_statement_is_refused(
    loaded: AuditStore, audit_settings: LedgerSettings, statement: str
) -> None:
    result = CliRunner().invoke(app, ["query", statement], env=_env(audit_settings))

    assert result.exit_code == 2, result.output
    assert "query refused" in result.output
    assert loaded.query("SELECT count() FROM auth_events").rows == [[50]]
    assert loaded.query("EXISTS TABLE stolen").rows == [[0]]
    assert not Path("/tmp/ledger-outfile.csv").exists()


def test_query_cli_with_select_prints_rows_as_json(
    loaded: AuditStore, audit_settings: LedgerSettings
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "query",
            "SELECT category, count() AS n FROM auth_events "
            "GROUP BY category ORDER BY category",
            "--format",
            "json",
        ],
        env=_env(audit_settings),
    )

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert sum(row["n"] for row in rows) == 50
    assert [row["category"] for row in rows] == ["agent", "hybrid", "user"]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_query_cli_with_report_prints_csv(
    loaded: AuditStore, audit_settings: LedgerSettings, name: str
) -> None:
    result = CliRunner().invoke(
        app, ["query", "--report", name, "--format", "csv"], env=_env(audit_settings)
    )

    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0]
    assert header.split(",")[0] in {"hour", "principal_id", "category", "cause"}


def test_query_with_reading_statements_is_allowed(loaded: AuditStore) -> None:
    for statement in (
        "SELECT count() FROM agent_trail;",
        "WITH 2 AS n SELECT n * count() FROM auth_events",
        "SHOW TABLES",
        "DESCRIBE TABLE auth_events",
        "EXPLAIN SELECT * FROM human_trail",
        "EXISTS TABLE sessions",
        "SELECT * FROM system.numbers LIMIT 3",
        "SELECT number FROM numbers(3)",
        "SELECT replace(principal_id, 'a', 'b') FROM auth_events LIMIT 1",
        "SELECT 'DROP TABLE auth_events; -- only text' AS harmless",
    ):
        assert loaded.query(statement).columns, statement


def test_query_with_limit_truncates(loaded: AuditStore) -> None:
    result = loaded.query("SELECT number FROM numbers(100)", limit=10)

    assert len(result.rows) == 10
    assert result.truncated


def test_query_client_refuses_writes_in_the_engine_itself(loaded: AuditStore) -> None:
    reader = loaded.open_reader()

    for statement in (
        "INSERT INTO auth_events (event_id) VALUES (generateUUIDv4())",
        "SELECT 1; DROP TABLE auth_events",
        "SELECT 1 SETTINGS readonly = 0",
    ):
        with pytest.raises(DatabaseError, match="readonly"):
            reader.command(statement)
    assert loaded.query("SELECT count() FROM auth_events").rows == [[50]]


def test_query_with_unknown_report_names_the_reports() -> None:
    from projections.readonly import report

    with pytest.raises(QueryRefused, match="activity-by-hour"):
        report("nope")
