"""The sessions the revocation tests cut off, and those they must leave alone.

Every group lives on the one shared worker, so each test acts on its own
sessions only. Times are a few minutes before the wall clock, so that commands
issued now come after every start.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aiokafka.partitioner import murmur2

from schemas import (
    Actor,
    Delegation,
    Event,
    LifecycleRequest,
    Principal,
    PrincipalKind,
    Scope,
    SessionCategory,
    SessionStarted,
)

PARTITIONS = 4

ALICE = Principal(id="alice@example.com", kind=PrincipalKind.HUMAN)
BOB = Principal(id="bob@example.com", kind=PrincipalKind.HUMAN)
DOC_BOT = Principal(
    id="svc-docproc@acme", kind=PrincipalKind.AI_AGENT, agent_type="document_processor"
)
SCANNER = Principal(
    id="svc-scan@acme",
    kind=PrincipalKind.SERVICE_ACCOUNT,
    agent_type="scanner",
    roles=("crawler",),
)
COPILOT = Principal(id="agent:copilot", kind=PrincipalKind.AI_AGENT)
INVOICES = Scope(resource="s3://invoices/*", operations=("read", "list"))


def partition_of(session_id: str) -> int:
    """The partition Java's and aiokafka's murmur2 partitioner picks."""
    return (murmur2(session_id.encode()) & 0x7FFFFFFF) % PARTITIONS


def _on_distinct_partitions(*prefixes: str) -> tuple[str, ...]:
    for n in range(1000):
        ids = tuple(f"{prefix}-{n}" for prefix in prefixes)
        if len({partition_of(session) for session in ids}) == len(ids):
            return ids
    raise AssertionError(f"no ids for {prefixes} on distinct partitions")


# A three-level chain on three partitions, a hybrid acting for its root, and a
# second family beside it that nothing revokes.
ROOT, MID, LEAF, ROOT_HYBRID = _on_distinct_partitions(
    "cut-root", "cut-mid", "cut-leaf", "cut-copilot"
)
BESIDE, BESIDE_CHILD, BESIDE_HYBRID = "keep-root", "keep-child", "keep-copilot"

# Revoked without cascade: the hybrid goes, the plain child stays.
SOLO, SOLO_CHILD, SOLO_HYBRID = "solo-user", "solo-child", "solo-copilot"

# Selector: only SCANNED matches category, agent type, role, label and start.
SCANNED = "scan-red-early"
NOT_SCANNED = ("scan-blue-early", "docs-red-early", "user-red-early", "scan-red-late")

# Use after revocation and expiry.
MISUSED, EXPIRING = "misused-agent", "expiring-agent"

# Revoked before its start is folded: the command waits for it.
AWAITED = "awaited-agent"

# Left alone by every test but the unauthorised requests'.
GUARDED = "guarded-agent"

# Previewed through the API (label batch=preview), and revoked through the CLI.
PREVIEWED = ("preview-batch-1", "preview-batch-2")
CLI_SESSION = "cli-agent"
CLI_SELECTED = ("cli-batch-1", "cli-batch-2")


def story_start() -> datetime:
    """The story's time zero: twenty minutes ago, on the minute."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now - timedelta(minutes=20)


def _envelope(session: str, at: datetime, principal: Principal, **more) -> dict:
    category = more.pop("category", None) or (
        SessionCategory.USER
        if principal.kind is PrincipalKind.HUMAN
        else SessionCategory.AGENT
    )
    return {
        "event_id": uuid.uuid4(),
        "occurred_at": at,
        "session_id": session,
        "category": category,
        "principal": principal,
        **more,
    }


def started(session: str, at: datetime, principal: Principal, **more) -> SessionStarted:
    """A session's start; `parent_session_id`, `labels`, `scopes` pass through."""
    lifecycle = more.pop("lifecycle", None) or LifecycleRequest()
    scopes = more.pop("scopes", (INVOICES,))
    return SessionStarted(
        **_envelope(session, at, principal, **more), lifecycle=lifecycle, scopes=scopes
    )


def hybrid(session: str, user_session: str, user: Principal, at: datetime) -> Event:
    """A copilot acting for `user` in `user_session`, within its scopes."""
    delegation = Delegation(
        subject=user.id,
        subject_session_id=user_session,
        actors=(Actor(id=COPILOT.id, kind=COPILOT.kind),),
    )
    narrower = Scope(resource="s3://invoices/2025/*", operations=("read",))
    return SessionStarted(
        **_envelope(session, at, COPILOT, category=SessionCategory.HYBRID),
        delegation=delegation,
        parent_session_id=user_session,
        scopes=(narrower,),
    )


def opening(t0: datetime) -> list[Event]:
    """Every session of the story, started in the first minutes."""

    def at(minutes: float) -> datetime:
        return t0 + timedelta(minutes=minutes)

    red, blue = {"team": "red"}, {"team": "blue"}
    return [
        started(ROOT, at(0), ALICE),
        started(MID, at(1), DOC_BOT, parent_session_id=ROOT),
        started(LEAF, at(2), DOC_BOT, parent_session_id=MID),
        hybrid(ROOT_HYBRID, ROOT, ALICE, at(3)),
        started(BESIDE, at(0), BOB),
        started(BESIDE_CHILD, at(1), DOC_BOT, parent_session_id=BESIDE),
        hybrid(BESIDE_HYBRID, BESIDE, BOB, at(3)),
        started(SOLO, at(0), BOB),
        started(SOLO_CHILD, at(1), DOC_BOT, parent_session_id=SOLO),
        hybrid(SOLO_HYBRID, SOLO, BOB, at(2)),
        started(SCANNED, at(1), SCANNER, labels=red),
        started("scan-blue-early", at(1), SCANNER, labels=blue),
        started("docs-red-early", at(1), DOC_BOT, labels=red),
        started("user-red-early", at(1), ALICE, labels=red),
        started("scan-red-late", at(8), SCANNER, labels=red),
        started(MISUSED, at(1), DOC_BOT),
        started(
            EXPIRING,
            at(1),
            DOC_BOT,
            lifecycle=LifecycleRequest(heartbeat_ttl_seconds=60),
        ),
        started(GUARDED, at(1), DOC_BOT),
        started(CLI_SESSION, at(1), DOC_BOT),
        *(started(s, at(1), DOC_BOT, labels={"batch": "preview"}) for s in PREVIEWED),
        *(started(s, at(1), DOC_BOT, labels={"batch": "cli"}) for s in CLI_SELECTED),
    ]


# Every session but EXPIRING, which expires as soon as later starts move its
# partition's watermark past its heartbeat deadline.
SESSIONS = [e.session_id for e in opening(story_start()) if e.session_id != EXPIRING]
