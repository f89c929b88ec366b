"""Versioned migrations: applied at start-up, recorded, and harmless when repeated."""

from __future__ import annotations

from ledger.settings import LedgerSettings
from projections.clickhouse.connection import open_client
from projections.clickhouse.schema import apply_migrations, migrations
from projections.store import AuditStore


def _schema(store: AuditStore) -> list[tuple[str, str]]:
    return (
        store.open_writer()
        .query(
            "SELECT name, create_table_query FROM system.tables "
            "WHERE database = {db:String} ORDER BY name",
            parameters={"db": store.database},
        )
        .result_rows
    )


def test_migrations_applied_twice_change_nothing(store: AuditStore) -> None:
    client = store.open_writer()
    before = _schema(store)

    again = apply_migrations(
        client, store.database, store.settings.audit_retention_days
    )

    assert again == []
    assert _schema(store) == before
    recorded = client.query(
        "SELECT version, name FROM schema_migrations FINAL ORDER BY version"
    ).result_rows
    assert recorded == [(m.version, m.name) for m in migrations()]
    tables = {name for name, _ in before}
    assert {
        "auth_events",
        "human_trail",
        "agent_trail",
        "hybrid_trail",
        "sessions",
        "session_states",
        "activity_hourly",
        "alerts",
        "revocations",
    } <= tables


def test_migrations_on_a_second_store_open_apply_nothing(
    audit_settings: LedgerSettings,
) -> None:
    first = AuditStore(audit_settings)
    first.open_writer()
    first.close()

    client = open_client(audit_settings, create_database=True)
    try:
        applied = apply_migrations(client, audit_settings.clickhouse_database, 400)
    finally:
        client.close()

    assert applied == []


def test_migrations_with_changed_retention_follow_the_setting(
    store: AuditStore,
) -> None:
    client = store.open_writer()

    apply_migrations(client, store.database, 30)

    engines = dict(
        client.query(
            "SELECT name, engine_full FROM system.tables WHERE database = {db:String}",
            parameters={"db": store.database},
        ).result_rows
    )
    for table in (
        "auth_events",
        "alerts",
        "revocations",
        "sessions",
        "activity_hourly",
    ):
        assert "toIntervalDay(30)" in engines[table], table
