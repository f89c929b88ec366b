"""One valid example of every wire model, for tests, benchmarks and docs.

The examples tell one story on 3 March 2025: Alice (a human) logs in, her
document-processing agent runs a task, and a copilot acts for her in a hybrid
session. Every id is fixed, so the examples serialize to the same bytes each run.

    from schemas.examples import example
    event = example(AccessRecorded, event_id=uuid4(), resource="s3://other")
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.commands import (
    EmergencyRevoke,
    RevokeBySelector,
    RevokeSession,
    SessionSelector,
)
from schemas.events import (
    AccessOutcome,
    AccessRecorded,
    AuthenticationFailed,
    ChildSessionLinked,
    EndReason,
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
from schemas.values import (
    Actor,
    Delegation,
    Health,
    Message,
    Principal,
    PrincipalKind,
    RevocationCause,
    Scope,
    SessionCategory,
    Source,
)

M = TypeVar("M", bound=Message)

EXAMPLE_TIME = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
USER_SESSION = "sess-user-7f3a"
AGENT_SESSION = "sess-agent-5b21"
HYBRID_SESSION = "sess-hybrid-91c0"

ALICE = Principal(
    id="alice@example.com",
    kind=PrincipalKind.HUMAN,
    tenant="acme",
    roles=("finance-analyst",),
    display_name="Alice Martin",
)
DOC_AGENT = Principal(
    id="svc-docproc@acme",
    kind=PrincipalKind.AI_AGENT,
    tenant="acme",
    owner="alice@example.com",
    roles=("reader",),
    agent_type="document_processor",
)
COPILOT = Principal(
    id="agent:copilot-42",
    kind=PrincipalKind.AI_AGENT,
    tenant="acme",
    owner="alice@example.com",
    agent_type="copilot",
)
INVOICES = Scope(resource="s3://acme-invoices/*", operations=("read", "list"))


def _id(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:session-ledger:example:{name}")


def _at(minutes: float) -> datetime:
    return EXAMPLE_TIME + timedelta(minutes=minutes)


def _agent_envelope(name: str, minutes: float) -> dict[str, Any]:
    return {
        "event_id": _id(name),
        "occurred_at": _at(minutes),
        "session_id": AGENT_SESSION,
        "category": SessionCategory.AGENT,
        "principal": DOC_AGENT,
        "parent_session_id": USER_SESSION,
        "source": Source(ip="10.20.0.7", cloud_region="eu-west-1", asn=16509),
        "labels": {"env": "prod", "team": "finance"},
    }


def started(category: SessionCategory | str) -> SessionStarted:
    """The start of the example user, agent or hybrid session."""
    match SessionCategory(category):
        case SessionCategory.USER:
            return SessionStarted(
                event_id=_id("user-started"),
                occurred_at=_at(0),
                session_id=USER_SESSION,
                category=SessionCategory.USER,
                principal=ALICE,
                source=Source(
                    ip="203.0.113.9",
                    country="DE",
                    region="Berlin",
                    asn=3320,
                    user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0",
                    device_id="dev-laptop-0042",
                ),
                scopes=(INVOICES, Scope(resource="app:ledger/*", operations=("*",))),
                mfa=True,
                auth_method="oidc",
            )
        case SessionCategory.AGENT:
            return SessionStarted(
                **_agent_envelope("agent-started", 1),
                lifecycle=LifecycleRequest(
                    task_id="task-invoice-batch-0303",
                    heartbeat_ttl_seconds=60,
                    max_lifetime_seconds=12 * 3600,
                ),
                scopes=(INVOICES,),
                auth_method="client_credentials",
            )
        case SessionCategory.HYBRID:
            return SessionStarted(
                event_id=_id("hybrid-started"),
                occurred_at=_at(2),
                session_id=HYBRID_SESSION,
                category=SessionCategory.HYBRID,
                principal=COPILOT,
                delegation=Delegation(
                    subject=ALICE.id,
                    subject_session_id=USER_SESSION,
                    actors=(Actor(id=COPILOT.id, kind=PrincipalKind.AI_AGENT),),
                ),
                parent_session_id=USER_SESSION,
                scopes=(
                    Scope(resource="s3://acme-invoices/2025/*", operations=("read",)),
                ),
                auth_method="urn:ietf:params:oauth:grant-type:token-exchange",
            )


def examples() -> dict[type[Message], Message]:
    """One valid instance of every event, command and output model."""
    revoke_command = _id("revoke-command")
    items: list[Message] = [
        started(SessionCategory.AGENT),
        TokenIssued(
            **_agent_envelope("token-issued", 1.01),
            token_id="sha256:9f2c1e07d4",
            expires_at=_at(61),
            scopes=(INVOICES,),
        ),
        TokenRefreshed(
            **_agent_envelope("token-refreshed", 50),
            reason=RefreshReason.PROACTIVE,
            token_id="sha256:4b7aa0c3e1",
            expires_at=_at(110),
        ),
        HeartbeatReceived(**_agent_envelope("heartbeat", 2), health=Health.DEGRADED),
        AccessRecorded(
            **_agent_envelope("access", 3),
            resource="s3://acme-invoices/2025/03/inv-0042.pdf",
            operation="read",
            outcome=AccessOutcome.ALLOWED,
        ),
        AuthenticationFailed(
            event_id=_id("auth-failed"),
            occurred_at=_at(-1),
            session_id="sess-user-failed-1",
            category=SessionCategory.USER,
            principal=ALICE,
            source=Source(ip="2001:db8::17", country="DE"),
            reason=FailureReason.MFA_FAILED,
            detail="push notification denied",
        ),
        TaskStarted(
            **_agent_envelope("task-started", 1.5),
            task_id="task-invoice-batch-0303",
            description="Extract totals from March invoices",
        ),
        TaskCompleted(
            **_agent_envelope("task-completed", 95),
            task_id="task-invoice-batch-0303",
            outcome=TaskOutcome.SUCCEEDED,
        ),
        SessionEnded(
            **_agent_envelope("session-ended", 96), reason=EndReason.COMPLETED
        ),
        SessionExpired(
            **_agent_envelope("session-expired", 4),
            reason=ExpiryReason.HEARTBEAT,
            deadline=_at(3),
        ),
        SessionRevoked(
            **_agent_envelope("session-revoked", 5),
            reason="agent read outside its task's folder",
            cause=RevocationCause.CASCADE,
            requester="secops@example.com",
            command_id=revoke_command,
            cascade_root=USER_SESSION,
        ),
        ChildSessionLinked(
            event_id=_id("child-linked"),
            occurred_at=_at(1),
            session_id=USER_SESSION,
            category=SessionCategory.USER,
            principal=ALICE,
            child_session_id=AGENT_SESSION,
            link=LinkKind.CHILD,
            child_category=SessionCategory.AGENT,
        ),
        RevokeSession(
            command_id=revoke_command,
            issued_at=_at(5),
            requester="secops@example.com",
            reason="suspected credential theft",
            session_id=USER_SESSION,
        ),
        RevokeBySelector(
            command_id=_id("revoke-selector"),
            issued_at=_at(6),
            requester="secops@example.com",
            reason="document_processor v2.3 leaks temp files",
            selector=SessionSelector(
                category=SessionCategory.AGENT,
                agent_type="document_processor",
                labels={"env": "prod"},
            ),
        ),
        EmergencyRevoke(
            command_id=_id("revoke-emergency"),
            issued_at=_at(7),
            requester="ciso@example.com",
            reason="agent platform compromise",
        ),
        Alert(
            alert_id=_id("alert"),
            detector="agent_scope_drift",
            category=SessionCategory.AGENT,
            principal_id=DOC_AGENT.id,
            session_id=AGENT_SESSION,
            severity=Severity.HIGH,
            score=0.93,
            explanation="The agent read 40 objects outside its usual prefix.",
            evidence=(
                Evidence(
                    feature="distinct_prefixes",
                    value=7.0,
                    baseline=1.2,
                    detail="per 10 minutes",
                ),
                Evidence(feature="resource", value="s3://acme-hr/*"),
            ),
            first_seen=_at(3),
            last_seen=_at(4.5),
            count=40,
        ),
        SessionView(
            session_id=AGENT_SESSION,
            category=SessionCategory.AGENT,
            principal=DOC_AGENT,
            parent_session_id=USER_SESSION,
            scopes=(INVOICES,),
            task_id="task-invoice-batch-0303",
            status=SessionStatus.ACTIVE,
            started_at=_at(1),
            last_activity_at=_at(3),
            last_heartbeat_at=_at(2),
            health=Health.DEGRADED,
            heartbeat_deadline=_at(3),
            absolute_deadline=_at(721),
            refresh_count=1,
            violations=(
                Violation(
                    kind=ViolationKind.OUT_OF_SCOPE,
                    at=_at(3.5),
                    detail="write on s3://acme-invoices/2025/03/inv-0042.pdf",
                    event_id=_id("access-write"),
                ),
            ),
        ),
        ValidityAnswer(
            session_id=AGENT_SESSION,
            active=True,
            status=SessionStatus.ACTIVE,
            category=SessionCategory.AGENT,
            principal_id=DOC_AGENT.id,
            scopes=(INVOICES,),
            expires_at=_at(3),
            refresh_after=_at(2.5),
            checked_at=_at(2.2),
        ),
        RevocationNotice(
            session_id=AGENT_SESSION,
            principal_id=DOC_AGENT.id,
            category=SessionCategory.AGENT,
            command_id=revoke_command,
            cause=RevocationCause.CASCADE,
            reason="suspected credential theft",
            cascade_root=USER_SESSION,
            revoked_at=_at(5),
        ),
        DeadLetter(
            reason="occurred_at: timezone missing (naive datetime)",
            source_topic="auth.events",
            partition=3,
            offset=1042,
            key=AGENT_SESSION.encode(),
            original=b'{"type":"heartbeat.received","occurred_at":"2025-03-03T09:02:00"}',
            received_at=_at(2),
        ),
    ]
    return {type(item): item for item in items}


def example(model: type[M], **changes: Any) -> M:
    """The example of `model`, with `changes` applied and validated."""
    base = examples()[model]
    return model.model_validate({**base.model_dump(), **changes})
