"""What the monitors know about the session an event belongs to.

Detectors judge an event against its session: the scopes it was granted, whether
it is still active, and, for a hybrid, the user session it acts for. The
`SessionContext` carries exactly that, so the engine needs neither Kafka nor the
session projection's table: the caller passes a context in, or the engine folds
its own from the same events with `advance`.

Keys: a principal's baseline is kept under `principal_key` (category first, so
that a name used by a person and by a program never shares a baseline; a hybrid
is keyed by its (agent, user) pair). `partition_key` is what the worker re-keys
events by, so that a hybrid and the user it acts for are judged on one partition,
where the user's session context can be read.

>>> principal_key(SessionCategory.HYBRID, "agent:copilot-42", "alice@example.com")
'hybrid:agent:copilot-42>alice@example.com'
>>> partition_key(SessionCategory.HYBRID, "agent:copilot-42", "alice@example.com")
'alice@example.com'
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas import (
    AccessRecorded,
    AuthEvent,
    ChildSessionLinked,
    ExpiryReason,
    HeartbeatReceived,
    Scope,
    SessionCategory,
    SessionEnded,
    SessionExpired,
    SessionRevoked,
    SessionStarted,
    SessionStatus,
    TaskCompleted,
    TaskStarted,
    TokenIssued,
    TokenRefreshed,
)

ACTIVITY = (
    AccessRecorded,
    TokenIssued,
    TokenRefreshed,
    HeartbeatReceived,
    TaskStarted,
    TaskCompleted,
)
"""Events that use a session: after its end, each one is a use after end."""

LEDGER_APPENDED = (SessionExpired, SessionRevoked, ChildSessionLinked)
"""Events the ledger appends itself: they may change a context, never a baseline."""


def principal_key(
    category: SessionCategory, principal_id: str, subject: str | None = None
) -> str:
    """The key of a principal's baseline; hybrids are keyed by (agent, user)."""
    if category is SessionCategory.HYBRID:
        # '>' cannot occur in an identifier, so the pair cannot be forged.
        return f"hybrid:{principal_id}>{subject or '?'}"
    return f"{category.value}:{principal_id}"


def partition_key(
    category: SessionCategory, principal_id: str, subject: str | None = None
) -> str:
    """What events are re-keyed by: the principal, or a hybrid's user."""
    if category is SessionCategory.HYBRID and subject:
        return subject
    return principal_id


class SessionContext(BaseModel):
    """One session as the detectors need it; unknown parts are None."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    category: SessionCategory
    principal_id: str
    scopes: tuple[Scope, ...] | None = None
    """None when the start was not seen; empty when the session is not scoped."""
    status: SessionStatus = SessionStatus.ACTIVE
    status_at: datetime | None = None
    """When the session stopped being active."""
    status_reason: str | None = None
    started_at: datetime | None = None
    token_expires_at: datetime | None = None
    subject: str | None = None
    subject_session_id: str | None = None
    subject_status: SessionStatus | None = None
    """The hybrid's user session: None when the monitors have not seen it."""
    subject_status_at: datetime | None = None
    subject_scopes: tuple[Scope, ...] | None = None

    @property
    def active(self) -> bool:
        """Whether the session may still be used."""
        return self.status is SessionStatus.ACTIVE

    def to_bytes(self) -> bytes:
        """Compact JSON, for a table."""
        return self.model_dump_json(exclude_defaults=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> SessionContext:
        """The context `to_bytes` wrote."""
        return cls.model_validate_json(raw)

    def with_subject(self, subject: SessionContext | None) -> SessionContext:
        """This hybrid's context with what is known of its user's session."""
        if subject is None or self.category is not SessionCategory.HYBRID:
            return self
        return self.model_copy(
            update={
                "subject_status": subject.status,
                "subject_status_at": subject.status_at,
                "subject_scopes": subject.scopes,
            }
        )


def _over(
    context: SessionContext, status: SessionStatus, at: datetime, reason: str
) -> SessionContext:
    if not context.active:
        return context  # the first end is the one that counts
    return context.model_copy(
        update={"status": status, "status_at": at, "status_reason": reason}
    )


def advance(context: SessionContext | None, event: AuthEvent) -> SessionContext:
    """The session's context after `event`; a context is made for unseen sessions."""
    if isinstance(event, SessionStarted):
        delegation = event.delegation
        return SessionContext(
            session_id=event.session_id,
            category=event.category,
            principal_id=event.principal.id,
            scopes=event.scopes,
            started_at=event.occurred_at,
            subject=delegation.subject if delegation else None,
            subject_session_id=delegation.subject_session_id if delegation else None,
        )
    if context is None:
        delegation = event.delegation
        context = SessionContext(
            session_id=event.session_id,
            category=event.category,
            principal_id=event.principal.id,
            subject=delegation.subject if delegation else None,
            subject_session_id=delegation.subject_session_id if delegation else None,
        )
    at = event.occurred_at
    match event:
        case TokenIssued(expires_at=expires) | TokenRefreshed(expires_at=expires):
            if expires is not None:
                return context.model_copy(update={"token_expires_at": expires})
        case SessionEnded():
            return _over(context, SessionStatus.ENDED, at, event.reason.value)
        case SessionExpired():
            over = _over(context, SessionStatus.EXPIRED, at, event.reason.value)
            if event.reason is ExpiryReason.PARENT and over.subject_status is None:
                # The ledger expires a delegate when its user's session is over.
                over = over.model_copy(
                    update={
                        "subject_status": SessionStatus.EXPIRED,
                        "subject_status_at": at,
                    }
                )
            return over
        case SessionRevoked():
            return _over(context, SessionStatus.REVOKED, at, event.reason)
    return context
