"""One ingest run: files in, events and rejections out, with counts.

`ingest_file` reads a file, maps each record with the chosen format (or the one
`auto` finds) and yields one `Outcome` per record. Every event is checked the way
the worker will check it, through `schemas.parse_event` on its serialized bytes,
so what this yields is what the ledger accepts. Sending is the sinks' job
(`ledger.logs.sinks`); this module has no I/O beyond reading the file.

A rejected record becomes a `schemas.DeadLetter` (`dead_letter`) whose
`source_topic` is `file:<absolute path>`, whose `offset` is the record's position
(the 1-based line number for text and JSON lines, else the 0-based record index)
and whose `partition` is left out: the schema admits no partition for input that
never was on a topic.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger.logs.formats import AUTO, FORMATS, UNSUPPORTED
from ledger.logs.mapping import IngestOptions, LogFormat, Mapper, RecordContext
from ledger.logs.records import RecordRejected, SourceRecord, read_records
from schemas import AuthEvent, DeadLetter, InvalidEvent, parse_event, serialize
from schemas.limits import IDENTIFIER_MAX

REASON_MAX_CHARS = 1000
ORIGINAL_MAX_BYTES = 512 * 1024
"""Most original bytes a dead letter keeps (Kafka's default limit is ~1 MB)."""

_NOT_IN_IDENTIFIER = re.compile(r"[^A-Za-z0-9._:@/+=#$,~-]")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one record: its events, or why it was rejected."""

    record: SourceRecord
    format_name: str | None
    events: tuple[AuthEvent, ...] = ()
    rejection: str | None = None

    @property
    def skipped(self) -> bool:
        """Read and understood, but holding nothing the ledger keeps."""
        return self.rejection is None and not self.events


# Distinct rejection reasons counted per file; the rest are counted together.
REASONS_KEPT = 50
OTHER_REASONS = "(other reasons)"


@dataclass
class FileTally:
    """Counts for one file."""

    path: Path
    records: int = 0
    events: int = 0
    rejected: int = 0
    skipped: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        """Count one outcome."""
        self.records += 1
        self.events += len(outcome.events)
        if outcome.rejection is not None:
            self.rejected += 1
            reason = rejection_reason(outcome)
            if reason not in self.reasons and len(self.reasons) >= REASONS_KEPT:
                reason = OTHER_REASONS
            self.reasons[reason] += 1
        elif outcome.skipped:
            self.skipped += 1
        if outcome.format_name is not None:
            self.formats[outcome.format_name] = (
                self.formats.get(outcome.format_name, 0) + 1
            )


class FormatChoice:
    """The format of each record of one file, fixed or found by `auto`."""

    def __init__(self, name: str, options: IngestOptions) -> None:
        if name != AUTO and name not in FORMATS:
            known = ", ".join([AUTO, *FORMATS])
            raise ValueError(f"unknown log format {name!r}; known: {known}")
        self.name = name
        self.options = options
        self._mappers: dict[str, Mapper] = {}

    def mapper_for(self, record: SourceRecord) -> tuple[LogFormat, Mapper] | None:
        """The format and this file's mapper for `record`; None if unsupported."""
        if self.name == AUTO:
            found = next(
                (f for f in FORMATS.values() if f.recognises(record.body)), None
            )
        else:
            found = FORMATS[self.name]
        if found is None:
            return None
        if found.name not in self._mappers:
            self._mappers[found.name] = found.mapper(self.options)
        return found, self._mappers[found.name]


def ingest_file(
    path: Path,
    format_name: str,
    options: IngestOptions,
    *,
    now: datetime | None = None,
    max_future_skew: timedelta | None = None,
) -> Iterator[Outcome]:
    """One `Outcome` per record of `path`, in file order."""
    choice = FormatChoice(format_name, options)
    for record in read_records(path):
        if record.defect is not None:
            yield Outcome(record, None, rejection=record.defect)
            continue
        if isinstance(record.body, str) and not record.body.strip():
            yield Outcome(record, None, rejection="empty record")
            continue
        chosen = choice.mapper_for(record)
        if chosen is None:
            yield Outcome(record, None, rejection=UNSUPPORTED)
            continue
        log_format, mapper = chosen
        context = RecordContext(log_format.name, record, options)
        try:
            events = tuple(
                _checked(event, now, max_future_skew) for event in mapper(context)
            )
        except RecordRejected as rejected:
            yield Outcome(record, log_format.name, rejection=rejected.reason)
            continue
        yield Outcome(record, log_format.name, events=events)


def rejection_reason(outcome: Outcome) -> str:
    """Why the record was rejected, as its dead letter says it."""
    reason = outcome.rejection or "rejected"
    if outcome.format_name and reason != UNSUPPORTED:
        reason = f"{outcome.format_name}: {reason}"
    reason = reason.replace("\x00", "\\x00")
    if len(reason) > REASON_MAX_CHARS:
        reason = reason[: REASON_MAX_CHARS - 1] + "…"
    return reason


def dead_letter(outcome: Outcome, received_at: datetime) -> DeadLetter:
    """The dead letter of a rejected record."""
    record = outcome.record
    reason = rejection_reason(outcome)
    truncated = len(record.original) > ORIGINAL_MAX_BYTES
    return DeadLetter(
        reason=reason,
        source_topic=file_topic(record.path),
        offset=record.position,
        original=record.original[:ORIGINAL_MAX_BYTES],
        truncated=truncated,
        received_at=received_at,
    )


def file_topic(path: Path) -> str:
    """`file:<absolute path>` as an identifier: odd characters become `_`."""
    text = _NOT_IN_IDENTIFIER.sub("_", str(path.resolve()))
    room = IDENTIFIER_MAX - len("file:")
    return f"file:{text[-room:]}"


def _checked(
    event: AuthEvent, now: datetime | None, skew: timedelta | None
) -> AuthEvent:
    try:
        return parse_event(
            serialize(event), now=now or datetime.now(UTC), max_future_skew=skew
        )
    except InvalidEvent as invalid:
        raise RecordRejected(invalid.reason) from invalid
