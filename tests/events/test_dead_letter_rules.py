"""Dead letters for whatever arrives, and the key and partition rules (no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from running_ledger import java_partition

from ledger.worker.validation import (
    RecordPosition,
    dead_letter,
    validate_record,
)
from schemas import AccessRecorded, DeadLetter, serialize
from schemas.examples import examples

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
ACCESS = examples()[AccessRecorded]
PARTITIONS = 8
HOME = java_partition(ACCESS.session_id.encode(), PARTITIONS)


def at(partition: int) -> RecordPosition:
    return RecordPosition("auth.events", partition, 41, NOW)


def validate(value: bytes | None, key: bytes | None, partition: int = HOME):
    return validate_record(
        value,
        key,
        at(partition),
        max_bytes=64 * 1024,
        max_future_skew=timedelta(minutes=5),
        partitions=PARTITIONS,
        max_original_bytes=4096,
    )


def test_dead_letter_reason_with_nul_and_no_end_still_validates() -> None:
    letter = dead_letter(
        b"{}", "labels.a\x00b: " + "x" * 5000, source_topic="http", received_at=NOW
    )

    assert "\x00" not in letter.reason
    assert letter.reason.startswith("labels.a\\x00b: ")
    assert len(letter.reason) == 1024
    assert DeadLetter.model_validate_json(serialize(letter)) == letter


def test_dead_letter_original_over_limit_is_truncated_and_marked() -> None:
    letter = dead_letter(
        b"y" * 5000,
        "too big",
        source_topic="t",
        received_at=NOW,
        max_original_bytes=4096,
    )

    assert letter.truncated
    assert letter.original == b"y" * 4096


def test_validate_record_valid_event_at_home_is_the_event() -> None:
    assert validate(serialize(ACCESS), ACCESS.session_id.encode()) == ACCESS


def test_validate_record_wrong_key_is_dead_letter_with_position() -> None:
    outcome = validate(serialize(ACCESS), b"someone-else")

    assert isinstance(outcome, DeadLetter)
    assert "not the session_id" in outcome.reason
    assert (outcome.partition, outcome.offset) == (HOME, 41)
    assert outcome.original == serialize(ACCESS)
    assert outcome.event_id == str(ACCESS.event_id)


def test_validate_record_wrong_partition_names_murmur2_random() -> None:
    outcome = validate(serialize(ACCESS), ACCESS.session_id.encode(), (HOME + 1) % 8)

    assert isinstance(outcome, DeadLetter)
    assert f"picks {HOME} of 8" in outcome.reason
    assert "murmur2_random" in outcome.reason


def test_validate_record_tombstone_is_dead_letter_saying_so() -> None:
    outcome = validate(None, b"k")

    assert isinstance(outcome, DeadLetter)
    assert outcome.reason.startswith("record has no value")
    assert outcome.original == b""
