"""What the ledger publishes: alerts, session views, validity answers, revocation
notices and dead letters.
"""

from __future__ import annotations

import base64
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID, uuid5

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from schemas.limits import EVIDENCE_MAX
from schemas.values import (
    Delegation,
    Health,
    Identifier,
    Message,
    Principal,
    RevocationCause,
    Scope,
    SessionCategory,
    ShortText,
    Text,
    UtcDatetime,
)

CAEP_SESSION_REVOKED = (
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
)


def _decode_base64(value: object) -> object:
    # JSON carries bytes as standard (not URL-safe) base64; Python callers pass bytes.
    if isinstance(value, str):
        return base64.b64decode(value, validate=True)
    return value


def _encode_base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


Base64Bytes = Annotated[
    bytes,
    BeforeValidator(_decode_base64),
    PlainSerializer(_encode_base64, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
"""Raw bytes in Python, standard base64 (RFC 4648 §4) in JSON."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class Severity(StrEnum):
    """How urgent an alert is; compares by rank, so `max()` gives the most severe."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 4 for critical."""
        return _SEVERITY_RANKS[self]

    # A StrEnum would otherwise order alphabetically: "critical" < "high".
    def __lt__(self, other: object) -> bool:
        return self.rank < _rank_of(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= _rank_of(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > _rank_of(other)

    def __ge__(self, other: object) -> bool:
        return self.rank >= _rank_of(other)


_SEVERITY_RANKS = {severity: rank for rank, severity in enumerate(Severity)}


def _rank_of(other: object) -> int:
    if not isinstance(other, str):
        raise TypeError(f"cannot compare a severity with {type(other).__name__}")
    return _SEVERITY_RANKS[Severity(other)]


class Evidence(Message):
    """One observation behind an alert, beside the baseline it departs from."""

    feature: Identifier
    value: FiniteFloat | Text
    baseline: FiniteFloat | Text | None = None
    detail: Text | None = None


class Alert(Message):
    """A detector's finding about a principal, with its plain-language reason."""

    alert_id: UUID
    detector: Identifier
    category: SessionCategory
    principal_id: Identifier
    session_id: Identifier | None = None
    severity: Severity
    score: FiniteFloat
    explanation: Text
    evidence: tuple[Evidence, ...] = Field((), max_length=EVIDENCE_MAX)
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    count: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _seen_in_order(self) -> Alert:
        if self.last_seen < self.first_seen:
            raise ValueError("last_seen is before first_seen")
        return self


class SessionStatus(StrEnum):
    """Where a session is in its life; every status but active is final."""

    ACTIVE = "active"
    ENDED = "ended"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ViolationKind(StrEnum):
    """A use of a session that its state or grant did not allow."""

    USE_AFTER_END = "use_after_end"
    USE_AFTER_REVOCATION = "use_after_revocation"
    OUT_OF_SCOPE = "out_of_scope"
    SCOPE_BEYOND_SUBJECT = "scope_beyond_subject"


class Violation(Message):
    """One recorded violation of a session."""

    kind: ViolationKind
    at: UtcDatetime
    detail: Text | None = None
    event_id: UUID | None = Field(None, description="The offending event.")


class SessionView(Message):
    """The public view of one session's state, as folded from its events."""

    session_id: Identifier
    category: SessionCategory
    principal: Principal
    delegation: Delegation | None = None
    parent_session_id: Identifier | None = None
    children: tuple[Identifier, ...] = ()
    scopes: tuple[Scope, ...] = ()
    task_id: Identifier | None = None
    status: SessionStatus
    status_reason: Text | None = None
    started_at: UtcDatetime
    ended_at: UtcDatetime | None = None
    last_activity_at: UtcDatetime | None = None
    last_heartbeat_at: UtcDatetime | None = None
    health: Health | None = None
    idle_deadline: UtcDatetime | None = None
    absolute_deadline: UtcDatetime | None = None
    heartbeat_deadline: UtcDatetime | None = None
    refresh_count: int = Field(0, ge=0)
    violations: tuple[Violation, ...] = ()
    revocation_cause: RevocationCause | None = None
    revocation_command_id: UUID | None = None
    cascade_root: Identifier | None = Field(
        None, description="The session whose revocation revoked this one."
    )


class ValidityAnswer(Message):
    """The answer to "may this session still be used?" for an enforcement point."""

    session_id: Identifier
    active: bool
    status: SessionStatus | None = Field(
        None, description="None when the ledger has never seen the session."
    )
    reason: Text | None = None
    category: SessionCategory | None = None
    principal_id: Identifier | None = None
    scopes: tuple[Scope, ...] = ()
    expires_at: UtcDatetime | None = None
    refresh_after: UtcDatetime | None = Field(
        None, description="When the holder should refresh its token."
    )
    checked_at: UtcDatetime


_INITIATING_ENTITY = {
    RevocationCause.COMMAND: "admin",
    RevocationCause.SELECTOR: "admin",
    RevocationCause.EMERGENCY: "admin",
    RevocationCause.CASCADE: "system",
    RevocationCause.POLICY: "policy",
}


class RevocationNotice(Message):
    """One revoked session, for enforcement points on `session.revocations`."""

    session_id: Identifier
    principal_id: Identifier
    category: SessionCategory
    command_id: UUID
    cause: RevocationCause
    reason: Text
    cascade_root: Identifier
    revoked_at: UtcDatetime

    def as_caep_set(self, issuer: str, audience: str | None = None) -> dict[str, Any]:
        """The OpenID CAEP "session-revoked" Security Event Token payload.

        Unsigned: this is the JWT claims set (RFC 8417); sign it before sending it
        to a receiver that expects a SET. The subject appears both as the top-level
        `sub_id` (SSF 1.0) and inside the event (earlier CAEP drafts). `iat` is the
        revocation time and `jti` derives from command and session, so that a
        replayed notice yields the same token.
        """
        timestamp = int(self.revoked_at.timestamp())
        payload: dict[str, Any] = {
            "iss": issuer,
            "iat": timestamp,
            "jti": uuid5(self.command_id, self.session_id).hex,
            "sub_id": {"format": "opaque", "id": self.session_id},
            "events": {
                CAEP_SESSION_REVOKED: {
                    "subject": {"format": "opaque", "id": self.session_id},
                    "event_timestamp": timestamp,
                    "initiating_entity": _INITIATING_ENTITY[self.cause],
                    "reason_admin": {"en": self.reason},
                }
            },
        }
        if audience is not None:
            payload["aud"] = audience
        return payload


class DeadLetter(Message):
    """Input that failed validation, kept byte for byte on `auth.events.dlq`."""

    reason: Text
    source_topic: Identifier = Field(
        description='Where the input came from: a topic, or "http" for POST /events.'
    )
    partition: int | None = Field(None, ge=0)
    offset: int | None = Field(None, ge=0)
    key: Base64Bytes | None = None
    original: Base64Bytes
    truncated: bool = Field(
        False, description="The original was cut to fit the topic's message size."
    )
    event_id: ShortText | None = Field(
        None, description="The event id found in the input, if any (unverified)."
    )
    received_at: UtcDatetime
