"""The monitors' baselines survive SIGKILL: no event's effect is lost.

The monitors keep table changes in memory and write them once for many events;
the events are acknowledged only after that write. A `ledger worker` is killed
while it works through the agents' traffic, after it has committed some of the
re-keyed topic but not all of it, then restarted on a fresh data dir, so that
every table comes back from its changelog. Each agent's baseline must then count
at least every event of its session. Had the worker acknowledged events before
their changes were written, the kill would have lost the changes of everything
committed since the last write, and some baseline would count fewer.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from kafka_fixtures import read_records, wait_for
from monitor_streams import MONDAY, agent_event, agent_started
from test_monitor_worker import start_worker, wait_until_serving

from ledger.kafka.lag import group_lag, wait_until_drained
from monitors.baselines import PrincipalBaseline
from schemas import AccessRecorded, LifecycleRequest, serialize
from schemas.examples import DOC_AGENT

pytestmark = [pytest.mark.broker, pytest.mark.slow]

AGENTS = 30
READS = 400


def agents_traffic() -> list:
    """Each agent starts a session, then reads once a minute."""
    events = []
    for number in range(AGENTS):
        principal = DOC_AGENT.model_copy(update={"id": f"svc-crash-{number}@acme"})
        session = f"sess-crash-{number}"
        envelope = {"principal": principal, "session_id": session}
        events.append(agent_started(MONDAY, lifecycle=LifecycleRequest(), **envelope))
        events.extend(
            agent_event(AccessRecorded, MONDAY + timedelta(minutes=step), **envelope)
            for step in range(1, READS + 1)
        )
    return events


async def produce_all(bootstrap: str, topic: str, events: list) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, serialize(e), key=e.session_id.encode())
            for e in events
        ]
        await producer.flush()
        for delivery in sent:
            await delivery
    finally:
        await producer.stop()


def committed(bootstrap: str, group: str, topic: str) -> int:
    lags = asyncio.run(group_lag(bootstrap, group, [topic]))
    return sum(lag.committed or 0 for lag in lags)


def latest_baselines(bootstrap: str, changelog: str) -> dict[str, PrincipalBaseline]:
    latest: dict[str, bytes] = {}
    for record in asyncio.run(read_records(bootstrap, changelog)):
        latest[record.key.decode()] = record.value
    return {
        key: PrincipalBaseline.from_bytes(value)
        for key, value in latest.items()
        if value is not None
    }


def test_monitor_worker_killed_mid_stream_loses_no_baseline_update(
    kafka_bootstrap: str, spawn_process, tmp_path: Path
) -> None:
    events = agents_traffic()
    first, topics = start_worker(kafka_bootstrap, tmp_path / "first", spawn_process)
    wait_until_serving(first, topics["port"])
    routed = f"{topics['app_id']}-monitor-events"
    asyncio.run(produce_all(kafka_bootstrap, topics["events"], events))

    # Kill once part, not all, of the re-keyed topic is committed.
    deadline = time.monotonic() + 240
    seen = 0
    while time.monotonic() < deadline and first.alive():
        seen = committed(kafka_bootstrap, topics["app_id"], routed)
        if seen > 0:
            break
        time.sleep(0.2)
    assert 0 < seen < len(events), (
        f"the worker had committed {seen} of {len(events)} re-keyed events when it "
        "was to be killed; the kill must fall in the middle",
        first.log_tail(),
    )
    first.kill()

    second, restarted = start_worker(
        kafka_bootstrap,
        tmp_path / "second",
        spawn_process,
        suffix=topics["suffix"],
        name="ledger-worker-restarted",
    )
    wait_until_serving(second, restarted["port"])
    asyncio.run(
        wait_until_drained(
            kafka_bootstrap,
            topics["app_id"],
            [topics["events"], routed],
            timeout=300,
        )
    )

    changelog = f"{topics['app_id']}-monitor-baselines-changelog"
    wait_for(
        lambda: len(latest_baselines(kafka_bootstrap, changelog)) >= AGENTS,
        60,
        "a baseline for every agent on the changelog",
        interval=2.0,
        on_timeout=second.log_tail,
    )
    baselines = latest_baselines(kafka_bootstrap, changelog)
    counts = {
        number: baselines[f"agent:svc-crash-{number}@acme"].events
        for number in range(AGENTS)
    }
    short = {number: n for number, n in counts.items() if n < READS + 1}
    assert not short, f"baselines that lost events in the crash: {short}"
    assert second.stop(timeout=60) is not None
