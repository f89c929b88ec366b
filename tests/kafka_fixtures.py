"""Where the test run gets its Kafka broker, and worker subprocesses for tests.

In order of preference: a broker named by LEDGER_KAFKA_BOOTSTRAP; a Testcontainers
broker when a Docker engine answers; else the ledger's own launcher on free ports.
A run that needs a broker and cannot have one fails with the reason; it never skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from ledger.errors import BrokerError
from ledger.kafka.admin import admin_client, broker_answers
from ledger.kafka.launcher import LocalBroker
from ledger.settings import LedgerSettings

logger = logging.getLogger(__name__)

BOOTSTRAP_ENV = "LEDGER_KAFKA_BOOTSTRAP"
DOCKER_SOCKET = Path("/var/run/docker.sock")
# Confluent Platform 7.6 is Kafka 3.6, the newest image the module's KRaft set-up
# is written for.
CONTAINER_IMAGE = "confluentinc/cp-kafka:7.6.0"


@dataclass
class SessionBroker:
    """A broker for the whole run, and how to let it go."""

    bootstrap: str
    origin: str
    stop: Callable[[], None] = field(default=lambda: None)


def broker_source() -> str:
    """Which broker the run will use: 'environment', 'docker' or 'launcher'."""
    if os.environ.get(BOOTSTRAP_ENV):
        return "environment"
    if docker_answers():
        return "docker"
    return "launcher"


def docker_answers(timeout: float = 2.0) -> bool:
    """Whether a Docker engine answers a ping; cheap when there is no socket."""
    if not os.environ.get("DOCKER_HOST") and not DOCKER_SOCKET.exists():
        return False
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure to reach the engine means "no Docker"
        return False


def check_launcher_tools(cache_dir: Path | None = None) -> None:
    """Raise ToolMissingError unless the launcher could start a broker."""
    settings = (
        LedgerSettings() if cache_dir is None else LedgerSettings(cache_dir=cache_dir)
    )
    LocalBroker(settings).check_tools()


def start_test_broker(data_dir: Path) -> SessionBroker:
    """A broker for the run, from the first source that can give one."""
    source = broker_source()
    if source == "environment":
        bootstrap = os.environ[BOOTSTRAP_ENV]
        # The named broker may still be starting; give it the same grace as ours.
        deadline = time.monotonic() + 30.0
        while not asyncio.run(broker_answers(bootstrap, timeout=5.0)):
            if time.monotonic() < deadline:
                time.sleep(1.0)
                continue
            raise BrokerError(
                f"{BOOTSTRAP_ENV}={bootstrap} names a broker that does not answer "
                "within 30 s; start it, or unset the variable to let the tests "
                "launch their own"
            )
        return SessionBroker(bootstrap, source)
    if source == "docker":
        from testcontainers.community.kafka import KafkaContainer

        container = KafkaContainer(CONTAINER_IMAGE).with_kraft()
        container.start(timeout=120)
        return SessionBroker(container.get_bootstrap_server(), source, container.stop)

    broker = LocalBroker(
        LedgerSettings(data_dir=data_dir, kafka_bootstrap=None),
        port=0,
        controller_port=0,
    )
    status = broker.up(timeout=120.0)
    assert status.bootstrap is not None
    return SessionBroker(status.bootstrap, source, broker.down)


class WorkerProcess:
    """A program under test run as a subprocess, with its output in a log file."""

    def __init__(self, command: Sequence[str], env: dict[str, str], log: Path):
        self.log = log
        self._output = log.open("ab")
        self.process = subprocess.Popen(
            list(command),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, wait up to `timeout`, then SIGKILL; return the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("pid %d ignored SIGTERM; killing it", self.pid)
                self.kill()
        self._output.close()
        return self.process.wait()

    def kill(self) -> None:
        """SIGKILL the whole process group, so that no child outlives the test."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._output.close()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    interval: float = 0.25,
    on_timeout: Callable[[], str] = lambda: "",
) -> float:
    """Poll `condition` until true; return the seconds it took, else AssertionError."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} not within {timeout:.0f} s\n{on_timeout()}")
        time.sleep(interval)
    return time.monotonic() - started


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The next offset of every partition of `topic`."""
    async with admin_client(bootstrap) as admin:
        [description] = await admin.describe_topics([topic])
    partitions = [
        TopicPartition(topic, p["partition"]) for p in description["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


async def read_records(
    bootstrap: str,
    topic: str,
    since: dict[int, int] | None = None,
    until: dict[int, int] | None = None,
    timeout: float = 120.0,
) -> list[ConsumerRecord]:
    """Every record of `topic` from `since` (default: the start) up to `until`.

    `until` defaults to the end offsets at the time of the call.
    """
    until = until if until is not None else await end_offsets(bootstrap, topic)
    since = since or {}
    records: list[ConsumerRecord] = []
    wanted = {
        TopicPartition(topic, p): end
        for p, end in until.items()
        if end > since.get(p, 0)
    }
    if not wanted:
        return records
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=5000
    )
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, since.get(tp.partition, 0))
        async with asyncio.timeout(timeout):
            while wanted:
                batches = await consumer.getmany(timeout_ms=1000)
                for tp, batch in batches.items():
                    end = wanted.get(tp)
                    if end is None:
                        continue
                    records.extend(r for r in batch if r.offset < end)
                    if await consumer.position(tp) >= end:
                        del wanted[tp]
    finally:
        await consumer.stop()
    return records
