"""Messages as rows of the audit tables, and the hash chain over auth_events. No I/O.

A row is the validated message as compact JSON (what `schemas.serialize` writes,
unknown fields included) plus its Kafka position; auth_events rows also carry
their chain link. ClickHouse derives every flat column from the JSON with the
DEFAULT expressions of the migrations, so the derivation lives in one place, and
`ledger verify` re-evaluates it to find a flat column changed after the fact.

The chain: `chain_hash = sha256(prev_hash + canonical)`, in hex, where `prev_hash`
is the ASCII hex of the previous row's hash on the same Kafka partition (64 zeros
for the first row) and `canonical` is `b"<partition>\\n<offset>\\n"` followed by
the stored JSON bytes. Anyone can recompute it from the table alone, e.g.
`printf '%s%d\\n%d\\n%s' "$prev" "$partition" "$offset" "$json" | sha256sum`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

GENESIS_HASH = "0" * 64
"""`prev_hash` of the first row of every partition's chain."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record sits in Kafka."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Row:
    """A validated message ready for its table: its JSON and its Kafka position."""

    position: Position
    message_json: bytes


def chain_link(prev_hash: str, partition: int, offset: int, message_json: bytes) -> str:
    """The chain hash of a row, given the previous row's hash on its partition."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(b"%d\n%d\n" % (partition, offset))
    digest.update(message_json)
    return digest.hexdigest()


@dataclass(frozen=True)
class TableSpec:
    """Which table a topic's messages go to, and whether its rows are chained."""

    table: str
    json_column: str
    chained: bool


AUTH_EVENTS = TableSpec("auth_events", "event_json", chained=True)
ALERTS = TableSpec("alerts", "alert_json", chained=False)
REVOCATIONS = TableSpec("revocations", "notice_json", chained=False)

POSITION_COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")
CHAIN_COLUMNS = ("prev_hash", "chain_hash")


def insert_columns(spec: TableSpec) -> tuple[str, ...]:
    """The columns the writer inserts, in order; ClickHouse derives the others."""
    chain = CHAIN_COLUMNS if spec.chained else ()
    return (spec.json_column, *POSITION_COLUMNS, *chain)


def values_of(row: Row) -> list[object]:
    """A row's values for `insert_columns`, without the chain columns."""
    position = row.position
    return [
        row.message_json,
        position.topic,
        position.partition,
        position.offset,
        position.timestamp,
    ]
