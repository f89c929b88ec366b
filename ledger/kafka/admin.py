"""Topic administration on a real broker with aiokafka's admin client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from ledger.errors import BrokerError
from ledger.topics import TopicSpec

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def admin_client(
    bootstrap: str, timeout: float = 30.0
) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client; BrokerError if no broker answers at `bootstrap`."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
    except (KafkaError, OSError, TimeoutError) as error:
        await admin.close()
        raise BrokerError(
            f"no Kafka broker answers at {bootstrap} ({error!r}); start one with "
            "`ledger kafka up` or set LEDGER_KAFKA_BOOTSTRAP"
        ) from error
    try:
        yield admin
    finally:
        await admin.close()


async def broker_answers(
    bootstrap: str, timeout: float = 5.0, cluster_id: str | None = None
) -> bool:
    """Whether a broker at `bootstrap` answers a metadata request listing a node.

    With `cluster_id`, the answer must also come from that cluster, so that a
    launcher is not fooled by another broker that took the port first.
    """
    try:
        async with asyncio.timeout(timeout), admin_client(bootstrap, timeout) as admin:
            cluster = await admin.describe_cluster()
    except (BrokerError, KafkaError, OSError, TimeoutError):
        return False
    if cluster_id is not None and cluster.get("cluster_id") != cluster_id:
        return False
    return bool(cluster.get("brokers"))


async def ensure_topics(
    bootstrap: str,
    specs: Sequence[TopicSpec],
    *,
    replication_factor: int = 1,
    timeout: float = 30.0,
) -> list[str]:
    """Create the missing topics; return a warning for each existing one that differs.

    Existing topics are never altered: a partition count cannot shrink, and growing
    it would move keys to other partitions, so an operator decides.
    """
    async with admin_client(bootstrap, timeout) as admin:
        # List before describing: a metadata request for a missing topic creates it
        # with the broker's defaults when auto.create.topics.enable is on.
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        raced = await _create(admin, missing, replication_factor, timeout)
        present = [spec for spec in specs if spec.name in existing or spec in raced]
        warnings = await _mismatches(admin, present)
        created = [spec for spec in missing if spec not in raced]
        if created:
            await _wait_for_leaders(admin, created, timeout)
            logger.info(
                "Created topics %s on %s",
                ", ".join(f"{s.name} ({s.partitions} partitions)" for s in created),
                bootstrap,
            )

    for warning in warnings:
        logger.warning("%s", warning)
    return warnings


async def _create(
    admin: AIOKafkaAdminClient,
    specs: Sequence[TopicSpec],
    replication_factor: int,
    timeout: float,
) -> list[TopicSpec]:
    """Create `specs`; return those that another client created first."""
    if not specs:
        return []
    new_topics = [
        NewTopic(
            spec.name, spec.partitions, replication_factor, topic_configs=spec.configs
        )
        for spec in specs
    ]
    response = await admin.create_topics(new_topics, timeout_ms=int(timeout * 1000))
    by_name = {spec.name: spec for spec in specs}
    raced = []
    for result in response.to_object()["topic_errors"]:
        code = result["error_code"]
        if code == 0:
            continue
        error = for_code(code)
        if error is TopicAlreadyExistsError:
            raced.append(by_name[result["topic"]])
            continue
        raise BrokerError(
            f"topic {result['topic']} could not be created: {error.__name__} "
            f"({result['error_message']}); the ledger cannot run without it"
        )
    return raced


async def _mismatches(
    admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec]
) -> list[str]:
    """One line for each way an existing topic differs from its declaration."""
    if not specs:
        return []
    partitions = {
        topic["topic"]: len(topic["partitions"])
        for topic in await admin.describe_topics([spec.name for spec in specs])
    }
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, spec.name, dict.fromkeys(spec.configs))
        for spec in specs
    ]
    actual: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            actual[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"]
                for entry in resource["config_entries"]
            }

    warnings = []
    for spec in specs:
        found = partitions.get(spec.name)
        if found != spec.partitions:
            warnings.append(
                f"topic {spec.name} has {found} partitions, declared "
                f"{spec.partitions}; it is used as it is (changing the count would "
                "move keys to other partitions, so an operator must decide)"
            )
        for key, declared in spec.configs.items():
            value = actual.get(spec.name, {}).get(key)
            if value != declared:
                warnings.append(
                    f"topic {spec.name} has {key}={value}, declared {declared}; "
                    "it is left unchanged (alter it with kafka-configs.sh if the "
                    "declaration is right)"
                )
    return warnings


async def _wait_for_leaders(
    admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec], timeout: float
) -> None:
    """Wait until every partition of the new topics has a leader."""
    deadline = time.monotonic() + timeout
    wanted = {spec.name: spec.partitions for spec in specs}
    while True:
        topics = await admin.describe_topics(list(wanted))
        ready = {
            topic["topic"]
            for topic in topics
            if topic["error_code"] == 0
            and len(topic["partitions"]) == wanted[topic["topic"]]
            and all(p["leader"] >= 0 for p in topic["partitions"])
        }
        if ready >= wanted.keys():
            return
        if time.monotonic() > deadline:
            raise BrokerError(
                f"topics {sorted(wanted.keys() - ready)} have no leader after "
                f"{timeout:.0f} s"
            )
        await asyncio.sleep(0.1)
