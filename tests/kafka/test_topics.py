"""Topic declarations and `ensure_topics` on the real broker."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from kafka_fixtures import free_port

from ledger.errors import BrokerError
from ledger.kafka.admin import admin_client, ensure_topics
from ledger.settings import LedgerSettings
from ledger.topics import FOREVER, TopicSpec, ledger_topics


def spec(name: str, partitions: int, retention_ms: int = FOREVER) -> TopicSpec:
    return TopicSpec(
        name=name,
        partitions=partitions,
        cleanup_policy="delete",
        retention_ms=retention_ms,
        keyed=True,
        purpose="test",
    )


async def describe(bootstrap: str, name: str) -> tuple[int, dict[str, str]]:
    """Partition count and declared settings of a topic, as the broker reports."""
    async with admin_client(bootstrap) as admin:
        [topic] = await admin.describe_topics([name])
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, None)]
        )
    [resource] = response.to_object()["resources"]
    configs = {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
    return len(topic["partitions"]), configs


async def topic_names(bootstrap: str) -> set[str]:
    async with admin_client(bootstrap) as admin:
        return set(await admin.list_topics())


def test_ledger_topics_default_settings_declare_the_five_streams() -> None:
    settings = LedgerSettings(partitions=6)

    topics = {topic.name: topic for topic in ledger_topics(settings)}

    assert list(topics) == [
        "auth.events",
        "auth.events.dlq",
        "session.commands",
        "session.revocations",
        "alerts",
    ]
    assert topics["auth.events"].retention_ms == FOREVER
    assert all(t.cleanup_policy == "delete" for t in topics.values())
    assert [t.name for t in topics.values() if not t.keyed] == ["auth.events.dlq"]
    assert {t.partitions for t in topics.values() if t.keyed} == {6}


@pytest.mark.broker
def test_ensure_topics_missing_topics_are_created_as_declared(
    kafka_bootstrap: str, unique_name
) -> None:
    settings = LedgerSettings(
        partitions=3,
        topic_events=unique_name("events"),
        topic_dead_letters=unique_name("dlq"),
        topic_commands=unique_name("commands"),
        topic_revocations=unique_name("revocations"),
        topic_alerts=unique_name("alerts"),
    )
    specs = ledger_topics(settings)

    warnings = asyncio.run(ensure_topics(kafka_bootstrap, specs))

    assert warnings == []
    for declared in specs:
        partitions, configs = asyncio.run(describe(kafka_bootstrap, declared.name))
        assert partitions == declared.partitions
        assert configs["cleanup.policy"] == declared.cleanup_policy
        assert configs["retention.ms"] == str(declared.retention_ms)


@pytest.mark.broker
def test_ensure_topics_second_run_changes_nothing(
    kafka_bootstrap: str, unique_name, caplog: pytest.LogCaptureFixture
) -> None:
    specs = [spec(unique_name("ledger"), 4), spec(unique_name("other"), 1, 60_000)]
    asyncio.run(ensure_topics(kafka_bootstrap, specs))
    before = asyncio.run(topic_names(kafka_bootstrap))

    with caplog.at_level(logging.INFO, logger="ledger.kafka.admin"):
        warnings = asyncio.run(ensure_topics(kafka_bootstrap, specs))

    assert warnings == []
    assert not caplog.records
    assert asyncio.run(topic_names(kafka_bootstrap)) == before
    assert asyncio.run(describe(kafka_bootstrap, specs[0].name))[0] == 4


@pytest.mark.broker
def test_ensure_topics_existing_topic_differs_reports_and_keeps_it(
    kafka_bootstrap: str, topic_factory, caplog: pytest.LogCaptureFixture
) -> None:
    name = topic_factory(2, retention_ms=3_600_000)
    declared = spec(name, 4, FOREVER)

    with caplog.at_level(logging.WARNING, logger="ledger.kafka.admin"):
        warnings = asyncio.run(ensure_topics(kafka_bootstrap, [declared]))

    assert len(warnings) == 2
    assert f"topic {name} has 2 partitions, declared 4" in warnings[0]
    assert f"topic {name} has retention.ms=3600000, declared -1" in warnings[1]
    assert [r.getMessage() for r in caplog.records] == warnings
    partitions, configs = asyncio.run(describe(kafka_bootstrap, name))
    assert (partitions, configs["retention.ms"]) == (2, "3600000")


@pytest.mark.broker
def test_ensure_topics_does_not_create_topics_by_describing_them(
    kafka_bootstrap: str, unique_name
) -> None:
    # The broker auto-creates topics on metadata requests; ensure_topics must not
    # trip that and leave a 1-partition topic behind before creating its own.
    name = unique_name("fresh")

    asyncio.run(ensure_topics(kafka_bootstrap, [spec(name, 5)]))

    assert asyncio.run(describe(kafka_bootstrap, name))[0] == 5


def test_ensure_topics_no_broker_raises_broker_error() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"

    with pytest.raises(BrokerError, match=f"no Kafka broker answers at {bootstrap}"):
        asyncio.run(ensure_topics(bootstrap, [spec("never", 1)], timeout=3.0))
