"""`GET /metrics` of a real worker subprocess on the real broker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from kafka_fixtures import wait_for
from metrics_worker import (
    METRICS_TOKEN,
    PARTITIONS,
    MetricsWorker,
    restart_metrics_worker,
    start_metrics_worker,
    value_of,
)

from schemas import (
    AccessRecorded,
    Alert,
    HeartbeatReceived,
    Principal,
    PrincipalKind,
    RevocationCause,
    RevocationNotice,
    Scope,
    SessionStarted,
    Severity,
    serialize,
)

pytestmark = pytest.mark.broker

DETECTOR = "metrics_test_detector"
READS = Scope(resource="app:wiki/*", operations=("read",))


@pytest.fixture(scope="module")
def metrics_worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetricsWorker]:
    """A full worker; its log is shown if a test fails while waiting on it."""
    worker = start_metrics_worker(kafka_bootstrap, tmp_path_factory.mktemp("metrics"))
    try:
        yield worker
    finally:
        if worker.process.alive():
            worker.process.stop(timeout=60)
        else:
            worker.process.kill()


def traffic(now: datetime) -> list[tuple[bytes | None, bytes]]:
    """Users 3 x (start, 2 reads), agents 2 x (start, 2 beats), 1 hybrid read."""
    records = []
    moments = iter(now + timedelta(milliseconds=n) for n in range(100))

    def add(event: object) -> None:
        records.append((event.session_id.encode(), serialize(event)))

    for number in range(3):
        person = Principal(id=f"person-{number}@example.com", kind=PrincipalKind.HUMAN)
        session = f"metrics-user-{uuid4().hex[:8]}"
        envelope = {"session_id": session, "category": "user", "principal": person}
        add(
            SessionStarted(
                event_id=uuid4(),
                occurred_at=next(moments),
                scopes=(READS,),
                mfa=True,
                **envelope,
            )
        )
        for _ in range(2):
            add(
                AccessRecorded(
                    event_id=uuid4(),
                    occurred_at=next(moments),
                    resource="app:wiki/home",
                    operation="read",
                    **envelope,
                )
            )
    for number in range(2):
        agent = Principal(id=f"svc-metrics-{number}", kind=PrincipalKind.AI_AGENT)
        session = f"metrics-agent-{uuid4().hex[:8]}"
        envelope = {"session_id": session, "category": "agent", "principal": agent}
        add(SessionStarted(event_id=uuid4(), occurred_at=next(moments), **envelope))
        for _ in range(2):
            add(
                HeartbeatReceived(
                    event_id=uuid4(), occurred_at=next(moments), **envelope
                )
            )
    # A session the ledger never saw start: a valid event all the same.
    add(
        AccessRecorded(
            event_id=uuid4(),
            occurred_at=next(moments),
            session_id="metrics-hybrid-unseen",
            category="hybrid",
            principal=Principal(id="agent:metrics", kind=PrincipalKind.AI_AGENT),
            resource="app:wiki/home",
            operation="read",
        )
    )
    return records


def bad_records() -> list[tuple[bytes | None, bytes]]:
    """Three records the ledger dead-letters: not JSON, no event, a wrong key."""
    event = SessionStarted(
        event_id=uuid4(),
        occurred_at=datetime.now(UTC),
        session_id="metrics-misplaced",
        category="user",
        principal=Principal(id="someone@example.com", kind=PrincipalKind.HUMAN),
    )
    return [(b"k1", b"not json"), (b"k2", b"{}"), (b"other-key", serialize(event))]


def alerts_and_notices(now: datetime) -> tuple[list[bytes], list[bytes]]:
    """Two alerts of the test's detector (one sent twice), a broken one, a notice."""
    first, second = (
        Alert(
            alert_id=uuid4(),
            detector=DETECTOR,
            category="agent",
            principal_id="svc-metrics-0",
            severity=Severity.HIGH,
            score=1.0,
            explanation="metrics test",
            first_seen=now,
            last_seen=now,
        )
        for _ in range(2)
    )
    # The first alert grows: sent again under its id, it is still one alert.
    grown = first.model_copy(
        update={"count": 3, "last_seen": now + timedelta(minutes=1)}
    )
    alerts = [serialize(first), serialize(second), serialize(grown)]
    notice = RevocationNotice(
        session_id="metrics-agent-revoked",
        principal_id="svc-metrics-1",
        category="agent",
        command_id=uuid4(),
        cause=RevocationCause.EMERGENCY,
        reason="metrics test",
        cascade_root="metrics-agent-revoked",
        revoked_at=now,
    )
    return [*alerts, b"not an alert"], [serialize(notice)]


async def send(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]
) -> None:
    # aiokafka's default partitioner is murmur2, as the ledger requires.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def test_metrics_refuses_a_scrape_without_the_token(
    metrics_worker: MetricsWorker,
) -> None:
    assert metrics_worker.get("/metrics", None)[0] == 401
    assert metrics_worker.get("/metrics", "wrong")[0] == 401
    status, content_type, body = metrics_worker.get("/metrics", METRICS_TOKEN)
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    assert "# TYPE ledger_consumer_lag gauge" in body


def test_metrics_count_events_sessions_dead_letters_alerts(
    metrics_worker: MetricsWorker, kafka_bootstrap: str
) -> None:
    settings = metrics_worker.settings
    now = datetime.now(UTC)
    alerts, notices = alerts_and_notices(now)
    asyncio.run(send(kafka_bootstrap, settings.topic_events, traffic(now)))
    asyncio.run(send(kafka_bootstrap, settings.topic_events, bad_records()))
    asyncio.run(
        send(kafka_bootstrap, settings.topic_alerts, [(b"a", v) for v in alerts])
    )
    asyncio.run(
        send(kafka_bootstrap, settings.topic_revocations, [(b"r", v) for v in notices])
    )

    def counted() -> bool:
        families = metrics_worker.scrape()
        return (
            value_of(families["ledger_dead_letters"]) == 3
            and value_of(families["ledger_events_in"], category="user") == 9
            and value_of(families["ledger_events_in"], category="agent") == 6
            and value_of(
                families["ledger_invalid_records"], topic=settings.topic_alerts
            )
            == 1
        )

    wait_for(
        counted,
        240,
        "events, dead letters and alerts counted",
        interval=2.0,
        on_timeout=lambda: (
            metrics_worker.get("/metrics", METRICS_TOKEN)[2]
            + metrics_worker.process.log_tail()
        ),
    )
    families = metrics_worker.scrape()
    events = families["ledger_events_in"]
    assert value_of(events, category="hybrid") == 1
    sessions = families["ledger_sessions"]
    assert value_of(sessions, category="user", status="active") == 3
    assert value_of(sessions, category="agent", status="active") == 2
    assert value_of(sessions, category="hybrid", status="active") is None
    alerts_family = families["ledger_alerts"]
    assert (
        value_of(alerts_family, category="agent", detector=DETECTOR, severity="high")
        == 2
    )
    assert (
        value_of(families["ledger_revocations"], category="agent", cause="emergency")
        == 1
    )


def ledger_topic_lag(families, topic: str) -> list:
    """The consumer lag reported for each partition of `topic`."""
    lag = families["ledger_consumer_lag"]
    return [value_of(lag, topic=topic, partition=str(p)) for p in range(PARTITIONS)]


def test_metrics_lag_and_audit_backlog_drain_to_zero(
    metrics_worker: MetricsWorker,
) -> None:
    topic = metrics_worker.settings.topic_events

    def drained() -> bool:
        families = metrics_worker.scrape()
        backlog = value_of(families["ledger_audit_backlog_rows"])
        return ledger_topic_lag(families, topic) == [0] * PARTITIONS and backlog == 0

    # Every partition of the ledger topic is reported, and catches up.
    wait_for(
        drained,
        240,
        "ledger topic lag and audit backlog at zero",
        interval=2.0,
        on_timeout=lambda: metrics_worker.get("/metrics", METRICS_TOKEN)[2],
    )
    lag = metrics_worker.scrape()["ledger_consumer_lag"]
    topics = {sample.labels["topic"] for sample in lag.samples}
    settings = metrics_worker.settings
    assert {settings.topic_dead_letters, settings.topic_alerts} <= topics


def test_metrics_sessions_are_recounted_after_a_restart(
    metrics_worker: MetricsWorker, kafka_bootstrap: str
) -> None:
    settings = metrics_worker.settings
    asyncio.run(
        send(kafka_bootstrap, settings.topic_events, traffic(datetime.now(UTC)))
    )

    def sessions_of(worker: MetricsWorker) -> dict[str, float | None]:
        family = worker.scrape()["ledger_sessions"]
        return {
            category: value_of(family, category=category, status="active")
            for category in ("user", "agent")
        }

    # This test's 3 user and 2 agent sessions, beside any an earlier test left.
    wait_for(
        lambda: all(
            count is not None and count >= need
            for count, need in zip(
                sessions_of(metrics_worker).values(), (3, 2), strict=True
            )
        ),
        240,
        "the new sessions counted",
        interval=2.0,
        on_timeout=metrics_worker.process.log_tail,
    )
    # Counted once everything sent is folded and committed: a session started by
    # a record still in flight would otherwise be counted only after the restart.
    topic = settings.topic_events

    def committed_everything() -> bool:
        lags = ledger_topic_lag(metrics_worker.scrape(), topic)
        return lags == [0] * PARTITIONS

    wait_for(
        committed_everything,
        240,
        "the ledger topic folded and committed",
        interval=2.0,
        on_timeout=lambda: metrics_worker.get("/metrics", METRICS_TOKEN)[2],
    )
    before = sessions_of(metrics_worker)

    restarted = restart_metrics_worker(metrics_worker)
    try:
        wait_for(
            lambda: sessions_of(restarted) == before,
            240,
            f"sessions recounted from the recovered table as {before}",
            interval=2.0,
            on_timeout=lambda: (
                restarted.get("/metrics", METRICS_TOKEN)[2]
                + restarted.process.log_tail()
            ),
        )
        # Counters start again with the process: nothing new was read.
        events = restarted.scrape()["ledger_events_in"]
        assert value_of(events, category="user") is None
    finally:
        restarted.process.stop(timeout=60)


def test_metrics_page_is_registered_on_every_default_worker(tmp_path: Path) -> None:
    from ledger.settings import LedgerSettings
    from ledger.worker import build_worker

    worker = build_worker(LedgerSettings(data_dir=tmp_path))

    assert "ledger.worker.metrics" in worker.components
