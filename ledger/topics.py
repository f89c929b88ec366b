"""Every topic the ledger reads or writes, declared in one place.

The worker creates missing topics at start-up (`ledger.kafka.admin.ensure_topics`)
and warns about existing topics whose layout differs from these declarations.

Decisions:

- Keyed topics get `settings.partitions` partitions. The count is fixed for the life
  of a topic: murmur2(key) % partitions places a session's events, so changing it
  would split a session's history across partitions.
- `auth.events` keeps everything forever (retention.ms=-1, no compaction): it is the
  ledger, and every projection is rebuilt by replaying it.
- `auth.events.dlq` has one partition and no key. Dead letters are rare, read by
  people and replayed in arrival order; one partition keeps that order across all
  sources, and a single partition absorbs even a flood from a broken producer.
- The derived topics expire: commands after 7 days, revocation notices after 30,
  alerts after 90. Their history is kept for good in `auth.events` and in the
  ClickHouse audit projection.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.settings import LedgerSettings

DAY_MS = 24 * 60 * 60 * 1000
FOREVER = -1


@dataclass(frozen=True)
class TopicSpec:
    """The declared layout of one topic."""

    name: str
    partitions: int
    cleanup_policy: str
    retention_ms: int
    keyed: bool
    purpose: str

    @property
    def configs(self) -> dict[str, str]:
        """The topic-level settings that the ledger declares and checks."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
        }


def ledger_topics(settings: LedgerSettings) -> list[TopicSpec]:
    """The five topics of the ledger, named and sized by `settings`."""
    keyed = settings.partitions
    return [
        TopicSpec(
            name=settings.topic_events,
            partitions=keyed,
            cleanup_policy="delete",
            retention_ms=FOREVER,
            keyed=True,
            purpose="the ledger: every event of every session, keyed by session id",
        ),
        TopicSpec(
            name=settings.topic_dead_letters,
            partitions=1,
            cleanup_policy="delete",
            retention_ms=30 * DAY_MS,
            keyed=False,
            purpose="input that failed validation, with its reason and source offset",
        ),
        TopicSpec(
            name=settings.topic_commands,
            partitions=keyed,
            cleanup_policy="delete",
            retention_ms=7 * DAY_MS,
            keyed=True,
            purpose="revocation requests, keyed by session id; broadcasts on every "
            "partition",
        ),
        TopicSpec(
            name=settings.topic_revocations,
            partitions=keyed,
            cleanup_policy="delete",
            retention_ms=30 * DAY_MS,
            keyed=True,
            purpose="one notice per revoked session, for enforcement points",
        ),
        TopicSpec(
            name=settings.topic_alerts,
            partitions=keyed,
            cleanup_policy="delete",
            retention_ms=90 * DAY_MS,
            keyed=True,
            purpose="security alerts keyed by principal, with their evidence",
        ),
    ]
