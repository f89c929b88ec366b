"""The events of the ledger: one frozen model per event type, named in the past tense.

Every event shares the envelope in `Event`. `AuthEvent` is the union of all event
types, discriminated by `type`; parse it from bytes with `schemas.parse_event`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.limits import (
    DEFAULT_MAX_FUTURE_SKEW,
    IDENTIFIER_PATTERN,
    SCHEMA_VERSION,
    SCOPES_MAX,
    TOKEN_ID_MAX,
)
from schemas.outputs import ViolationKind
from schemas.values import (
    Delegation,
    Health,
    Identifier,
    Labels,
    Message,
    Name,
    Principal,
    Resource,
    RevocationCause,
    Scope,
    SessionCategory,
    Source,
    Text,
    UtcDatetime,
    as_utc,
    require_discriminator,
)


def _not_a_whole_token(value: str) -> str:
    # A JWS/JWE compact serialization starts with a base64url '{"' ("eyJ").
    if value.startswith("eyJ") and value.count(".") >= 2:
        raise ValueError("looks like a whole JWT; send a fingerprint, never the token")
    return value


TokenId = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=TOKEN_ID_MAX, pattern=IDENTIFIER_PATTERN
    ),
    AfterValidator(_not_a_whole_token),
]
"""A token fingerprint (e.g. a hash or `jti`), never the token itself."""


class RefreshReason(StrEnum):
    """Why a token was refreshed."""

    PROACTIVE = "proactive"
    BULK = "bulk"
    HEALTH = "health"
    EXPIRY = "expiry"


class AccessOutcome(StrEnum):
    """How an access attempt ended."""

    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


class FailureReason(StrEnum):
    """Why an authentication failed."""

    BAD_CREDENTIALS = "bad_credentials"
    MFA_FAILED = "mfa_failed"
    UNKNOWN_PRINCIPAL = "unknown_principal"
    LOCKED_OUT = "locked_out"
    EXPIRED_CREDENTIAL = "expired_credential"
    POLICY_DENIED = "policy_denied"
    OTHER = "other"


class TaskOutcome(StrEnum):
    """How a task ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class EndReason(StrEnum):
    """Why a session ended on its own terms."""

    LOGOUT = "logout"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class ExpiryReason(StrEnum):
    """Which deadline expired a session."""

    IDLE = "idle"
    ABSOLUTE = "absolute"
    HEARTBEAT = "heartbeat"
    TASK = "task"
    PARENT = "parent"


class LinkKind(StrEnum):
    """How a session is tied to the parent it was linked to."""

    CHILD = "child"
    DELEGATE = "delegate"


class Event(Message):
    """The envelope every event carries."""

    model_config = ConfigDict(json_schema_extra=require_discriminator)

    event_id: UUID = Field(description="Producer-chosen; consumers de-duplicate on it.")
    type: str
    occurred_at: AwareDatetime = Field(
        description="Event time, UTC. At most a few minutes ahead of the ledger."
    )
    received_at: UtcDatetime | None = Field(
        None, description="Set by the ledger when it appends the event."
    )
    session_id: Identifier
    category: SessionCategory
    principal: Principal
    delegation: Delegation | None = None
    parent_session_id: Identifier | None = None
    source: Source | None = None
    labels: Labels = Field(default_factory=dict)
    schema_version: int = Field(SCHEMA_VERSION, ge=1)

    @field_validator("occurred_at")
    @classmethod
    def _utc_and_not_in_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        # One Python call for both steps: this field is on the hot path.
        value = as_utc(value)

        # Past event times of any age are fine: replays and simulations use them.
        context: dict[str, Any] = info.context or {}
        now = context.get("now") or datetime.now(UTC)
        skew = context.get("max_future_skew")
        if skew is None:
            skew = DEFAULT_MAX_FUTURE_SKEW
        if value - now > skew:
            raise ValueError(
                f"{value.isoformat()} is more than {skew.total_seconds():g}s "
                f"ahead of now ({now.isoformat()})"
            )
        return value


class LifecycleRequest(Message):
    """What should end the session, as asked by its producer; policy may tighten it."""

    task_id: Identifier | None = Field(
        None, description="Task-bound: the session ends when this task completes."
    )
    heartbeat_ttl_seconds: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="Heartbeat-bound: the session expires this long after a beat.",
    )
    max_lifetime_seconds: float | None = Field(None, gt=0, allow_inf_nan=False)


class SessionStarted(Event):
    """A session began; a hybrid session names who it acts for."""

    type: Literal["session.started"] = "session.started"
    lifecycle: LifecycleRequest = Field(default_factory=LifecycleRequest)
    scopes: tuple[Scope, ...] = Field((), max_length=SCOPES_MAX)
    mfa: bool = False
    auth_method: Identifier | None = None

    @model_validator(mode="after")
    def _delegation_matches_category(self) -> SessionStarted:
        if self.category is SessionCategory.HYBRID:
            if self.delegation is None:
                raise ValueError(
                    "a hybrid session must carry a delegation (the user it acts for)"
                )
            if self.delegation.actors[0].id != self.principal.id:
                raise ValueError(
                    "delegation.actors[0] must be the session's own principal"
                )
        elif self.delegation is not None:
            raise ValueError(
                f"only hybrid sessions carry a delegation, not {self.category}"
            )
        if self.parent_session_id == self.session_id:
            raise ValueError("a session cannot be its own parent")
        return self


class TokenIssued(Event):
    """A token was issued to the session."""

    type: Literal["token.issued"] = "token.issued"
    token_id: TokenId
    expires_at: UtcDatetime | None = None
    scopes: tuple[Scope, ...] | None = Field(None, max_length=SCOPES_MAX)


class TokenRefreshed(Event):
    """The session's token was refreshed."""

    type: Literal["token.refreshed"] = "token.refreshed"
    reason: RefreshReason
    token_id: TokenId
    expires_at: UtcDatetime | None = None


class HeartbeatReceived(Event):
    """An agent reported that it is alive."""

    type: Literal["heartbeat.received"] = "heartbeat.received"
    health: Health = Health.HEALTHY


class AccessRecorded(Event):
    """The session touched a resource."""

    type: Literal["access.recorded"] = "access.recorded"
    resource: Resource
    operation: Name
    outcome: AccessOutcome = AccessOutcome.ALLOWED


class AuthenticationFailed(Event):
    """A login or token request was refused."""

    type: Literal["authentication.failed"] = "authentication.failed"
    reason: FailureReason
    detail: Text | None = None


class TaskStarted(Event):
    """An agent started a unit of work."""

    type: Literal["task.started"] = "task.started"
    task_id: Identifier
    description: Text | None = None


class TaskCompleted(Event):
    """An agent finished a unit of work."""

    type: Literal["task.completed"] = "task.completed"
    task_id: Identifier
    outcome: TaskOutcome


class SessionEnded(Event):
    """The session ended normally."""

    type: Literal["session.ended"] = "session.ended"
    reason: EndReason


class SessionExpired(Event):
    """The ledger expired the session because a deadline passed."""

    type: Literal["session.expired"] = "session.expired"
    reason: ExpiryReason
    deadline: UtcDatetime


class SessionRevoked(Event):
    """The ledger revoked the session."""

    type: Literal["session.revoked"] = "session.revoked"
    reason: Text
    cause: RevocationCause
    requester: Identifier
    command_id: UUID
    cascade_root: Identifier = Field(
        description="The session the revocation was aimed at; itself unless cascaded."
    )
    cascade: bool = Field(
        True,
        description="Whether the sessions started below this one are revoked with "
        "it; delegates (hybrids acting for it) always are.",
    )
    violation: ViolationKind | None = Field(
        None,
        description="The violation that made the ledger revoke by policy, if any.",
    )


class ChildSessionLinked(Event):
    """A child or delegate session started; recorded on the parent's partition.

    `session_id` is the parent. The ledger appends this event itself, with the
    parent's category and principal as far as it knows them; take the parent's
    identity from its own `session.started`, not from here.
    """

    type: Literal["session.child_linked"] = "session.child_linked"
    child_session_id: Identifier
    link: LinkKind
    child_category: SessionCategory
    child_principal: Principal | None = Field(
        None, description="The child's principal, so that cascades can address it."
    )
    child_scopes: tuple[Scope, ...] = Field(
        (),
        max_length=SCOPES_MAX,
        description="The child's grant, checked against a delegate's user session.",
    )

    @model_validator(mode="after")
    def _not_self(self) -> ChildSessionLinked:
        if self.child_session_id == self.session_id:
            raise ValueError("a session cannot be linked as its own child")
        return self


AuthEvent = Annotated[
    SessionStarted
    | TokenIssued
    | TokenRefreshed
    | HeartbeatReceived
    | AccessRecorded
    | AuthenticationFailed
    | TaskStarted
    | TaskCompleted
    | SessionEnded
    | SessionExpired
    | SessionRevoked
    | ChildSessionLinked,
    Field(discriminator="type"),
]
"""Any event of the ledger, discriminated by `type`."""

EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        SessionStarted,
        TokenIssued,
        TokenRefreshed,
        HeartbeatReceived,
        AccessRecorded,
        AuthenticationFailed,
        TaskStarted,
        TaskCompleted,
        SessionEnded,
        SessionExpired,
        SessionRevoked,
        ChildSessionLinked,
    )
}
"""Event class by `type` string."""
