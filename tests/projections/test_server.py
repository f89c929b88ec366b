"""The same store code and SQL on a ClickHouse server, over HTTP.

It needs a Docker engine for Testcontainers' ClickHouse. Without one the test is
skipped, saying so: the embedded chDB tests run the same SQL through the same
client code, so this is the one skip the suite allows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_samples import event_records
from clickhouse_connect.driver.exceptions import DatabaseError
from kafka_fixtures import docker_answers

from ledger.settings import LedgerSettings
from projections.errors import QueryRefused
from projections.rows import AUTH_EVENTS
from projections.store import AuditStore

IMAGE = "clickhouse/clickhouse-server:25.8"


@pytest.fixture(scope="module")
def server_dsn() -> Iterator[str]:
    if not docker_answers():
        pytest.skip(
            "no Docker engine answered, so there is no ClickHouse server container "
            "for the HTTP path; the embedded chDB tests cover the same SQL"
        )
    from testcontainers.community.clickhouse import ClickHouseContainer

    with ClickHouseContainer(IMAGE, username="ledger", password="ledger") as server:
        host = server.get_container_host_ip()
        port = server.get_exposed_port(8123)
        yield f"http://ledger:ledger@{host}:{port}"


def test_store_on_server_writes_once_verifies_and_stays_read_only(
    server_dsn: str, tmp_path: Path
) -> None:
    settings = LedgerSettings(
        data_dir=tmp_path, clickhouse_url=server_dsn, clickhouse_database="ledger_it"
    )
    store = AuditStore(settings)
    try:
        records = event_records(300)
        store.write_records(AUTH_EVENTS, records[:200])
        store.forget_heads()
        again = store.write_records(AUTH_EVENTS, records)

        assert again.already_stored == 200
        assert store.query(
            "SELECT count(), uniqExact(event_id) FROM auth_events"
        ).rows == [[300, 300]]
        assert store.verify().ok
        assert store.query(
            "SELECT count() FROM human_trail WHERE category != 'user'"
        ).rows == [[0]]
        with pytest.raises(QueryRefused):
            store.query("DROP TABLE auth_events")
        with pytest.raises(DatabaseError, match="READONLY"):
            store.open_reader().command("TRUNCATE TABLE auth_events")
    finally:
        store.close()
