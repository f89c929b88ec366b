"""The contract between the ingest run and each log format.

A format is a `LogFormat`: a name, a test that recognises its records, and a
factory of mappers. A mapper turns one `SourceRecord` into zero or more events:

- events: the record is an authentication record and maps cleanly;
- no events: the record is well-formed but is not one the ledger keeps (a kernel
  line in a syslog file, a Windows event id outside the logon events); it is
  counted as skipped;
- `RecordRejected`: the record should map but cannot (no principal, a name that is
  not an identifier, a broken time), or is not in the format at all. It goes to
  the dead-letter topic with the reason.

Mappers are plain Python without I/O. The factory runs once per file, so a mapper
may keep state across the records of one file (the syslog year).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar

from pydantic import ValidationError

from ledger.logs.identity import event_id
from ledger.logs.records import RecordBody, RecordRejected, SourceRecord
from schemas import (
    Actor,
    Delegation,
    Event,
    Principal,
    PrincipalKind,
    SessionCategory,
    Source,
)

E = TypeVar("E", bound=Event)

DEFAULT_SYSLOG_YEAR = 2024
"""Year given to syslog lines, which carry none; a leap year, so Feb 29 parses."""

LABEL_FORMAT = "ingest.format"
LABEL_RECORD = "ingest.record"
_ERRORS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """What the operator chose for one ingest run."""

    year: int = DEFAULT_SYSLOG_YEAR
    """Year of the first syslog line; a step from December to January adds one."""
    timezone: tzinfo = UTC
    """Zone of times written without an offset (syslog, rendered Windows events)."""


@dataclass(frozen=True, slots=True)
class Subject:
    """Who an event is about and in which session: shared by a record's events."""

    session_id: str
    category: SessionCategory
    principal: Principal
    delegation: Delegation | None = None
    parent_session_id: str | None = None
    source: Source | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


class RecordContext:
    """One record being mapped: makes its events with deterministic ids."""

    def __init__(
        self, format_name: str, record: SourceRecord, options: IngestOptions
    ) -> None:
        self.format_name = format_name
        self.record = record
        self.options = options
        self._made = 0

    @property
    def body(self) -> RecordBody:
        """The record as read."""
        return self.record.body

    def event(
        self,
        model: type[E],
        subject: Subject,
        occurred_at: datetime,
        *,
        record_id: object = None,
        **fields: Any,
    ) -> E:
        """A `model` event of `subject`; RecordRejected if it does not validate.

        `record_id` is the log's own id for the record, kept as a label so that an
        analyst can find the original.
        """
        labels = {LABEL_FORMAT: self.format_name, **subject.labels}
        if record_id not in (None, ""):
            labels[LABEL_RECORD] = str(record_id)[:256]
        values = {
            "event_id": event_id(self.format_name, self.record.identity, self._made),
            "occurred_at": occurred_at,
            "session_id": subject.session_id,
            "category": subject.category,
            "principal": subject.principal,
            "delegation": subject.delegation,
            "parent_session_id": subject.parent_session_id,
            "source": subject.source,
            "labels": labels,
            **fields,
        }
        try:
            made = model(**{k: v for k, v in values.items() if v is not None})
        except ValidationError as error:
            raise RecordRejected(
                f"{model.model_fields['type'].default}: {describe(error)}"
            ) from error
        self._made += 1
        return made


Mapper = Callable[[RecordContext], Sequence[Event]]
"""Maps one record to its events; raises RecordRejected."""


@dataclass(frozen=True, slots=True)
class LogFormat:
    """One log format the ingest command reads."""

    name: str
    title: str
    recognises: Callable[[RecordBody], bool]
    mapper: Callable[[IngestOptions], Mapper]
    """Makes a fresh mapper for each file."""


def stateless(mapper: Mapper) -> Callable[[IngestOptions], Mapper]:
    """A mapper factory for formats that keep no state across records."""

    def make(options: IngestOptions) -> Mapper:
        del options
        return mapper

    return make


def delegation(
    subject: str,
    subject_session_id: str,
    actor: Principal,
) -> Delegation:
    """A one-link delegation: `actor` acts for the user `subject`."""
    return Delegation(
        subject=subject,
        subject_session_id=subject_session_id,
        actors=(Actor(id=actor.id, kind=actor.kind),),
    )


def principal(
    principal_id: str,
    kind: PrincipalKind,
    *,
    display_name: object = None,
    tenant: str | None = None,
) -> Principal:
    """A principal; the display name is cut to fit and dropped when empty."""
    name = str(display_name).strip()[:256] if display_name else None
    return Principal(
        id=principal_id, kind=kind, display_name=name or None, tenant=tenant
    )


def describe(error: ValidationError) -> str:
    """A pydantic error in one line: the first few locations and messages."""
    details = error.errors(include_url=False, include_input=False)
    parts = []
    for detail in details[:_ERRORS_SHOWN]:
        where = ".".join(str(part) for part in detail["loc"])
        message = detail["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    if len(details) > _ERRORS_SHOWN:
        parts.append(f"and {len(details) - _ERRORS_SHOWN} more")
    return "; ".join(parts)


def dig(body: object, *path: str) -> Any:
    """The value at `path` inside nested dicts, or None where any step is missing."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def text(value: object) -> str | None:
    """A stripped non-empty string, or None."""
    if value is None:
        return None
    result = str(value).strip()
    return result or None
