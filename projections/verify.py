"""Recomputing the hash chains of auth_events: what `ledger verify` reports.

Rows are read per Kafka partition in offset order. For each row the checker
recomputes its chain hash from its own `prev_hash` and stored JSON, and checks
that `prev_hash` is the chain hash of the row before it. ClickHouse re-evaluates
the DEFAULT expression of every flat column over the stored JSON to find columns
that no longer agree with it. The first problem of each partition is classified:

- altered: the row's JSON or a flat column no longer matches what was written;
- gap: the row links to a hash that no stored row has, so the rows between
  were deleted (or rewritten together with their hashes);
- inserted: the row links to an earlier row, so the rows between it and that
  row are not part of the chain: they were inserted out of order;
- duplicate: two rows at one Kafka position.

Limits: deleting the newest rows of a partition leaves a shorter, valid chain;
compare the reported head (last offset and hash) with one recorded elsewhere. A
chain whose first row does not start from the genesis hash is reported as
starting mid-way, which is what retention (TTL) produces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from projections.rows import GENESIS_HASH, chain_link

READ_COLUMNS = (
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "prev_hash",
    "chain_hash",
    "event_json",
)


def column_check_sql(table: str, derived: Mapping[str, str]) -> str:
    """A query for rows whose derived columns differ from their expressions.

    `derived` maps each column to its DEFAULT expression over the JSON column;
    the query returns (topic, partition, offset, [names of differing columns]).
    """
    same = [f"(`{name}` <=> ({expression}))" for name, expression in derived.items()]
    names = [
        f"if({check}, '', '{name}')" for check, name in zip(same, derived, strict=True)
    ]
    return (
        "SELECT kafka_topic, kafka_partition, kafka_offset, "
        f"arrayFilter(x -> x != '', [{', '.join(names)}]) "
        f"FROM {table} WHERE NOT ({' AND '.join(same)})"
    )


@dataclass
class Finding:
    """The first problem found on one partition."""

    offset: int
    problem: str
    detail: str


@dataclass
class PartitionReport:
    """The verdict on one Kafka partition's chain."""

    topic: str
    partition: int
    rows: int = 0
    first_offset: int | None = None
    last_offset: int | None = None
    head_hash: str | None = None
    starts_at_genesis: bool = True
    problems: int = 0
    first_problem: Finding | None = None
    # Set while reading; resolved once the rows are read (see `resolve_links`).
    pending_link: tuple[int, str, int | None] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.problems == 0


@dataclass
class VerifyReport:
    """The verdict on every chain of auth_events."""

    partitions: list[PartitionReport]

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.partitions)

    @property
    def rows(self) -> int:
        return sum(report.rows for report in self.partitions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "partitions": [
                {
                    key: value
                    for key, value in asdict(report).items()
                    if key != "pending_link"
                }
                for report in self.partitions
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifyReport:
        partitions = []
        for item in data["partitions"]:
            finding = item.get("first_problem")
            partitions.append(
                PartitionReport(
                    **{**item, "first_problem": Finding(**finding) if finding else None}
                )
            )
        return cls(partitions)


class ChainChecker:
    """Checks rows of one table in (topic, partition, offset) order."""

    def __init__(
        self, differing: Mapping[tuple[str, int, int], list[str]] | None = None
    ) -> None:
        self.reports: list[PartitionReport] = []
        self._differing = differing or {}
        self._current: PartitionReport | None = None
        self._previous_offset: int | None = None
        self._previous_hash: str | None = None

    def check(self, row: dict[str, Any]) -> None:
        """Check the next row."""
        topic, partition = row["kafka_topic"], row["kafka_partition"]
        offset, prev_hash, chain_hash = (
            row["kafka_offset"],
            row["prev_hash"],
            row["chain_hash"],
        )
        report = self._current
        if report is None or (report.topic, report.partition) != (topic, partition):
            report = PartitionReport(topic, partition, first_offset=offset)
            report.starts_at_genesis = prev_hash == GENESIS_HASH
            self.reports.append(report)
            self._current = report
            self._previous_offset, self._previous_hash = None, None
        report.rows += 1
        report.last_offset, report.head_hash = offset, chain_hash

        message_json = row["event_json"].encode("utf-8")
        if offset == self._previous_offset:
            self._problem(report, offset, "duplicate", "two rows share this offset")
        elif chain_link(prev_hash, partition, offset, message_json) != chain_hash:
            self._problem(
                report,
                offset,
                "altered",
                "the row's event JSON, position or hashes no longer match its "
                "chain hash",
            )
        elif self._previous_hash is not None and prev_hash != self._previous_hash:
            self._problem(report, offset, "link", "")
            if report.pending_link is None and report.problems == 1:
                report.pending_link = (offset, prev_hash, self._previous_offset)
        else:
            differing = self._differing.get((topic, partition, offset))
            if differing:
                self._problem(
                    report,
                    offset,
                    "altered",
                    f"column(s) {', '.join(differing)} differ from the event's "
                    "own JSON",
                )
        self._previous_offset, self._previous_hash = offset, chain_hash

    @staticmethod
    def _problem(report: PartitionReport, offset: int, kind: str, detail: str) -> None:
        report.problems += 1
        if report.first_problem is None:
            report.first_problem = Finding(offset, kind, detail)


def resolve_link(report: PartitionReport, linked_offsets: Iterable[int]) -> None:
    """Classify a broken link, given the offsets of rows whose hash it names."""
    if report.pending_link is None or report.first_problem is None:
        return
    offset, prev_hash, previous_offset = report.pending_link
    report.pending_link = None
    targets = sorted(linked_offsets)
    finding = report.first_problem
    if not targets:
        finding.problem = "gap"
        finding.detail = (
            f"links to hash {prev_hash[:16]}… that no stored row has: the row(s) "
            f"between offset {previous_offset} and {offset} were deleted or rewritten"
        )
    elif targets[-1] < (previous_offset or 0):
        finding.problem = "inserted"
        finding.detail = (
            f"links to offset {targets[-1]}, so the row(s) after it up to offset "
            f"{previous_offset} are not part of the chain (inserted out of order)"
        )
    else:
        finding.problem = "out of order"
        finding.detail = (
            f"links to offset {targets[-1]}, which comes after it in the table"
        )


def rows_as_dicts(
    blocks: Iterator[Any], columns: tuple[str, ...] = READ_COLUMNS
) -> Iterator[dict[str, Any]]:
    """Rows of a clickhouse-connect row block stream as dicts."""
    for block in blocks:
        for values in block:
            yield dict(zip(columns, values, strict=True))
