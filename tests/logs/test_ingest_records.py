"""Reading files into records, and the identities that make event ids stable."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.logs.ingest import ingest_file
from ledger.logs.mapping import IngestOptions
from ledger.logs.records import read_records

SSH_LINE = (
    "Mar  4 09:15:02 bastion sshd[4242]: Accepted publickey for alice from "
    "203.0.113.8 port 52311 ssh2"
)


def okta_start(uuid: str) -> dict:
    return {
        "uuid": uuid,
        "published": "2024-05-02T10:00:00Z",
        "eventType": "user.session.start",
        "actor": {"type": "User", "alternateId": "alice@example.com"},
        "outcome": {"result": "SUCCESS"},
    }


def event_ids(path: Path) -> list[str]:
    return [
        str(event.event_id)
        for outcome in ingest_file(path, "auto", IngestOptions())
        for event in outcome.events
    ]


def test_records_json_lines_broken_line_rejected_by_line_number(tmp_path) -> None:
    path = tmp_path / "okta.jsonl"
    lines = [
        json.dumps(okta_start("u-1")),
        "{not json",
        "",
        json.dumps(okta_start("u-2")),
    ]
    path.write_text("\n".join(lines) + "\n")

    outcomes = list(ingest_file(path, "okta", IngestOptions()))

    assert [outcome.record.position for outcome in outcomes] == [1, 2, 4]
    assert outcomes[1].rejection is not None
    assert outcomes[1].rejection.startswith("not valid JSON")
    assert [len(outcome.events) for outcome in outcomes] == [1, 0, 1]


def test_records_json_array_and_cloudtrail_envelope_give_indexed_records(
    tmp_path,
) -> None:
    array = tmp_path / "array.json"
    array.write_text(json.dumps([okta_start("u-1"), okta_start("u-2")], indent=2))
    envelope = tmp_path / "cloudtrail.json"
    envelope.write_text(
        json.dumps({"Records": [{"eventID": "e-1"}, {"eventID": "e-2"}]})
    )

    assert [r.position for r in read_records(array)] == [0, 1]
    assert [r.body["eventID"] for r in read_records(envelope)] == ["e-1", "e-2"]


def test_records_unparseable_document_is_one_rejected_record(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "a": 1,\n}\n')

    [outcome] = list(ingest_file(path, "auto", IngestOptions()))

    assert outcome.rejection is not None
    assert outcome.rejection.startswith("not valid JSON")
    assert outcome.record.original == path.read_bytes()


def test_records_reingesting_a_file_gives_the_same_event_ids(tmp_path) -> None:
    path = tmp_path / "auth.log"
    path.write_text(SSH_LINE + "\n")

    assert event_ids(path) == event_ids(path)
    assert len(event_ids(path)) == 1


def test_records_same_record_in_two_files_gives_the_same_event_id(tmp_path) -> None:
    first = tmp_path / "a.jsonl"
    second = tmp_path / "b.json"
    first.write_text(json.dumps(okta_start("u-1")) + "\n")
    second.write_text(json.dumps([okta_start("u-1")], indent=4))

    assert event_ids(first) == event_ids(second)


def test_records_repeated_line_in_one_file_gives_distinct_event_ids(tmp_path) -> None:
    path = tmp_path / "auth.log"
    path.write_text(f"{SSH_LINE}\n{SSH_LINE}\n")

    ids = event_ids(path)

    assert len(ids) == 2
    assert len(set(ids)) == 2


def test_records_json_lines_with_byte_order_mark_read_as_json(tmp_path) -> None:
    path = tmp_path / "okta.jsonl"
    lines = [json.dumps(okta_start("u-1")), json.dumps(okta_start("u-2"))]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")

    outcomes = list(ingest_file(path, "auto", IngestOptions()))

    assert [len(outcome.events) for outcome in outcomes] == [1, 1]
