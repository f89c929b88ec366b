"""`ledger emit` and `ledger dlq tail` as a user runs them, on the real broker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from kafka_fixtures import end_offsets, read_records, wait_for
from running_ledger import RunningLedger, dead_letters

from schemas import AccessRecorded, DeadLetter, parse_event, serialize
from schemas.examples import example

pytestmark = pytest.mark.broker

LEDGER = str(Path(sys.executable).parent / "ledger")


def run_ledger(
    args: list[str], env: dict[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LEDGER, *args],
        input=stdin.decode(),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def access() -> AccessRecorded:
    return example(AccessRecorded, event_id=uuid4(), session_id=f"cli-{uuid4()}")


def test_emit_file_with_bad_lines_appends_good_ones_and_exits_1(
    kafka_bootstrap: str, topic_factory, tmp_path: Path
) -> None:
    topic = topic_factory(4, prefix="emit")
    good = [access() for _ in range(3)]
    lines = [
        serialize(good[0]),
        b'{"type": "heartbeat.received", "occurred_at": "2025-03-03T09:02:00"}',
        serialize(good[1]),
        b"",
        b"not json at all",
        serialize(good[2]),
    ]
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    env = {**os.environ, "LEDGER_KAFKA_BOOTSTRAP": kafka_bootstrap}
    env["LEDGER_TOPIC_EVENTS"] = topic

    result = run_ledger(["emit", str(source)], env)

    assert result.returncode == 1, result.stderr
    assert "line 2: event rejected: event_id: field required" in result.stderr
    assert "line 5: event rejected: not valid JSON" in result.stderr
    assert f"appended 3 events to {topic}; rejected 2 of 5 lines" in result.stdout
    records = asyncio.run(read_records(kafka_bootstrap, topic))
    assert {parse_event(r.value).event_id for r in records} == {
        e.event_id for e in good
    }


def test_emit_stdin_all_valid_exits_0(kafka_bootstrap: str, topic_factory) -> None:
    topic = topic_factory(4, prefix="emit-stdin")
    events = [access() for _ in range(5)]
    env = {**os.environ, "LEDGER_KAFKA_BOOTSTRAP": kafka_bootstrap}
    env["LEDGER_TOPIC_EVENTS"] = topic

    stdin = b"\n".join(serialize(event) for event in events)
    result = run_ledger(["emit", "-"], env, stdin)

    assert result.returncode == 0, result.stderr
    assert "appended 5 events" in result.stdout
    assert len(asyncio.run(read_records(kafka_bootstrap, topic))) == 5


async def send_raw(bootstrap: str, topic: str, values: list[bytes]) -> set:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        sent = [await producer.send(topic, value) for value in values]
        return {(m.partition, m.offset) for m in await asyncio.gather(*sent)}
    finally:
        await producer.stop()


def dead_letter_bad_records(ledger: RunningLedger, values: list[bytes]) -> set:
    """Send `values` to the worker's ledger topic; wait until all are dead letters."""
    settings = ledger.settings
    before = asyncio.run(
        end_offsets(settings.bootstrap_servers, settings.topic_dead_letters)
    )
    positions = asyncio.run(
        send_raw(settings.bootstrap_servers, settings.topic_events, values)
    )
    wait_for(
        lambda: (
            positions <= {(d.partition, d.offset) for d in dead_letters(ledger, before)}
        ),
        120,
        "dead letters for the bad records",
        interval=1.0,
        on_timeout=ledger.process.log_tail,
    )
    return positions


def test_dlq_tail_shows_reason_position_and_safe_preview(
    running_ledger: RunningLedger,
) -> None:
    bad = [
        b'{"type": "heartbeat.received", "occurred_at": "2025-03-03T09:02:00"}',
        b"\x1b[2J\x1b[31mwiped\xff\xfe",
        json.dumps({"type": "session.teleported"}).encode(),
    ]
    positions = dead_letter_bad_records(running_ledger, bad)

    shown = run_ledger(["dlq", "tail", "--limit", "3"], running_ledger.env)
    as_json = run_ledger(
        ["dlq", "tail", "--from-beginning", "--limit", "0", "--json"],
        running_ledger.env,
    )

    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout
    assert "\\x1b[2J\\x1b[31mwiped\\xff\\xfe" in shown.stdout
    assert "unknown event type 'session.teleported'" in shown.stdout
    assert "timezone missing" in shown.stdout
    topic = running_ledger.settings.topic_events
    for partition, offset in positions:
        assert f"from {topic} partition {partition} offset {offset}" in shown.stdout
    assert as_json.returncode == 0, as_json.stderr
    letters = [
        DeadLetter.model_validate_json(line) for line in as_json.stdout.splitlines()
    ]
    by_position = {(d.partition, d.offset): d.original for d in letters}
    assert {by_position[position] for position in positions} == set(bad)


def test_dlq_tail_follow_shows_new_dead_letters_until_interrupted(
    running_ledger: RunningLedger,
) -> None:
    tail = subprocess.Popen(
        [LEDGER, "dlq", "tail", "--follow", "--limit", "0"],
        env=running_ledger.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output: list[str] = []
    notes: list[str] = []
    readers = [
        threading.Thread(target=lambda: output.extend(tail.stdout), daemon=True),
        threading.Thread(target=lambda: notes.extend(tail.stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        # It starts at the end of the topic: send only once it is there.
        wait_for(lambda: any("following" in note for note in notes), 120, "tail ready")
        marker = f"follow-{uuid4()}"
        dead_letter_bad_records(running_ledger, [marker.encode()])
        wait_for(
            lambda: any(marker in line for line in output),
            120,
            "the new dead letter in the tail's output",
        )
    finally:
        tail.send_signal(signal.SIGINT)
        tail.wait(60)
        for reader in readers:
            reader.join(10)
    assert tail.returncode == 0
