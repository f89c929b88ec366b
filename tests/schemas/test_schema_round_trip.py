"""Every model survives serialize → parse unchanged, unknown fields included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from schemas import (
    AccessRecorded,
    Command,
    Event,
    Message,
    SessionCategory,
    SessionStarted,
    parse_command,
    parse_event,
    serialize,
)
from schemas.examples import example, examples, started

EXAMPLES = [*examples().values(), started("user"), started("hybrid")]


def _parse(message: Message, raw: bytes) -> Message:
    if isinstance(message, Event):
        return parse_event(raw)
    if isinstance(message, Command):
        return parse_command(raw)
    return type(message).model_validate_json(raw, strict=True)


def test_examples_every_wire_model_has_one() -> None:
    assert len(examples()) == 12 + 3 + 5


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_serialize_any_model_parses_back_equal(message: Message) -> None:
    raw = serialize(message)

    assert _parse(message, raw) == message
    assert serialize(_parse(message, raw)) == raw


def test_serialize_null_fields_omitted() -> None:
    raw = serialize(example(AccessRecorded))

    assert b"null" not in raw
    assert b"received_at" not in raw
    assert b", " not in raw and b": " not in raw


def test_serialize_labels_in_any_order_give_equal_bytes() -> None:
    one = example(AccessRecorded, labels={"b": "2", "a": "1"})
    other = example(AccessRecorded, labels={"a": "1", "b": "2"})

    assert serialize(one) == serialize(other)


def test_parse_event_offset_time_normalised_to_utc() -> None:
    raw = serialize(example(AccessRecorded)).replace(
        b'"2025-03-03T09:03:00Z"', b'"2025-03-03T11:03:00.250+02:00"'
    )

    event = parse_event(raw)

    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.occurred_at == datetime(2025, 3, 3, 9, 3, 0, 250_000, UTC)
    assert b'"occurred_at":"2025-03-03T09:03:00.250000Z"' in serialize(event)


def test_parse_event_received_at_set_by_ledger_round_trips() -> None:
    event = example(AccessRecorded).model_copy(
        update={"received_at": datetime(2025, 3, 3, 9, 3, 1, tzinfo=UTC)}
    )

    assert parse_event(serialize(event)) == event


def test_parse_event_unknown_fields_kept_through_round_trip() -> None:
    document = json.loads(serialize(example(AccessRecorded)))
    document["trace"] = {"id": "4bf92f3577b34da6", "sampled": True, "hops": [1, 2]}
    document["principal"]["email_verified"] = True
    document["source"]["tls"] = "1.3"
    document["schema_version"] = 2

    event = parse_event(json.dumps(document).encode())
    again = parse_event(serialize(event))

    assert again == event
    assert again.model_extra == {"trace": document["trace"]}
    assert again.principal.model_extra == {"email_verified": True}
    assert again.source is not None and again.source.model_extra == {"tls": "1.3"}
    assert again.schema_version == 2


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE auth_events; --",
        'Robert"); DELETE FROM sessions WHERE ("1"="1',
        "$(rm -rf /) `id` && echo | cat > /etc/passwd; ${HOME}",
        "C:\\Users\\alice\\Documents\\n\\t \\u0000",
        "line one\nline two\ttabbed\r\n",
        "<script>alert(1)</script> {{7*7}} %s %n",
        "😀 Ünïcødé ‮ right-to-left",
    ],
)
def test_parse_event_metacharacters_in_free_text_kept_verbatim(text: str) -> None:
    event = example(
        AccessRecorded,
        resource=text,
        operation=text,
        source={"user_agent": text, "region": text},
        labels={"note": text},
    )

    parsed = parse_event(serialize(event))

    assert parsed.resource == text
    assert parsed.operation == text
    assert parsed.source is not None and parsed.source.user_agent == text
    assert parsed.labels == {"note": text}


def test_example_changes_validated() -> None:
    with pytest.raises(ValueError, match="delegation"):
        example(SessionStarted, category=SessionCategory.HYBRID)
