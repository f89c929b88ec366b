"""Read-only access for analysts: the statement guard, results, and canned reports.

An analyst statement passes three checks before it returns a row:

1. Text: a single statement that starts with SELECT, WITH, SHOW, DESCRIBE,
   EXPLAIN or EXISTS, with no write verb anywhere outside strings, and no
   `INTO OUTFILE` or `FORMAT` clause (chDB writes an OUTFILE even in readonly
   mode, on the worker's host).
2. Functions: ClickHouse's own parser (`EXPLAIN AST`) lists the functions used;
   table functions other than generators (`numbers`, `values`, ...) and scalar
   functions that read host files (`file`) are refused.
3. Engine: the statement runs on a client whose every query carries
   `readonly=1`, so ClickHouse itself refuses any write or setting change.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from projections.clickhouse.sqltext import Kind, UnterminatedText, significant
from projections.errors import QueryRefused

READ_STATEMENTS = frozenset(
    {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"}
)

WRITE_WORDS = frozenset(
    {
        "INSERT",
        "ALTER",
        "DROP",
        "CREATE",
        "TRUNCATE",
        "RENAME",
        "OPTIMIZE",
        "KILL",
        "GRANT",
        "REVOKE",
        "SET",
        "ATTACH",
        "DETACH",
        "DELETE",
        "UPDATE",
        "EXCHANGE",
        "UNDROP",
        "BACKUP",
        "RESTORE",
    }
)
"""Words that only appear in statements that change something."""

SAFE_TABLE_FUNCTIONS = frozenset(
    {
        "numbers",
        "numbers_mt",
        "zeros",
        "zeros_mt",
        "generateseries",
        "generate_series",
        "generaterandom",
        "values",
        "view",
    }
)
"""Table functions that only generate rows in memory."""

HOST_READING_FUNCTIONS = frozenset({"file", "catboostevaluate", "modelevaluate"})
"""Scalar functions that read files on the host that runs the engine."""

_AST_FUNCTION = re.compile(r"^(\s*)Function (\S+)")
_AST_NODE = re.compile(r"^(\s*)(\S+)")


def check_statement(sql: str) -> str:
    """The statement without a trailing semicolon, or QueryRefused saying why."""
    try:
        tokens = significant(sql)
    except UnterminatedText as error:
        raise QueryRefused(f"the statement cannot be read: {error}") from error
    if tokens and tokens[-1].kind is Kind.SYMBOL and tokens[-1].text == ";":
        sql = sql[: tokens[-1].start]
        tokens = tokens[:-1]
    if not tokens:
        raise QueryRefused("the statement is empty")
    if any(t.kind is Kind.SYMBOL and t.text == ";" for t in tokens):
        raise QueryRefused("more than one statement; send one at a time")
    words = [t for t in tokens if t.kind is Kind.WORD]
    if not words or words[0].upper not in READ_STATEMENTS:
        lead = words[0].upper if words else tokens[0].text
        raise QueryRefused(
            f"a {lead} statement could change the store; only "
            "SELECT, WITH, SHOW, DESCRIBE, EXPLAIN and EXISTS are allowed "
            "(the audit store is read-only)"
        )
    for word in words:
        if word.upper in WRITE_WORDS:
            raise QueryRefused(
                f"{word.text} at character {word.start} belongs to a statement "
                "that writes; the audit store is read-only (quote an identifier "
                f'that is really named {word.text}, as "{word.text}")'
            )
    for previous, word in itertools.pairwise(words):
        if previous.upper == "INTO" and word.upper == "OUTFILE":
            raise QueryRefused("INTO OUTFILE writes a file; read the result instead")
    if any(word.upper == "FORMAT" for word in words):
        raise QueryRefused(
            "a FORMAT clause is not allowed; choose the output format with --format"
        )
    return sql.strip()


def check_functions(ast: str) -> None:
    """Refuse table functions that reach outside memory and host-reading functions.

    `ast` is the text of ClickHouse's `EXPLAIN AST` for the statement.
    """
    lines = ast.splitlines()
    for number, line in enumerate(lines):
        found = _AST_FUNCTION.match(line)
        if not found:
            continue
        name = found.group(2).lower()
        if name in HOST_READING_FUNCTIONS:
            raise QueryRefused(f"{found.group(2)}() reads files on the store's host")
        if _parent(lines, number, len(found.group(1))) == "TableExpression" and (
            name not in SAFE_TABLE_FUNCTIONS
        ):
            raise QueryRefused(
                f"table function {found.group(2)}() reads outside the audit store; "
                "query its tables and views instead"
            )


def _parent(lines: list[str], number: int, indent: int) -> str | None:
    for line in reversed(lines[:number]):
        node = _AST_NODE.match(line)
        if node and len(node.group(1)) < indent:
            return node.group(2)
    return None


@dataclass(frozen=True)
class QueryResult:
    """The answer to an analyst statement, JSON-ready."""

    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "types": self.types,
            "rows": self.rows,
            "truncated": self.truncated,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryResult:
        return cls(
            columns=list(data["columns"]),
            types=list(data["types"]),
            rows=[list(row) for row in data["rows"]],
            truncated=bool(data.get("truncated", False)),
        )


def jsonable(value: Any) -> Any:
    """A ClickHouse value as plain JSON: times in ISO 8601, ids as strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(
        value, UUID | Decimal | ipaddress.IPv4Address | ipaddress.IPv6Address
    ):
        return str(value)
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return str(value)


@dataclass(frozen=True)
class Report:
    """A canned analyst query."""

    name: str
    title: str
    sql: str


BUSINESS_HOURS = "08:00-18:00 UTC, Monday to Friday"

OUTSIDE_BUSINESS_HOURS = (
    "(toHour(hour) < 8 OR toHour(hour) >= 18 OR toDayOfWeek(hour) >= 6)"
)
"""SQL condition on an `hour` column that holds outside `BUSINESS_HOURS`."""

REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report(
            "activity-by-hour",
            "Events, failures, sessions and principals per hour and category",
            """
            SELECT hour, category, sum(events) AS events, sum(failures) AS failures,
                   uniqMerge(sessions) AS sessions,
                   uniqExact(principal_id) AS principals
            FROM activity_hourly
            GROUP BY hour, category
            HAVING events > 0
            ORDER BY hour DESC, category
            """,
        ),
        Report(
            "agent-off-hours",
            f"Agent activity outside business hours ({BUSINESS_HOURS}) by principal",
            f"""
            SELECT principal_id, any(principal_kind) AS principal_kind,
                   sum(events) AS events, sum(failures) AS failures,
                   uniqMerge(sessions) AS sessions,
                   uniqExact(hour) AS active_hours,
                   min(hour) AS first_hour, max(hour) AS last_hour
            FROM activity_hourly
            WHERE category = 'agent'
              AND {OUTSIDE_BUSINESS_HOURS}
            GROUP BY principal_id
            HAVING events > 0
            ORDER BY events DESC, principal_id
            """,
        ),
        Report(
            "alerts-by-detector",
            "Alerts per category and detector, with their worst severity",
            """
            SELECT category, detector, uniqExact(alert_id) AS alerts,
                   argMax(severity, severity_rank) AS worst_severity,
                   uniqExact(principal_id) AS principals,
                   min(first_seen) AS first_seen, max(last_seen) AS last_seen
            FROM alerts
            GROUP BY category, detector
            ORDER BY category, alerts DESC, detector
            """,
        ),
        Report(
            "revocations-by-cause",
            "Revoked sessions per cause and category",
            """
            SELECT cause, category, uniqExact(session_id) AS sessions,
                   uniqExact(command_id) AS commands,
                   uniqExact(principal_id) AS principals,
                   min(revoked_at) AS first_revoked, max(revoked_at) AS last_revoked
            FROM revocations
            GROUP BY cause, category
            ORDER BY sessions DESC, cause, category
            """,
        ),
    )
}
"""The canned reports by name."""


def report(name: str) -> Report:
    """The report called `name`, or QueryRefused naming the ones there are."""
    try:
        return REPORTS[name]
    except KeyError:
        known = ", ".join(sorted(REPORTS))
        raise QueryRefused(
            f"no report named {name!r}; the reports are {known}"
        ) from None
