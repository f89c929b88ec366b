"""POST /events on a real worker: answers, what is written, and what is not."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Iterator
from uuid import uuid4

import pytest
from kafka_fixtures import end_offsets, read_records
from running_ledger import PARTITIONS, RunningLedger, dead_letters, java_partition

from ledger.credentials import Role
from ledger.worker.app import CONTROL_HEADER
from schemas import AccessRecorded, Scope, SessionStarted, parse_event, serialize
from schemas.examples import example

pytestmark = pytest.mark.broker


def access(session_id: str | None = None) -> AccessRecorded:
    return example(
        AccessRecorded, event_id=uuid4(), session_id=session_id or f"http-{uuid4()}"
    )


def batch(events: list) -> bytes:
    return b"[" + b",".join(serialize(event) for event in events) + b"]"


class Written:
    """What lands on the ledger's topics during a block of a test."""

    def __init__(self, ledger: RunningLedger) -> None:
        self.ledger = ledger
        settings = ledger.settings
        self.events_before = asyncio.run(
            end_offsets(settings.bootstrap_servers, settings.topic_events)
        )
        self.letters_before = asyncio.run(
            end_offsets(settings.bootstrap_servers, settings.topic_dead_letters)
        )

    def ours(self, *events) -> list:
        """The records holding `events`; the worker appends events and ticks too."""
        settings = self.ledger.settings
        wanted = {str(getattr(event, "event_id", event)) for event in events}
        records = asyncio.run(
            read_records(
                settings.bootstrap_servers, settings.topic_events, self.events_before
            )
        )
        return [
            r
            for r in records
            if not any(name == CONTROL_HEADER for name, _ in r.headers)
            and str(parse_event(r.value).event_id) in wanted
        ]

    def dead_letters(self):
        return dead_letters(self.ledger, self.letters_before)


@pytest.fixture
def producer_token(running_ledger: RunningLedger) -> str:
    return running_ledger.tokens[Role.PRODUCER]


def test_post_events_single_event_is_202_on_its_murmur2_partition(
    running_ledger: RunningLedger, producer_token: str
) -> None:
    written = Written(running_ledger)
    event = access()

    status, body = running_ledger.post_events(serialize(event), producer_token)

    assert (status, body) == (202, {"accepted": [str(event.event_id)], "rejected": []})
    [record] = written.ours(event)
    stored = parse_event(record.value)
    assert stored.model_copy(update={"received_at": None}) == event
    assert stored.received_at is not None
    assert record.key == event.session_id.encode()
    assert record.partition == java_partition(record.key, PARTITIONS)


def test_post_events_batch_over_one_mib_is_202_with_every_id(
    running_ledger: RunningLedger, producer_token: str
) -> None:
    # Over aiohttp's own 1 MiB client_max_size, under the 4 MiB batch limit.
    wide = [
        Scope(resource=f"s3://{'w' * 900}/{n}", operations=("read",)) for n in range(50)
    ]
    events = [
        example(
            SessionStarted, event_id=uuid4(), session_id=f"wide-{uuid4()}", scopes=wide
        )
        for _ in range(30)
    ]
    body_bytes = batch(events)
    assert 1024 * 1024 < len(body_bytes) < 4 * 1024 * 1024
    written = Written(running_ledger)

    status, body = running_ledger.post_events(body_bytes, producer_token)

    assert status == 202, body
    assert body["accepted"] == [str(event.event_id) for event in events]
    records = written.ours(*events)
    assert {str(parse_event(r.value).event_id) for r in records} == set(
        body["accepted"]
    )
    for record in records:
        assert record.partition == java_partition(record.key, PARTITIONS)


def test_post_events_mixed_batch_is_400_and_still_writes_the_valid_ones(
    running_ledger: RunningLedger, producer_token: str
) -> None:
    good = [access() for _ in range(3)]
    naive = json.loads(serialize(access()))
    naive["occurred_at"] = "2025-03-03T09:00:00"
    plain = [json.loads(serialize(event)) for event in good]
    body_bytes = json.dumps([plain[0], naive, plain[1], 42, plain[2]]).encode()
    written = Written(running_ledger)

    status, body = running_ledger.post_events(body_bytes, producer_token)

    assert status == 400
    assert body["accepted"] == [str(event.event_id) for event in good]
    assert [(r["index"], r["event_id"]) for r in body["rejected"]] == [
        (1, naive["event_id"]),
        (3, None),
    ]
    assert "timezone missing" in body["rejected"][0]["reason"]
    assert "must be a JSON object" in body["rejected"][1]["reason"]
    stored = written.ours(*good, naive["event_id"])
    assert {parse_event(r.value).event_id for r in stored} == {e.event_id for e in good}
    letters = written.dead_letters()
    assert [(letter.source_topic, letter.original) for letter in letters] == [
        ("http", json.dumps(naive, separators=(",", ":")).encode()),
        ("http", b"42"),
    ]


def test_post_events_not_json_is_400_and_dead_lettered(
    running_ledger: RunningLedger, producer_token: str
) -> None:
    written = Written(running_ledger)

    status, body = running_ledger.post_events(b"{'single': quotes}", producer_token)

    assert status == 400
    assert body["accepted"] == []
    assert body["rejected"][0]["reason"].startswith("body is not valid JSON")
    assert [letter.original for letter in written.dead_letters()] == [
        b"{'single': quotes}"
    ]


@pytest.mark.parametrize("token", [None, "not-a-credential"])
def test_post_events_without_valid_credential_is_401_and_writes_nothing(
    running_ledger: RunningLedger, token: str | None
) -> None:
    written = Written(running_ledger)
    event = access()

    status, body = running_ledger.post_events(batch([event]), token)

    assert status == 401
    assert "bearer" in body["error"]
    sentinel = access()
    assert (
        running_ledger.post_events(
            serialize(sentinel), running_ledger.tokens[Role.PRODUCER]
        )[0]
        == 202
    )
    [stored] = written.ours(event, sentinel)
    assert parse_event(stored.value).event_id == sentinel.event_id


@pytest.mark.parametrize("role", [Role.READER, Role.ADMIN])
def test_post_events_with_other_role_credential_is_403(
    running_ledger: RunningLedger, role: Role
) -> None:
    status, body = running_ledger.post_events(
        serialize(access()), running_ledger.tokens[role]
    )

    assert status == 403
    assert role.value in body["error"]


def post_raw(
    ledger: RunningLedger,
    token: str,
    headers: dict[str, str],
    body: Iterator[bytes] | bytes,
) -> tuple[int, dict]:
    connection = http.client.HTTPConnection(
        "127.0.0.1", ledger.settings.web_port, timeout=60
    )
    try:
        connection.putrequest("POST", "/events")
        connection.putheader("Authorization", f"Bearer {token}")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        if isinstance(body, bytes):
            connection.send(body)
        else:
            for chunk in body:
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read())
    finally:
        connection.close()


def test_post_events_declared_length_over_limit_is_413_before_reading(
    running_ledger: RunningLedger, producer_token: str
) -> None:
    limit = running_ledger.settings.max_batch_bytes

    status, body = post_raw(
        running_ledger, producer_token, {"Content-Length": str(limit + 1)}, b"[]"
    )

    assert status == 413
    assert "split the batch" in body["error"]


def test_post_events_chunked_body_over_limit_is_413_and_writes_nothing(
    running_ledger: RunningLedger, producer_token: str
) -> None:
    limit = running_ledger.settings.max_batch_bytes
    repeated = access()
    one = serialize(repeated) + b","
    chunk = b"[" + one * (64 * 1024 // len(one))
    chunks = [chunk] + [one * (64 * 1024 // len(one))] * (limit // len(chunk) + 1)
    written = Written(running_ledger)

    status, body = post_raw(
        running_ledger, producer_token, {"Transfer-Encoding": "chunked"}, iter(chunks)
    )

    assert status == 413
    assert f"over {limit} bytes" in body["error"]
    assert written.ours(repeated) == []


def test_post_events_single_event_over_event_limit_is_413(
    running_ledger: RunningLedger, producer_token: str
) -> None:
    wide = [
        Scope(resource=f"s3://{'w' * 1000}/{n}", operations=("read",))
        for n in range(80)
    ]
    event = example(SessionStarted, event_id=uuid4(), scopes=wide)
    written = Written(running_ledger)

    status, body = running_ledger.post_events(serialize(event), producer_token)

    assert status == 413
    assert "over the 65536-byte limit" in body["error"]
    assert written.ours(event) == []
