"""Whatever bytes arrive, parse_event answers with an event or an InvalidEvent."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import EVENT_TYPES, InvalidEvent, parse_event, serialize
from schemas.events import Event
from schemas.examples import examples, started

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

VALID_DOCUMENTS = [
    json.loads(serialize(event))
    for event in [*examples().values(), started("user"), started("hybrid")]
    if isinstance(event, Event)
]

FIELD_NAMES = sorted({name for document in VALID_DOCUMENTS for name in document})


def _parse_or_reject(raw: bytes) -> None:
    try:
        event = parse_event(raw)
    except InvalidEvent as error:
        assert error.reason and len(error.reason) <= 1000
        assert not any(ord(c) < 0x20 for c in error.reason), error.reason
        return
    # Whatever was accepted serializes to bytes that parse to the same bytes again.
    assert serialize(parse_event(serialize(event))) == serialize(event)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_parse_event_arbitrary_bytes_only_invalid_event(raw: bytes) -> None:
    _parse_or_reject(raw)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_parse_event_arbitrary_json_only_invalid_event(value: Any) -> None:
    _parse_or_reject(json.dumps(value).encode())


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VALID_DOCUMENTS),
    st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=3),
    st.sampled_from(sorted(EVENT_TYPES)),
)
def test_parse_event_mutated_event_only_invalid_event(
    document: dict[str, Any], changes: dict[str, Any], event_type: str
) -> None:
    _parse_or_reject(json.dumps({**document, **changes, "type": event_type}).encode())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VALID_DOCUMENTS),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
    | st.text(max_size=40),
)
def test_parse_event_arbitrary_times_only_invalid_event(
    document: dict[str, Any], occurred_at: str
) -> None:
    _parse_or_reject(json.dumps({**document, "occurred_at": occurred_at}).encode())


def test_parse_event_time_beyond_utc_range_refused() -> None:
    document = {**VALID_DOCUMENTS[0], "occurred_at": "0001-01-01T00:00:00+01:00"}

    try:
        parse_event(json.dumps(document).encode())
    except InvalidEvent as error:
        assert error.reason.startswith("occurred_at: ")
    else:
        raise AssertionError("a time before year 1 in UTC was accepted")
