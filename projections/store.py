"""The audit store: batched, idempotent, hash-chained writes; read-only queries.

One `AuditStore` owns one writing client and one read-only client. Its methods
are synchronous and must be called from one thread at a time; the worker calls
them from a single dedicated thread.

Idempotence. A batch may repeat records already stored: after a crash Kafka
redelivers everything after the last committed offset, and batch boundaries then
differ from before. So before inserting, the writer asks ClickHouse which Kafka
positions of the batch's offset range per partition are already stored (one
query, served by the `by_position` projection) and drops those rows. The insert
then carries an `insert_deduplication_token` made of (topic, partition, first
offset, last offset, rows) per partition, so that a retried insert that
ClickHouse had in fact accepted is dropped by ClickHouse too.

The chain. Each row links to the row before it on its Kafka partition. The writer
walks a partition's offsets in order, taking stored rows' hashes from ClickHouse
and computing the missing ones, so a hole left by an insert cut short gets
exactly the hash it would have had. The last hash per partition is kept in
memory and reloaded from ClickHouse at start, after a rebalance and after any
failure.

Derived tables. `sessions` and `activity_hourly` are fed by materialized views,
which ClickHouse writes after the table itself; a crash in between would lose
their share of the insert. Whenever a batch finds rows already stored, the
writer re-derives those rows with the views' own SELECT: session rows are
max/min aggregates, so adding them again changes nothing, and the hourly sums
get a correcting row (true count minus rolled-up count).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from ledger.settings import LedgerSettings
from projections.clickhouse.connection import describe, open_client
from projections.clickhouse.schema import apply_migrations
from projections.errors import AuditError
from projections.messages import KafkaRecord, intake, parsers
from projections.readonly import (
    QueryResult,
    check_functions,
    check_statement,
    jsonable,
)
from projections.rows import (
    AUTH_EVENTS,
    GENESIS_HASH,
    Row,
    TableSpec,
    chain_link,
    insert_columns,
    values_of,
)
from projections.verify import (
    READ_COLUMNS,
    ChainChecker,
    VerifyReport,
    column_check_sql,
    resolve_link,
    rows_as_dicts,
)

logger = logging.getLogger(__name__)

INSERT_SETTINGS = {
    # Late or replayed events may span many months, i.e. many table partitions;
    # refusing such a batch would stall the writer for good.
    "throw_on_max_partitions_per_insert_block": 0,
}

_ACTIVITY_KEYS = ("hour", "category", "principal_id", "principal_kind", "type")


@dataclass(frozen=True, slots=True)
class Head:
    """The last row of a partition's chain: its offset and hash."""

    offset: int
    hash: str


NO_HEAD = Head(-1, GENESIS_HASH)

PartitionKey = tuple[str, int]


@dataclass
class WriteOutcome:
    """What one batch did."""

    received: int = 0
    inserted: int = 0
    already_stored: int = 0
    control: int = 0
    invalid: int = 0
    repaired: bool = False


class AuditStore:
    """The audit database of one ledger, for the writer and for analysts."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.database = settings.clickhouse_database
        self._writer: Client | None = None
        self._reader: Client | None = None
        self._heads: dict[PartitionKey, Head] = {}
        self._parsers = parsers(settings)
        self._view_selects: dict[str, str] = {}

    # --- lifecycle ------------------------------------------------------------

    def open_writer(self) -> Client:
        """The writing client; connects and applies migrations on first use."""
        if self._writer is None:
            client = open_client(self.settings, create_database=True)
            try:
                apply_migrations(
                    client, self.database, self.settings.audit_retention_days
                )
            except Exception:
                client.close()
                raise
            self._writer = client
            logger.info(
                "audit store ready: ClickHouse %s, database %s",
                describe(self.settings.clickhouse_dsn),
                self.database,
            )
        return self._writer

    def open_reader(self) -> Client:
        """The read-only client of analyst statements."""
        if self._reader is None:
            self._reader = open_client(self.settings, read_only=True)
        return self._reader

    def close(self) -> None:
        """Close both clients; the store may be opened again."""
        for client in (self._reader, self._writer):
            if client is not None:
                client.close()
        self._reader = self._writer = None
        self._heads.clear()

    def forget_heads(self) -> None:
        """Drop the cached chain heads; they are reloaded from ClickHouse on use."""
        self._heads.clear()

    # --- writing --------------------------------------------------------------

    def write_records(
        self, spec: TableSpec, records: Sequence[KafkaRecord]
    ) -> WriteOutcome:
        """Validate, de-duplicate, chain and insert one batch of Kafka records."""
        taken = intake(self._parsers[spec.table], records)
        outcome = self.write_rows(spec, taken.rows)
        outcome.control, outcome.invalid = taken.control, taken.invalid
        if taken.invalid and spec is not AUTH_EVENTS:
            logger.warning(
                "%d %s record(s) failed validation and are not stored, first at %s",
                taken.invalid,
                spec.table,
                taken.first_invalid,
            )
        return outcome

    def write_rows(self, spec: TableSpec, rows: Sequence[Row]) -> WriteOutcome:
        """De-duplicate, chain and insert rows; raise unless ClickHouse took them."""
        if not rows:
            return WriteOutcome()
        client = self.open_writer()
        try:
            return self._write(client, spec, rows)
        except Exception:
            # Whether the insert landed is unknown: reload the heads next time.
            self._heads.clear()
            raise

    def _write(
        self, client: Client, spec: TableSpec, rows: Sequence[Row]
    ) -> WriteOutcome:
        partitions = _by_partition(rows)
        stored = self._stored(client, spec, partitions)
        to_insert: list[list[Any]] = []
        heads: dict[PartitionKey, Head] = {}
        already = 0
        for key, part_rows in partitions.items():
            found = stored.get(key, {})
            already += sum(1 for row in part_rows if row.position.offset in found)
            if spec.chained:
                linked, heads[key] = self._link(client, spec, key, part_rows, found)
                to_insert.extend(linked)
            else:
                to_insert.extend(
                    values_of(row)
                    for row in part_rows
                    if row.position.offset not in found
                )

        if to_insert:
            client.insert(
                f"`{self.database}`.`{spec.table}`",
                to_insert,
                column_names=list(insert_columns(spec)),
                settings={
                    **INSERT_SETTINGS,
                    "insert_deduplication_token": _token(spec, to_insert),
                },
            )
        self._heads.update(heads)

        repaired = False
        if spec.chained and already:
            self._repair_derived(client, stored)
            repaired = True
        return WriteOutcome(
            received=len(rows),
            inserted=len(to_insert),
            already_stored=already,
            repaired=repaired,
        )

    def _stored(
        self,
        client: Client,
        spec: TableSpec,
        partitions: dict[PartitionKey, list[Row]],
    ) -> dict[PartitionKey, dict[int, str]]:
        """Stored positions within each partition's offset range, with chain hashes."""
        where, parameters = _position_filter(partitions)
        hash_column = "chain_hash" if spec.chained else "''"
        result = client.query(
            f"SELECT kafka_topic, kafka_partition, kafka_offset, {hash_column} "
            f"FROM `{self.database}`.`{spec.table}` WHERE {where}",
            parameters=parameters,
        )
        stored: dict[PartitionKey, dict[int, str]] = defaultdict(dict)
        for topic, partition, offset, chain_hash in result.result_rows:
            stored[(topic, partition)][offset] = chain_hash
        return stored

    def _link(
        self,
        client: Client,
        spec: TableSpec,
        key: PartitionKey,
        part_rows: list[Row],
        found: dict[int, str],
    ) -> tuple[list[list[Any]], Head]:
        """The rows to insert with their links, and the partition's new head."""
        first = part_rows[0].position.offset
        head = self._heads.get(key)
        if head is None or head.offset >= first:
            head = self._head_before(client, spec, key, first)
        by_offset = {row.position.offset: row for row in part_rows}
        current = head.hash
        linked: list[list[Any]] = []
        for offset in sorted(by_offset.keys() | found.keys()):
            if offset in found:
                current = found[offset]
                continue
            row = by_offset[offset]
            prev_hash = current
            current = chain_link(prev_hash, key[1], offset, row.message_json)
            linked.append([*values_of(row), prev_hash, current])
        return linked, Head(max(by_offset.keys() | found.keys()), current)

    def _head_before(
        self, client: Client, spec: TableSpec, key: PartitionKey, offset: int
    ) -> Head:
        """The stored row just before `offset` on a partition, or the genesis head."""
        result = client.query(
            f"SELECT kafka_offset, chain_hash FROM `{self.database}`.`{spec.table}` "
            "WHERE kafka_topic = {topic:String}"
            " AND kafka_partition = {partition:UInt32}"
            " AND kafka_offset < {offset:UInt64} ORDER BY kafka_offset DESC LIMIT 1",
            parameters={"topic": key[0], "partition": key[1], "offset": offset},
        )
        if not result.result_rows:
            return NO_HEAD
        stored_offset, chain_hash = result.result_rows[0]
        return Head(stored_offset, chain_hash)

    def _repair_derived(
        self, client: Client, stored: dict[PartitionKey, dict[int, str]]
    ) -> None:
        """Re-derive the views' rows for the stored positions of a batch."""
        ranges = {
            key: (min(offsets), max(offsets))
            for key, offsets in stored.items()
            if offsets
        }
        where, parameters = _range_filter(ranges)
        events = f"`{self.database}`.auth_events"
        touched = f"(SELECT * FROM {events} WHERE {where})"

        # Sessions: max/min aggregates, so re-adding rows is harmless.
        sessions = self._view_select(client, "sessions_mv", touched)
        client.command(
            f"INSERT INTO `{self.database}`.sessions {sessions}", parameters=parameters
        )

        # Hourly activity: every row of each touched key, minus what is rolled up.
        key_expr = (
            "category, principal_id, "
            "toDateTime64(toStartOfHour(occurred_at), 0, 'UTC'), type"
        )
        keys = f"(SELECT DISTINCT {key_expr} FROM {events} WHERE {where})"
        truth = self._view_select(
            client,
            "activity_hourly_mv",
            f"(SELECT * FROM {events} WHERE ({key_expr}) IN {keys})",
        )
        using = ", ".join(_ACTIVITY_KEYS)
        client.command(
            f"INSERT INTO `{self.database}`.activity_hourly "
            f"({using}, events, failures, sessions, written_at) "
            f"SELECT {using}, t.events - r.events, t.failures - r.failures, "
            "t.sessions, t.written_at "
            f"FROM ({truth}) AS t LEFT JOIN ("
            f"SELECT {using}, sum(events) AS events, sum(failures) AS failures "
            f"FROM `{self.database}`.activity_hourly "
            f"WHERE (category, principal_id, hour, type) IN {keys} "
            f"GROUP BY {using}) AS r USING ({using})",
            parameters=parameters,
        )
        logger.info(
            "re-derived sessions and hourly activity for %d partition range(s) "
            "that were already stored (a previous insert may have stopped early)",
            len(ranges),
        )

    def _view_select(self, client: Client, view: str, source: str) -> str:
        """A materialized view's own SELECT, reading from `source` instead."""
        if view not in self._view_selects:
            found = client.query(
                "SELECT as_select FROM system.tables "
                "WHERE database = {db:String} AND name = {view:String}",
                parameters={"db": self.database, "view": view},
            ).result_rows
            if not found:
                raise AuditError(f"cannot re-derive {view}: the view is missing")
            self._view_selects[view] = found[0][0]
        select = self._view_selects[view]
        pattern = re.compile(
            rf"\bFROM\s+`?{re.escape(self.database)}`?\.`?auth_events`?(?=\s|$)"
        )
        if len(pattern.findall(select)) != 1:
            raise AuditError(
                f"cannot re-derive {view}: its SELECT does not read auth_events once"
            )
        return pattern.sub(lambda _: f"FROM {source} AS auth_events", select)

    # --- reading --------------------------------------------------------------

    def query(self, sql: str, *, limit: int = 10_000) -> QueryResult:
        """Run one analyst statement read-only; at most `limit` rows are returned."""
        statement = check_statement(sql)
        reader = self.open_reader()
        try:
            ast = reader.raw_query(f"EXPLAIN AST {statement}", fmt="TabSeparatedRaw")
            check_functions(ast.decode("utf-8", "replace"))
            if _lead(statement) in ("SELECT", "WITH"):
                columns, types, rows, truncated = _stream(reader, statement, limit)
            else:
                # chDB streams SELECTs only; SHOW, DESCRIBE and the like are small.
                answer = reader.query(statement)
                columns, types = _names(answer), _types(answer)
                rows = [[jsonable(v) for v in row] for row in answer.result_rows]
                truncated = len(rows) > limit
                rows = rows[:limit]
            if not columns:
                columns, types = self._describe(reader, statement)
        except ClickHouseError as error:
            raise AuditError(f"ClickHouse refused the query: {error}") from error
        return QueryResult(columns, types, rows, truncated)

    @staticmethod
    def _describe(reader: Client, statement: str) -> tuple[list[str], list[str]]:
        # chDB sends no block at all for an empty result, so no column names.
        if _lead(statement) not in ("SELECT", "WITH"):
            return [], []
        described = reader.query(f"DESCRIBE ({statement})").result_rows
        return [row[0] for row in described], [row[1] for row in described]

    def verify(self) -> VerifyReport:
        """Recompute every hash chain of auth_events, and every derived column."""
        reader = self.open_reader()
        table = f"`{self.database}`.auth_events"
        try:
            derived = self._derived_columns(reader)
            differing = {
                (topic, partition, offset): names
                for topic, partition, offset, names in (
                    reader.query(column_check_sql(table, derived)).result_rows
                    if derived
                    else ()
                )
            }
            checker = ChainChecker(differing)
            with reader.query_row_block_stream(
                f"SELECT {', '.join(READ_COLUMNS)} FROM {table} "
                "ORDER BY kafka_topic, kafka_partition, kafka_offset"
            ) as stream:
                for row in rows_as_dicts(stream):
                    checker.check(row)
            for report in checker.reports:
                if report.pending_link is None:
                    continue
                linked = reader.query(
                    f"SELECT kafka_offset FROM {table} WHERE kafka_topic = {{t:String}}"
                    " AND kafka_partition = {p:UInt32} AND chain_hash = {h:String}",
                    parameters={
                        "t": report.topic,
                        "p": report.partition,
                        "h": report.pending_link[1],
                    },
                ).result_rows
                resolve_link(report, (offset for (offset,) in linked))
        except ClickHouseError as error:
            raise AuditError(
                f"ClickHouse could not be read for verify: {error}"
            ) from error
        return VerifyReport(checker.reports)

    def _derived_columns(self, reader: Client) -> dict[str, str]:
        """auth_events columns derived from event_json, with their expressions."""
        return dict(
            reader.query(
                "SELECT name, default_expression FROM system.columns "
                "WHERE database = {db:String} AND table = 'auth_events' "
                "AND default_kind = 'DEFAULT' "
                "AND position(default_expression, 'event_json') > 0 "
                "ORDER BY position",
                parameters={"db": self.database},
            ).result_rows
        )


def _lead(statement: str) -> str:
    return statement.lstrip("( \n\t").split(None, 1)[0].upper()


def _stream(
    reader: Client, statement: str, limit: int
) -> tuple[list[str], list[str], list[list[Any]], bool]:
    rows: list[list[Any]] = []
    with reader.query_row_block_stream(statement) as stream:
        for block in stream:
            for values in block:
                if len(rows) >= limit:
                    return _names(stream.source), _types(stream.source), rows, True
                rows.append([jsonable(value) for value in values])
        return _names(stream.source), _types(stream.source), rows, False


def _names(source: Any) -> list[str]:
    return list(source.column_names)


def _types(source: Any) -> list[str]:
    return [kind.name for kind in source.column_types]


def _by_partition(rows: Iterable[Row]) -> dict[PartitionKey, list[Row]]:
    partitions: dict[PartitionKey, dict[int, Row]] = defaultdict(dict)
    for row in rows:
        # A record delivered twice in one batch (after a rebalance) counts once.
        partitions[(row.position.topic, row.position.partition)].setdefault(
            row.position.offset, row
        )
    return {
        key: [by_offset[offset] for offset in sorted(by_offset)]
        for key, by_offset in partitions.items()
    }


def _position_filter(
    partitions: dict[PartitionKey, list[Row]],
) -> tuple[str, dict[str, Any]]:
    ranges = {
        key: (rows[0].position.offset, rows[-1].position.offset)
        for key, rows in partitions.items()
    }
    return _range_filter(ranges)


def _range_filter(
    ranges: dict[PartitionKey, tuple[int, int]],
) -> tuple[str, dict[str, Any]]:
    topics = sorted({topic for topic, _ in ranges})
    names = {topic: f"topic{index}" for index, topic in enumerate(topics)}
    clauses = [
        f"(kafka_topic = {{{names[topic]}:String}}"
        f" AND kafka_partition = {int(partition)}"
        f" AND kafka_offset BETWEEN {int(low)} AND {int(high)})"
        for (topic, partition), (low, high) in sorted(ranges.items())
    ]
    return "(" + " OR ".join(clauses) + ")", {names[t]: t for t in topics}


def _token(spec: TableSpec, values: list[list[Any]]) -> str:
    """The insert's de-duplication token: its Kafka ranges per partition."""
    # Values are [json, topic, partition, offset, timestamp, ...] (see values_of).
    spans: dict[PartitionKey, list[int]] = {}
    for row in values:
        topic, partition, offset = row[1], row[2], row[3]
        span = spans.setdefault((topic, partition), [offset, offset, 0])
        span[0], span[1], span[2] = (
            min(span[0], offset),
            max(span[1], offset),
            span[2] + 1,
        )
    text = json.dumps(
        [spec.table, sorted([t, p, lo, hi, n] for (t, p), (lo, hi, n) in spans.items())]
    )
    return hashlib.sha256(text.encode()).hexdigest()
