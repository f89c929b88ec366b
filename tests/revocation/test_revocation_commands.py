"""Commands on the topic itself: waiting for a session's start, dead letters."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from kafka_fixtures import wait_for
from revocation_story import AWAITED, DOC_BOT, GUARDED, partition_of, started
from sessions.session_worker import read_topic

from schemas import DeadLetter, RevokeSession, serialize

pytestmark = pytest.mark.broker


async def _send(worker, value: bytes, key: bytes | None, partition: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=worker.env["LEDGER_KAFKA_BOOTSTRAP"])
    await producer.start()
    try:
        await producer.send_and_wait(
            worker.env["LEDGER_TOPIC_COMMANDS"], value, key=key, partition=partition
        )
    finally:
        await producer.stop()


def _revocation(session_id: str) -> RevokeSession:
    return RevokeSession(
        command_id=uuid.uuid4(),
        issued_at=datetime.now(UTC),
        requester="monitors",
        reason="detector: token replay",
        session_id=session_id,
    )


def test_revocation_before_session_start_waits_and_applies_on_start(story) -> None:
    worker = story.worker
    command = _revocation(AWAITED)
    key = AWAITED.encode()

    asyncio.run(_send(worker, serialize(command), key, partition_of(AWAITED)))
    wait_for(lambda: worker.engine()["pending"] == 1, 120, "the command pending")
    story.produce([started(AWAITED, story.t0 + timedelta(minutes=3), DOC_BOT)])
    worker.wait_for_status([AWAITED], "revoked")

    assert worker.record(AWAITED)["revocation"]["command_id"] == str(command.command_id)
    assert worker.engine()["pending"] == 0


def test_invalid_and_misplaced_commands_go_to_dead_letters(story) -> None:
    worker = story.worker
    refused = worker.engine()["refused"]
    misplaced = _revocation(GUARDED)
    wrong = (partition_of(GUARDED) + 1) % 4

    asyncio.run(_send(worker, b'{"type": "revoke.nothing"}', None, 0))
    asyncio.run(_send(worker, serialize(misplaced), GUARDED.encode(), wrong))
    wait_for(lambda: worker.engine()["refused"] == refused + 2, 120, "refusals")

    letters = [
        DeadLetter.model_validate_json(record.value)
        for record in asyncio.run(
            read_topic(
                worker.env["LEDGER_KAFKA_BOOTSTRAP"],
                worker.env["LEDGER_TOPIC_DEAD_LETTERS"],
                partitions=1,
            )
        )
    ]
    commands_topic = worker.env["LEDGER_TOPIC_COMMANDS"]
    reasons = [d.reason for d in letters if d.source_topic == commands_topic]
    assert any("revoke.nothing" in reason for reason in reasons)
    assert any("murmur2" in reason for reason in reasons)
    assert worker.validity(GUARDED)["active"] is True
