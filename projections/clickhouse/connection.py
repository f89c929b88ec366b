"""Opening a ClickHouse client from the ledger's settings.

`settings.clickhouse_dsn` is either `chdb://PATH`, the real ClickHouse engine run
in-process by chDB, or an `http(s)://` URL of a server. Both give a
clickhouse-connect client that runs the same SQL. The database is always
`settings.clickhouse_database`; a database named in the DSN path is ignored.

chDB hosts one engine per process, and a second process cannot open a path that
another holds. Clients are not thread-safe: use each from one thread at a time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from ledger.settings import LedgerSettings
from projections.errors import StoreBusy, StoreUnavailable

logger = logging.getLogger(__name__)

# chDB's message when the path is held by an engine in another process.
_HELD_ELSEWHERE = "EmbeddedServer"


def is_embedded(dsn: str) -> bool:
    """Whether a DSN names an in-process chDB store rather than a server."""
    return dsn.startswith("chdb:")


def describe(dsn: str) -> str:
    """The DSN without credentials, for messages and logs."""
    parsed = urlparse(dsn)
    if parsed.password is None and parsed.username is None:
        return dsn
    host = parsed.hostname or ""
    port = f":{parsed.port}" if parsed.port else ""
    return parsed._replace(netloc=f"{host}{port}").geturl()


def open_client(
    settings: LedgerSettings,
    *,
    create_database: bool = False,
    read_only: bool = False,
) -> Client:
    """A client on the audit database.

    `create_database` creates it first if it is missing (the writer does this).
    `read_only` sets ClickHouse's own `readonly=1` for every statement of the
    client, so the engine refuses writes whatever text reaches it.
    """
    dsn = settings.clickhouse_dsn
    database = settings.clickhouse_database
    client_settings = {"readonly": 1} if read_only else {}
    if is_embedded(dsn):
        _prepare_embedded_path(dsn)
    try:
        client = clickhouse_connect.get_client(
            dsn=dsn, database="default", settings=client_settings
        )
    except Exception as error:
        raise _unavailable(dsn, error) from error
    try:
        if create_database:
            client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        exists = client.command(
            "SELECT count() FROM system.databases WHERE name = {name:String}",
            parameters={"name": database},
        )
    except ClickHouseError as error:
        client.close()
        raise _unavailable(dsn, error) from error
    if not exists:
        client.close()
        raise StoreUnavailable(
            f"ClickHouse at {describe(dsn)} has no database '{database}' yet; "
            "it is created when the worker's audit writer first starts"
        )
    client.database = database
    return client


def _prepare_embedded_path(dsn: str) -> None:
    parsed = urlparse(dsn)
    location = parsed.path if not parsed.netloc else parsed.netloc
    if location in ("", "memory", ":memory:"):
        return
    Path(location).parent.mkdir(parents=True, exist_ok=True)


def _unavailable(dsn: str, error: Exception) -> StoreUnavailable:
    where = describe(dsn)
    if is_embedded(dsn) and _HELD_ELSEWHERE in str(error):
        return StoreBusy(
            f"the embedded ClickHouse store {where} is held by another process "
            "(a running worker?); query it through that worker, or stop it first"
        )
    return StoreUnavailable(f"ClickHouse at {where} cannot be used: {error}")
