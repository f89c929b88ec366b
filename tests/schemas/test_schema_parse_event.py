"""parse_event refuses bad input with a one-line reason and accepts what it should."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas import (
    EVENT_MAX_BYTES,
    AccessRecorded,
    HeartbeatReceived,
    InvalidEvent,
    SessionStarted,
    TokenIssued,
    parse_event,
    serialize,
)
from schemas.examples import example, started

EVENT_ID = "3f0b9a52-9d7e-4c55-8a3e-1d2f6b7c8e90"


def _document(model: type = AccessRecorded, **changes: Any) -> dict[str, Any]:
    document = json.loads(serialize(example(model)))
    document["event_id"] = EVENT_ID
    document.update(changes)
    return document


def _rejected(document: Any, **options: Any) -> InvalidEvent:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw, **options)
    return caught.value


def test_parse_event_naive_occurred_at_refused() -> None:
    error = _rejected(_document(occurred_at="2025-03-03T09:03:00"))

    assert error.reason == "occurred_at: timezone missing (naive datetime)"
    assert error.event_id == EVENT_ID
    assert str(error) == f"event {EVENT_ID} rejected: {error.reason}"
    assert isinstance(error, ValueError)


def test_parse_event_far_future_refused() -> None:
    ahead = datetime.now(UTC) + timedelta(hours=1)

    error = _rejected(_document(occurred_at=ahead.isoformat()))

    assert error.reason.startswith("occurred_at: ")
    assert "more than 300s ahead of now" in error.reason


def test_parse_event_future_within_skew_accepted() -> None:
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    raw = json.dumps(_document(occurred_at="2025-03-03T09:04:59Z")).encode()

    assert parse_event(raw, now=now).occurred_at == now + timedelta(
        minutes=4, seconds=59
    )


def test_parse_event_skew_and_now_from_arguments_used() -> None:
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    raw = json.dumps(_document(occurred_at="2025-03-03T09:00:11Z")).encode()

    assert parse_event(raw, now=now, max_future_skew=timedelta(seconds=20))
    with pytest.raises(InvalidEvent, match="more than 10s ahead"):
        parse_event(raw, now=now, max_future_skew=timedelta(seconds=10))


def test_parse_event_distant_past_accepted() -> None:
    raw = json.dumps(_document(occurred_at="2001-09-09T01:46:40Z")).encode()

    assert parse_event(raw).occurred_at.year == 2001


def test_parse_event_epoch_number_as_time_refused() -> None:
    error = _rejected(_document(occurred_at=1741000000))

    assert error.reason.startswith("occurred_at: ")


def test_parse_event_unknown_type_refused_with_its_name() -> None:
    error = _rejected(_document(type="session.teleported"))

    assert error.reason == "unknown event type 'session.teleported'"
    assert error.event_id == EVENT_ID


def test_parse_event_missing_type_refused() -> None:
    document = _document()
    del document["type"]

    assert "type: missing" in _rejected(document).reason


def test_parse_event_not_json_refused() -> None:
    error = _rejected(b'{"event_id": "' + EVENT_ID.encode() + b'", oops')

    assert error.reason.startswith("not valid JSON: ")
    assert error.event_id == EVENT_ID


def test_parse_event_json_array_refused() -> None:
    assert _rejected([1, 2]).reason == "event must be a JSON object"


def test_parse_event_invalid_utf8_refused() -> None:
    assert _rejected(b'{"type": "\xff\xfe"}').reason.startswith("not valid JSON")


def test_parse_event_oversized_refused_before_parsing() -> None:
    document = _document(padding="x" * EVENT_MAX_BYTES)
    raw = json.dumps(document).encode()

    error = _rejected(raw)

    assert error.reason == (
        f"event is {len(raw)} bytes, over the {EVENT_MAX_BYTES}-byte limit"
    )
    assert error.event_id == EVENT_ID


def test_parse_event_max_bytes_argument_used() -> None:
    raw = serialize(example(AccessRecorded))

    with pytest.raises(InvalidEvent, match="over the 100-byte limit"):
        parse_event(raw, max_bytes=100)


@pytest.mark.parametrize(
    "session_id", ["has space", "quote'd", 'dq"', "back\\slash", "", "x" * 257, "é"]
)
def test_parse_event_bad_identifier_refused(session_id: str) -> None:
    error = _rejected(_document(session_id=session_id))

    assert error.reason.startswith("session_id: ")


@pytest.mark.parametrize(
    "principal_id",
    [
        "alice+ledger@example.com",
        "CORP\\HOST$".replace("\\", "/"),
        "WKSTN-042$",
        "arn:aws:sts::123456789012:assumed-role/Batch/i-0abc,run=7",
        "system:serviceaccount:payments:invoice-worker",
        "spiffe://acme.example/ns/prod/sa/agent",
        "00u1abcdEFGH2345ijkl",
        "6f1c2e3a-0b4d-4e5f-9a8b-7c6d5e4f3a2b",
    ],
)
def test_parse_event_real_world_identifiers_accepted(principal_id: str) -> None:
    document = _document()
    document["principal"]["id"] = principal_id

    assert parse_event(json.dumps(document).encode()).principal.id == principal_id


def test_parse_event_hybrid_start_without_delegation_refused() -> None:
    document = json.loads(serialize(started("hybrid")))
    del document["delegation"]

    error = _rejected(document)

    assert "a hybrid session must carry a delegation" in error.reason


def test_parse_event_delegation_on_user_session_refused() -> None:
    document = json.loads(serialize(started("hybrid")))
    document["category"] = "user"

    assert "only hybrid sessions carry a delegation" in _rejected(document).reason


def test_parse_event_delegation_not_led_by_principal_refused() -> None:
    document = json.loads(serialize(started("hybrid")))
    document["delegation"]["actors"] = [{"id": "someone-else", "kind": "ai_agent"}]

    assert "actors[0] must be the session's own principal" in _rejected(document).reason


def test_parse_event_hybrid_start_accepted() -> None:
    event = parse_event(serialize(started("hybrid")))

    assert isinstance(event, SessionStarted)
    assert event.delegation is not None
    assert event.delegation.subject == "alice@example.com"


def test_parse_event_whole_jwt_as_token_id_refused() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"

    error = _rejected(_document(TokenIssued, token_id=jwt))

    assert "never the token" in error.reason
    assert jwt not in error.reason


def test_parse_event_nul_in_free_text_refused() -> None:
    error = _rejected(_document(resource="s3://bucket/\u0000key"))

    assert error.reason == "resource: contains a NUL character"


def test_parse_event_lower_case_country_refused() -> None:
    document = _document()
    document["source"]["country"] = "de"

    assert _rejected(document).reason.startswith("source.country: ")


@pytest.mark.parametrize(
    ("labels", "where"),
    [
        ({f"k{i}": "v" for i in range(33)}, "labels"),
        ({"Upper": "v"}, "labels.Upper"),
        ({"k": "v" * 257}, "labels.k"),
    ],
)
def test_parse_event_labels_beyond_limits_refused(labels: dict, where: str) -> None:
    assert _rejected(_document(labels=labels)).reason.startswith(where)


def test_parse_event_string_for_number_refused() -> None:
    document = _document()
    document["source"]["asn"] = "16509"

    assert _rejected(document).reason.startswith("source.asn: ")


def test_parse_event_several_errors_listed_briefly() -> None:
    error = _rejected(
        _document(
            HeartbeatReceived, session_id=" ", health="zombie", category="bot", mfa=1
        )
    )

    assert error.reason.count(";") == 2
    assert "\n" not in error.reason


def test_parse_event_ip_address_kept_canonical() -> None:
    document = _document()
    document["source"]["ip"] = "2001:DB8:0:0::1"

    event = parse_event(json.dumps(document).encode())

    assert event.source is not None and event.source.ip == "2001:db8::1"
    assert _rejected({**document, "source": {"ip": "10.0.0.300"}}).reason.startswith(
        "source.ip: "
    )


def test_parse_event_hostile_label_key_quoted_in_reason() -> None:
    key = "evil\n\u0000" + "k" * 500

    reason = _rejected(_document(labels={key: "v"})).reason

    assert "\n" not in reason and "\x00" not in reason
    assert len(reason) < 300
    assert reason.startswith("labels.'evil\\n\\x00kkk")


def test_parse_event_control_characters_in_reason_escaped() -> None:
    reason = _rejected(_document(event_id="\u0000\nabc")).reason

    assert reason == (
        "event_id: Input should be a valid UUID, invalid character: found `\\x00` at 0"
    )
