"""Kafka records to table rows: validation exactly as the rest of the ledger does it.

Records of `auth.events` are validated by `ledger.worker.validation.validate_record`,
the function whose refusals the ledger agent dead-letters, so the audit writer
stores exactly the records that the ledger accepted and skips the others. Control
records (the `ledger-control` header) are not events and are skipped too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import BaseModel, ValidationError

from ledger.settings import LedgerSettings
from ledger.worker.validation import RecordPosition, validate_record
from projections.rows import ALERTS, AUTH_EVENTS, REVOCATIONS, Position, Row
from schemas import Alert, DeadLetter, RevocationNotice, serialize

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """One consumed record, as the writer needs it."""

    position: Position
    key: bytes | None
    value: bytes | None
    control: bool = False


@dataclass
class Intake:
    """The rows of a batch of records, and what was left out and why."""

    rows: list[Row] = field(default_factory=list)
    control: int = 0
    invalid: int = 0
    first_invalid: str | None = None


Parser = Callable[[KafkaRecord], BaseModel | None]


def event_parser(settings: LedgerSettings) -> Parser:
    """Parse an auth.events record the way the ledger agent does; None if refused."""
    max_bytes = settings.max_event_bytes
    max_future_skew = timedelta(seconds=settings.max_future_skew_seconds)

    def parse(record: KafkaRecord) -> BaseModel | None:
        position = record.position
        outcome = validate_record(
            record.value,
            record.key,
            RecordPosition(
                position.topic, position.partition, position.offset, position.timestamp
            ),
            max_bytes=max_bytes,
            max_future_skew=max_future_skew,
        )
        return None if isinstance(outcome, DeadLetter) else outcome

    return parse


def _model_parser(model: type[BaseModel]) -> Parser:
    def parse(record: KafkaRecord) -> BaseModel | None:
        try:
            return model.model_validate_json(record.value or b"", strict=True)
        except ValidationError:
            return None

    return parse


def parsers(settings: LedgerSettings) -> dict[str, Parser]:
    """The parser of each audit table."""
    return {
        AUTH_EVENTS.table: event_parser(settings),
        ALERTS.table: _model_parser(Alert),
        REVOCATIONS.table: _model_parser(RevocationNotice),
    }


def intake(parse: Parser, records: Iterable[KafkaRecord]) -> Intake:
    """The rows of the valid records, skipping control and refused records."""
    result = Intake()
    for record in records:
        if record.control:
            result.control += 1
            continue
        message = parse(record)
        if message is None:
            result.invalid += 1
            if result.first_invalid is None:
                position = record.position
                result.first_invalid = (
                    f"{position.topic} partition {position.partition} "
                    f"offset {position.offset}"
                )
            continue
        result.rows.append(Row(record.position, serialize(message)))
    return result
