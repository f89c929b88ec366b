"""A revocation read again after a restart publishes its notice again, unchanged.

A worker that crashes after folding a revocation but before its producer sent
the notice loses that notice unless the replayed event brings it back. The crash
window is too narrow to hit on purpose, so the test makes the replay happen:
after a clean stop, the worker's committed offsets on the ledger topic are set
back to the start, and a new worker (whose table comes back from the changelog)
reads the revocation again.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from kafka_fixtures import wait_for
from revocation_story import DOC_BOT, started, story_start
from revocation_worker import (
    PARTITIONS,
    produce,
    revocation_env,
    start_revocation_worker,
)

pytestmark = pytest.mark.broker

SESSION = "replayed-notice-agent"


async def rewind_group(bootstrap: str, group: str, topic: str) -> None:
    """Commit offset 0 on every partition of `topic` for the group, once the
    stopped worker has left it (the broker refuses commits from outside a group
    that still has members); check that the broker holds them."""
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    deadline = time.monotonic() + 120
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            await consumer.commit({tp: OffsetAndMetadata(0, "") for tp in partitions})
            committed = [await consumer.committed(tp) for tp in partitions]
            if committed == [0] * PARTITIONS:
                return
            problem = f"committed offsets read back as {committed}"
        except KafkaError as error:
            problem = repr(error)
        finally:
            await consumer.stop()
        assert time.monotonic() < deadline, f"cannot rewind {group}: {problem}"
        await asyncio.sleep(2)


def test_revocation_read_again_publishes_the_same_notice_again(
    kafka_bootstrap: str, tmp_path
) -> None:
    env = revocation_env(kafka_bootstrap, tmp_path, "notice-replay")
    worker = start_revocation_worker(env, tmp_path, "first")
    try:
        start = started(SESSION, story_start(), DOC_BOT)
        asyncio.run(produce(kafka_bootstrap, env["LEDGER_TOPIC_EVENTS"], [start]))
        worker.wait_for_status([SESSION], "active")
        status, body = worker.post(
            "/revocations",
            {"type": "revoke.session", "session_id": SESSION, "reason": "leaked"},
        )
        assert status == 202, body
        worker.wait_for_status([SESSION], "revoked")
        wait_for(
            lambda: worker.topic_size("LEDGER_TOPIC_REVOCATIONS") == 1,
            120,
            "the first notice",
            on_timeout=worker.process.log_tail,
        )
        [first] = worker.topic("LEDGER_TOPIC_REVOCATIONS")
    finally:
        stopped = worker.stop()
    assert stopped == 0, (
        f"the first worker did not stop cleanly:\n{worker.process.log_tail()}"
    )

    asyncio.run(
        rewind_group(kafka_bootstrap, env["LEDGER_APP_ID"], env["LEDGER_TOPIC_EVENTS"])
    )
    again = start_revocation_worker(env, tmp_path, "second")
    try:
        wait_for(
            lambda: again.topic_size("LEDGER_TOPIC_REVOCATIONS") >= 2,
            120,
            "the notice published again",
            on_timeout=again.process.log_tail,
        )
        notices = again.topic("LEDGER_TOPIC_REVOCATIONS")
        revoked = again.ledger_events("session.revoked")
    finally:
        again.stop()

    assert len(revoked) == 1, "the replay appended a second revocation"
    assert len(notices) == 2
    assert (notices[1].key, notices[1].value) == (first.key, first.value)
