"""The contract of the session ledger: events, commands, outputs and their limits.

Frozen pydantic models, parsed once from raw bytes::

    from schemas import AccessRecorded, parse_event, serialize

    event = parse_event(raw)            # raises InvalidEvent with a one-line reason
    if isinstance(event, AccessRecorded):
        ...
    raw = serialize(event)              # compact JSON; parse_event(raw) == event

Exceptions::

    ValueError
     +-- InvalidMessage          bytes that are not a valid message (`reason`)
          +-- InvalidEvent       ... not a valid event (`event_id` if found)
          +-- InvalidCommand     ... not a valid revocation command (`command_id`)

No I/O here, except `schemas.export`, which writes the JSON Schemas.
"""

from schemas.commands import (
    COMMAND_TYPES,
    Command,
    EmergencyRevoke,
    RevocationCommand,
    RevokeBySelector,
    RevokeSession,
    SessionSelector,
)
from schemas.events import (
    EVENT_TYPES,
    AccessOutcome,
    AccessRecorded,
    AuthenticationFailed,
    AuthEvent,
    ChildSessionLinked,
    EndReason,
    Event,
    ExpiryReason,
    FailureReason,
    HeartbeatReceived,
    LifecycleRequest,
    LinkKind,
    RefreshReason,
    SessionEnded,
    SessionExpired,
    SessionRevoked,
    SessionStarted,
    TaskCompleted,
    TaskOutcome,
    TaskStarted,
    TokenIssued,
    TokenRefreshed,
)
from schemas.limits import (
    DEFAULT_MAX_FUTURE_SKEW,
    EVENT_MAX_BYTES,
    SCHEMA_VERSION,
)
from schemas.outputs import (
    Alert,
    DeadLetter,
    Evidence,
    RevocationNotice,
    SessionStatus,
    SessionView,
    Severity,
    ValidityAnswer,
    Violation,
    ViolationKind,
)
from schemas.parsing import (
    InvalidCommand,
    InvalidEvent,
    InvalidMessage,
    parse_command,
    parse_event,
    serialize,
)
from schemas.values import (
    Actor,
    Delegation,
    Health,
    Identifier,
    Message,
    Principal,
    PrincipalKind,
    RevocationCause,
    Scope,
    SessionCategory,
    Source,
)

__all__ = [
    "COMMAND_TYPES",
    "DEFAULT_MAX_FUTURE_SKEW",
    "EVENT_MAX_BYTES",
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "AccessOutcome",
    "AccessRecorded",
    "Actor",
    "Alert",
    "AuthEvent",
    "AuthenticationFailed",
    "ChildSessionLinked",
    "Command",
    "DeadLetter",
    "Delegation",
    "EmergencyRevoke",
    "EndReason",
    "Event",
    "Evidence",
    "ExpiryReason",
    "FailureReason",
    "Health",
    "HeartbeatReceived",
    "Identifier",
    "InvalidCommand",
    "InvalidEvent",
    "InvalidMessage",
    "LifecycleRequest",
    "LinkKind",
    "Message",
    "Principal",
    "PrincipalKind",
    "RefreshReason",
    "RevocationCause",
    "RevocationCommand",
    "RevocationNotice",
    "RevokeBySelector",
    "RevokeSession",
    "Scope",
    "SessionCategory",
    "SessionEnded",
    "SessionExpired",
    "SessionRevoked",
    "SessionSelector",
    "SessionStarted",
    "SessionStatus",
    "SessionView",
    "Severity",
    "Source",
    "TaskCompleted",
    "TaskOutcome",
    "TaskStarted",
    "TokenIssued",
    "TokenRefreshed",
    "ValidityAnswer",
    "Violation",
    "ViolationKind",
    "parse_command",
    "parse_event",
    "serialize",
]
