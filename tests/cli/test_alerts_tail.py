"""`ledger alerts tail` on the real broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from ledger.cli import app
from schemas import Alert, serialize
from schemas.examples import example

pytestmark = pytest.mark.broker


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"principal-1")
    finally:
        await producer.stop()


@pytest.fixture
def alerts_topic(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    topic = topic_factory(2, prefix="alerts")
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("LEDGER_TOPIC_ALERTS", topic)
    return topic


def test_alerts_tail_published_alerts_are_shown_with_their_explanation(
    kafka_bootstrap: str, alerts_topic: str
) -> None:
    burst = example(Alert, detector="agent_burst", explanation="40x its own rate")
    travel = example(Alert, detector="impossible_travel", explanation="Oslo to Lima")
    asyncio.run(
        produce(
            kafka_bootstrap,
            alerts_topic,
            [serialize(burst), b"not an alert", serialize(travel)],
        )
    )

    result = CliRunner().invoke(app, ["alerts", "tail", "--from-beginning"])

    assert result.exit_code == 0, result.output
    assert "agent_burst" in result.output
    assert "40x its own rate" in result.output
    assert "Oslo to Lima" in result.output
    assert "not an alert" in result.output


def test_alerts_tail_json_lines_parse_back_to_the_alerts(
    kafka_bootstrap: str, alerts_topic: str
) -> None:
    alert = example(Alert, detector="use_after_revocation")
    asyncio.run(produce(kafka_bootstrap, alerts_topic, [serialize(alert)]))

    result = CliRunner().invoke(app, ["alerts", "tail", "--json", "--from-beginning"])

    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("{")]
    assert [Alert.model_validate(json.loads(line)) for line in lines] == [alert]


def test_alerts_tail_missing_topic_fails_naming_it(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("LEDGER_TOPIC_ALERTS", "no-such-alerts-topic")

    result = CliRunner().invoke(app, ["alerts", "tail"])

    assert result.exit_code == 1
    assert "no-such-alerts-topic does not exist" in result.output
