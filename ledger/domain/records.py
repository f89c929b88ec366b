"""The state of one session as the ledger folds it from the session's events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas import (
    Delegation,
    Health,
    LinkKind,
    Principal,
    PrincipalKind,
    RevocationCause,
    Scope,
    SessionCategory,
    SessionStatus,
    Violation,
)

VIOLATIONS_KEPT = 16
"""Violations kept per session; later ones are only counted (`violation_count`)."""


class ChildLink(BaseModel):
    """A session started below this one, as its `session.child_linked` said."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    link: LinkKind
    category: SessionCategory
    # Enough of the child's identity to address derived events to it.
    principal_id: str
    principal_kind: PrincipalKind


class RevocationMark(BaseModel):
    """Why a revoked session was revoked, as its `session.revoked` said."""

    model_config = ConfigDict(frozen=True)

    command_id: UUID
    cause: RevocationCause
    requester: str
    cascade_root: str
    # Whether sessions started below this one go with it (delegates always do).
    cascade: bool = True


class SessionRecord(BaseModel):
    """One session: identity, grant, status, deadlines in force, violations.

    `partition` and `applied_offset` say where the last event folded into it sits
    on the ledger topic: the fold skips anything at or below it, and the worker
    rebuilds its per-partition expiry index from `partition` after recovery.
    `expiry_pending` is the deadline of an expiry the ledger has appended and not
    yet folded back; it keeps a restarted worker from deciding it again.

    Known cost: `children` keeps every link ever made, since the parent's
    partition never learns that a child ended, and the whole record is rewritten
    on each of the parent's events. A parent with thousands of children (an
    orchestrator fanning out sub-agents) makes each of its events that much dearer.
    """

    model_config = ConfigDict(frozen=True)

    session_id: str
    partition: int
    applied_offset: int
    category: SessionCategory
    principal: Principal
    delegation: Delegation | None = None
    parent_session_id: str | None = None
    children: tuple[ChildLink, ...] = ()
    scopes: tuple[Scope, ...] = ()
    labels: dict[str, str] = {}
    task_id: str | None = None
    status: SessionStatus = SessionStatus.ACTIVE
    status_reason: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    last_activity_at: datetime
    last_heartbeat_at: datetime | None = None
    health: Health | None = None
    last_token_at: datetime | None = None
    refresh_count: int = 0
    heartbeat_ttl_seconds: float | None = None
    idle_deadline: datetime | None = None
    absolute_deadline: datetime | None = None
    heartbeat_deadline: datetime | None = None
    expiry_pending: datetime | None = None
    violations: tuple[Violation, ...] = ()
    violation_count: int = 0
    revocation: RevocationMark | None = None

    @property
    def active(self) -> bool:
        """Whether the ledger still holds the session active (deadlines aside)."""
        return self.status is SessionStatus.ACTIVE

    def to_bytes(self) -> bytes:
        """Compact JSON, defaults left out."""
        return self.__pydantic_serializer__.to_json(
            self, exclude_defaults=True, exclude_none=True
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> SessionRecord:
        """The record `to_bytes` wrote."""
        return cls.model_validate_json(raw)
