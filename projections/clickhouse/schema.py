"""Versioned migrations of the audit database, applied at start-up.

Migrations are the files `migrations/NNNN_name.sql` of this package, applied in
order of NNNN and recorded in `schema_migrations`. Every statement in them is
idempotent (`IF NOT EXISTS`), so a migration cut short by a crash is simply
applied again, and applying all of them twice changes nothing. A migration is
never edited once released; a change is a new file.

The files are templates: `${database}`, `${retention_days}` and `${dedup_window}`
are filled in from the settings.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from projections.clickhouse.sqltext import split_statements
from projections.errors import MigrationError

logger = logging.getLogger(__name__)

DEDUP_WINDOW = 1000
"""Insert tokens each table remembers (`non_replicated_deduplication_window`)."""

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# The retention clause of each table, to follow a changed retention setting.
RETENTION_TTL = {
    "auth_events": "toDateTime(ingested_at) + toIntervalDay({days})",
    "alerts": "toDateTime(ingested_at) + toIntervalDay({days})",
    "revocations": "toDateTime(ingested_at) + toIntervalDay({days})",
    "sessions": "written_at + toIntervalDay({days})",
    "activity_hourly": "written_at + toIntervalDay({days})",
}


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    template: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.template.encode()).hexdigest()

    def statements(self, database: str, retention_days: int) -> list[str]:
        """The statements of this migration for one database."""
        text = Template(self.template).substitute(
            database=f"`{database}`",
            retention_days=retention_days,
            dedup_window=DEDUP_WINDOW,
        )
        return split_statements(text)


def migrations() -> list[Migration]:
    """Every migration shipped with the package, in order."""
    folder = resources.files("projections.clickhouse").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(
                Migration(int(match.group(1)), match.group(2), entry.read_text())
            )
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version number: {versions}")
    return found


def apply_migrations(client: Client, database: str, retention_days: int) -> list[str]:
    """Apply the pending migrations to `database`; return the names applied."""
    _run(
        client,
        f"CREATE TABLE IF NOT EXISTS `{database}`.schema_migrations ("
        " version UInt32, name String, checksum String,"
        " applied_at DateTime64(3, 'UTC') DEFAULT now64(3)"
        ") ENGINE = ReplacingMergeTree ORDER BY version",
        "schema_migrations",
    )
    applied = dict(
        client.query(
            f"SELECT version, argMax(checksum, applied_at) "
            f"FROM `{database}`.schema_migrations GROUP BY version"
        ).result_rows
    )
    done: list[str] = []
    for migration in migrations():
        label = f"{migration.version:04d}_{migration.name}"
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                logger.warning(
                    "migration %s changed after it was applied to %s; the change "
                    "is not applied: ship it as a new migration",
                    label,
                    database,
                )
            continue
        for statement in migration.statements(database, retention_days):
            _run(client, statement, label)
        client.insert(
            f"`{database}`.schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        logger.info("applied migration %s to ClickHouse database %s", label, database)
        done.append(label)
    _follow_retention(client, database, retention_days)
    return done


def _follow_retention(client: Client, database: str, retention_days: int) -> None:
    """Change each table's TTL when the retention setting changed since creation."""
    engines = dict(
        client.query(
            "SELECT name, engine_full FROM system.tables WHERE database = {db:String}",
            parameters={"db": database},
        ).result_rows
    )
    for table, clause in RETENTION_TTL.items():
        engine = engines.get(table)
        if engine is None or f"toIntervalDay({retention_days})" in engine:
            continue
        ttl = clause.format(days=retention_days)
        _run(client, f"ALTER TABLE `{database}`.`{table}` MODIFY TTL {ttl}", table)
        logger.info(
            "audit table %s now keeps rows %d days after they were written",
            table,
            retention_days,
        )


def _run(client: Client, statement: str, label: str) -> None:
    try:
        client.command(statement)
    except ClickHouseError as error:
        first_line = statement.strip().splitlines()[0]
        raise MigrationError(
            f"migration {label} failed at `{first_line}`: {error}"
        ) from error
