"""Messages as table rows, and the hash chain over auth_events. No I/O.

Each row is derived from the message's JSON document, the compact JSON that
`schemas.serialize` writes for the validated model, and that JSON is stored beside
the flat columns. The writer and `ledger verify` call the same functions here, so
verify can tell whether a flat column still agrees with the JSON it came from.

Derivation never fails on a valid message: a field of the wrong type (an unknown
extra field that happens to share a column's name) becomes the column's empty
value, and times outside ClickHouse's DateTime64 range are clamped to it. The
exact values are always in the JSON column.

The chain: `chain_hash = sha256(prev_hash + canonical)`, hex, where `prev_hash`
is the ASCII hex of the previous row's hash on the same Kafka partition (64 zeros
for the first row) and `canonical` is `b"<partition>\\n<offset>\\n"` followed by
the stored event JSON bytes. Anyone can recompute it from the table alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from schemas import Severity

GENESIS_HASH = "0" * 64
"""`prev_hash` of the first row of every partition's chain."""

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2299, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)

_UINT32_MAX = 2**32 - 1
_UINT64_MAX = 2**64 - 1

Document = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record sits in Kafka."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Row:
    """A message ready for its table: derived columns, JSON, and Kafka position."""

    position: Position
    message_json: bytes
    columns: tuple[Any, ...]


def chain_link(prev_hash: str, partition: int, offset: int, message_json: bytes) -> str:
    """The chain hash of a row, given the previous row's hash on its partition."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(b"%d\n%d\n" % (partition, offset))
    digest.update(message_json)
    return digest.hexdigest()


# --- value coercion: a valid message never makes an insert fail ---------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return [_text(item) for item in value]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    moment = moment.astimezone(UTC)
    return min(max(moment, EARLIEST), LATEST)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _unsigned(value: Any, ceiling: int, default: int | None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return min(max(value, 0), ceiling)


def _uuid(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(UUID(value))
    except ValueError:
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _labels(value: Any) -> dict[str, str]:
    return {str(k): _text(v) for k, v in _mapping(value).items()}


def _scopes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [
        {
            "resource": _text(scope.get("resource")),
            "operations": _texts(scope.get("operations")),
        }
        for scope in value
        if isinstance(scope, dict)
    ]


# --- auth_events --------------------------------------------------------------

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "type",
    "occurred_at",
    "received_at",
    "session_id",
    "category",
    "principal_id",
    "principal_kind",
    "tenant",
    "owner",
    "roles",
    "agent_type",
    "display_name",
    "delegation_subject",
    "delegation_subject_session_id",
    "actor_ids",
    "actor_kinds",
    "parent_session_id",
    "source_ip",
    "source_country",
    "source_region",
    "source_asn",
    "source_cloud_region",
    "user_agent",
    "device_id",
    "labels",
    "schema_version",
    "reason",
    "detail",
    "description",
    "outcome",
    "resource",
    "operation",
    "health",
    "task_id",
    "token_id",
    "expires_at",
    "deadline",
    "cause",
    "requester",
    "command_id",
    "cascade_root",
    "child_session_id",
    "link",
    "child_category",
    "mfa",
    "auth_method",
    "scopes",
    "heartbeat_ttl_seconds",
    "max_lifetime_seconds",
)
"""The flat columns of auth_events derived from an event's JSON, in order."""


def event_columns(doc: Document) -> tuple[Any, ...]:
    """The flat auth_events columns of one event document, in EVENT_COLUMNS order."""
    principal = _mapping(doc.get("principal"))
    delegation = _mapping(doc.get("delegation"))
    actors = [_mapping(a) for a in delegation.get("actors") or () if a]
    source = _mapping(doc.get("source"))
    lifecycle = _mapping(doc.get("lifecycle"))
    get = doc.get
    mfa = get("mfa")
    return (
        _uuid(get("event_id")),
        _text(get("type")),
        _time(get("occurred_at")) or EARLIEST,
        _time(get("received_at")),
        _text(get("session_id")),
        _text(get("category")),
        _text(principal.get("id")),
        _text(principal.get("kind")),
        _text(principal.get("tenant")),
        _text(principal.get("owner")),
        _texts(principal.get("roles")),
        _text(principal.get("agent_type")),
        _text(principal.get("display_name")),
        _text(delegation.get("subject")),
        _text(delegation.get("subject_session_id")),
        [_text(actor.get("id")) for actor in actors],
        [_text(actor.get("kind")) for actor in actors],
        _text(get("parent_session_id")),
        _text(source.get("ip")),
        _text(source.get("country")),
        _text(source.get("region")),
        _unsigned(source.get("asn"), _UINT32_MAX, None),
        _text(source.get("cloud_region")),
        _text(source.get("user_agent")),
        _text(source.get("device_id")),
        _labels(get("labels")),
        _unsigned(get("schema_version"), 65535, 1),
        _text(get("reason")),
        _text(get("detail")),
        _text(get("description")),
        _text(get("outcome")),
        _text(get("resource")),
        _text(get("operation")),
        _text(get("health")),
        # A task-bound session names its task in the lifecycle it asks for.
        _text(get("task_id") or lifecycle.get("task_id")),
        _text(get("token_id")),
        _time(get("expires_at")),
        _time(get("deadline")),
        _text(get("cause")),
        _text(get("requester")),
        _uuid(get("command_id")),
        _text(get("cascade_root")),
        _text(get("child_session_id")),
        _text(get("link")),
        _text(get("child_category")),
        mfa if isinstance(mfa, bool) else None,
        _text(get("auth_method")),
        _scopes(get("scopes")),
        _number(lifecycle.get("heartbeat_ttl_seconds")),
        _number(lifecycle.get("max_lifetime_seconds")),
    )


# --- alerts and revocations ---------------------------------------------------

ALERT_COLUMNS: tuple[str, ...] = (
    "alert_id",
    "detector",
    "category",
    "principal_id",
    "session_id",
    "severity",
    "severity_rank",
    "score",
    "explanation",
    "first_seen",
    "last_seen",
    "count",
)


def alert_columns(doc: Document) -> tuple[Any, ...]:
    """The flat alerts columns of one alert document."""
    get = doc.get
    severity = _text(get("severity"))
    try:
        rank = Severity(severity).rank
    except ValueError:
        rank = 0
    return (
        _uuid(get("alert_id")),
        _text(get("detector")),
        _text(get("category")),
        _text(get("principal_id")),
        _text(get("session_id")),
        severity,
        rank,
        _number(get("score")) or 0.0,
        _text(get("explanation")),
        _time(get("first_seen")) or EARLIEST,
        _time(get("last_seen")) or EARLIEST,
        _unsigned(get("count"), _UINT64_MAX, 1),
    )


NOTICE_COLUMNS: tuple[str, ...] = (
    "session_id",
    "principal_id",
    "category",
    "command_id",
    "cause",
    "reason",
    "cascade_root",
    "revoked_at",
)


def notice_columns(doc: Document) -> tuple[Any, ...]:
    """The flat revocations columns of one revocation notice document."""
    get = doc.get
    return (
        _text(get("session_id")),
        _text(get("principal_id")),
        _text(get("category")),
        _uuid(get("command_id")),
        _text(get("cause")),
        _text(get("reason")),
        _text(get("cascade_root")),
        _time(get("revoked_at")) or EARLIEST,
    )


@dataclass(frozen=True)
class TableSpec:
    """How one topic's messages become rows of one table."""

    table: str
    json_column: str
    columns: tuple[str, ...]
    derive: Callable[[Document], tuple[Any, ...]]
    chained: bool


AUTH_EVENTS = TableSpec("auth_events", "event_json", EVENT_COLUMNS, event_columns, True)
ALERTS = TableSpec("alerts", "alert_json", ALERT_COLUMNS, alert_columns, False)
REVOCATIONS = TableSpec(
    "revocations", "notice_json", NOTICE_COLUMNS, notice_columns, False
)

POSITION_COLUMNS = ("kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")
CHAIN_COLUMNS = ("prev_hash", "chain_hash")


def row_of(spec: TableSpec, position: Position, message_json: bytes) -> Row:
    """The row of one validated message's JSON."""
    return Row(position, message_json, spec.derive(json.loads(message_json)))


def insert_columns(spec: TableSpec) -> tuple[str, ...]:
    """The columns the writer inserts into the spec's table, in order."""
    chain = CHAIN_COLUMNS if spec.chained else ()
    return (*spec.columns, spec.json_column, *POSITION_COLUMNS, *chain)
