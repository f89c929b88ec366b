"""Shared fixtures: one real Kafka broker per run, unique names, topics, workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka_fixtures import (
    SessionBroker,
    WorkerProcess,
    broker_source,
    check_launcher_tools,
    start_test_broker,
)

from ledger.errors import LedgerError
from ledger.kafka.admin import admin_client, ensure_topics
from ledger.topics import TopicSpec

logger = logging.getLogger(__name__)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail the run at once, with the reason, if broker tests cannot get a broker."""
    if not any(item.get_closest_marker("broker") for item in session.items):
        return
    if broker_source() != "launcher":
        return
    try:
        check_launcher_tools()
    except LedgerError as error:
        pytest.exit(
            "broker tests need a Kafka broker: set LEDGER_KAFKA_BOOTSTRAP, run a "
            f"Docker engine, or let the tests launch one; that failed: {error}",
            returncode=pytest.ExitCode.TESTS_FAILED,
        )


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionBroker]:
    """The run's real broker (environment, Testcontainers, or the launcher)."""
    try:
        broker = start_test_broker(tmp_path_factory.mktemp("kafka-broker"))
    except LedgerError as error:
        pytest.fail(f"no Kafka broker for the tests: {error}", pytrace=False)
    logger.info("Tests use the %s broker at %s", broker.origin, broker.bootstrap)
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: SessionBroker) -> str:
    """Bootstrap address of the run's real broker."""
    return kafka_broker.bootstrap


@pytest.fixture
def unique_name() -> Callable[..., str]:
    """Make names no other test (or earlier run on the same broker) has used."""

    def make(prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    return make


@pytest.fixture
def topic_factory(
    kafka_bootstrap: str, unique_name: Callable[..., str]
) -> Iterator[Callable[..., str]]:
    """Create topics with a unique name on the real broker; delete them afterwards."""
    created: list[str] = []

    def create(
        partitions: int = 1,
        *,
        prefix: str = "topic",
        cleanup_policy: str = "delete",
        retention_ms: int = 24 * 60 * 60 * 1000,
    ) -> str:
        spec = TopicSpec(
            name=unique_name(prefix),
            partitions=partitions,
            cleanup_policy=cleanup_policy,
            retention_ms=retention_ms,
            keyed=True,
            purpose="test",
        )
        asyncio.run(ensure_topics(kafka_bootstrap, [spec]))
        created.append(spec.name)
        return spec.name

    yield create

    if created:
        with contextlib.suppress(LedgerError):
            asyncio.run(_delete_topics(kafka_bootstrap, created))


async def _delete_topics(bootstrap: str, names: list[str]) -> None:
    async with admin_client(bootstrap, timeout=10.0) as admin:
        await admin.delete_topics(names)


@pytest.fixture
def spawn_process(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start subprocesses for a test; kill whatever is left of them afterwards."""
    started: list[WorkerProcess] = []

    def spawn(command: list[str], env: dict[str, str], name: str) -> WorkerProcess:
        worker = WorkerProcess(command, env, tmp_path / f"{name}.log")
        started.append(worker)
        return worker

    yield spawn

    for worker in started:
        if worker.alive():
            logger.warning("pid %d outlived its test; killing it", worker.pid)
            worker.kill()
