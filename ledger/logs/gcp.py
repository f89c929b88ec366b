"""Google Cloud Audit Logs (`LogEntry` with an `AuditLog` protoPayload).

Entries of the Kubernetes API (`serviceName: k8s.io`) are mapped as the
`kubernetes` format maps GKE entries, so both formats agree on them.

- iamcredentials `GenerateAccessToken`, `GenerateIdToken`, `SignJwt`, `SignBlob`
  → `token.issued` for the target service account;
- status 16 (UNAUTHENTICATED) → `authentication.failed`;
- any other call → `access.recorded` (denied on 7, PERMISSION_DENIED; error on
  other codes).

Category: service accounts (`*.gserviceaccount.com`), workload identity
federation (`principal://`), and `system:` names are agents; a service account
used through a person's impersonation (`serviceAccountDelegationInfo` naming a
first-party principal that is not a service account) is a hybrid acting for that
person, and so is a token a person asks for a service account. Everyone else is a
user. The logs hold no session or token id: sessions are derived from the
principal and the hour, and a token's id is the entry's `insertId`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ledger.logs import kubernetes
from ledger.logs.identity import derived_session_id, identifier, prefixed
from ledger.logs.mapping import (
    LogFormat,
    RecordContext,
    Subject,
    delegation,
    dig,
    principal,
    stateless,
    text,
)
from ledger.logs.origin import source
from ledger.logs.records import RecordBody, RecordRejected
from ledger.logs.timestamps import timestamp
from schemas import (
    AccessOutcome,
    AccessRecorded,
    AuthenticationFailed,
    Event,
    FailureReason,
    Principal,
    PrincipalKind,
    SessionCategory,
    TokenIssued,
)

AUDIT_LOG_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"
TOKEN_METHODS = {"GenerateAccessToken", "GenerateIdToken", "SignJwt", "SignBlob"}
_UNAUTHENTICATED = 16
_PERMISSION_DENIED = 7


def recognises(body: RecordBody) -> bool:
    """Whether `body` is a Cloud Audit Logs entry."""
    return isinstance(body, dict) and dig(body, "protoPayload", "@type") == (
        AUDIT_LOG_TYPE
    )


def is_program(principal_id: str) -> bool:
    """Whether a GCP principal is a program rather than a person."""
    return (
        principal_id.endswith(".gserviceaccount.com")
        or principal_id.startswith(("principal://", "principalSet://", "system:"))
        or "serviceAccounts/" in principal_id
    )


def category_of(payload: dict[str, Any]) -> SessionCategory:
    """Agent for service accounts and workloads, hybrid when a person drives one."""
    caller = _caller_id(payload)
    if caller is None:
        return SessionCategory.USER
    if is_program(caller):
        return (
            SessionCategory.HYBRID
            if _delegating_person(payload)
            else (SessionCategory.AGENT)
        )
    if _method(payload) in TOKEN_METHODS:
        return SessionCategory.HYBRID
    return SessionCategory.USER


def map_entry(context: RecordContext) -> Sequence[Event]:
    """One audit log entry → one event (see the module's table)."""
    body = context.body
    if not recognises(body):
        raise RecordRejected("not a Cloud Audit Logs entry")
    assert isinstance(body, dict)
    payload = body["protoPayload"]
    if payload.get("serviceName") == "k8s.io":
        return kubernetes.map_gke(context, body)
    occurred_at = timestamp(body.get("timestamp"), "timestamp")
    subject = _subject(payload, occurred_at)
    code = _code(payload)
    record_id = body.get("insertId")
    method = _method(payload)
    if code == _UNAUTHENTICATED:
        return [
            context.event(
                AuthenticationFailed,
                subject,
                occurred_at,
                record_id=record_id,
                reason=FailureReason.BAD_CREDENTIALS,
                detail=text(dig(payload, "status", "message")),
            )
        ]
    if method in TOKEN_METHODS and code == 0:
        insert_id = text(record_id)
        if insert_id is None:
            raise RecordRejected(f"{method} entry has no insertId to name the token")
        return [
            context.event(
                TokenIssued,
                subject,
                occurred_at,
                record_id=record_id,
                token_id=prefixed("gcp", insert_id, "insertId"),
            )
        ]
    outcome = AccessOutcome.ALLOWED
    if code == _PERMISSION_DENIED:
        outcome = AccessOutcome.DENIED
    elif code:
        outcome = AccessOutcome.ERROR
    return [
        context.event(
            AccessRecorded,
            subject,
            occurred_at,
            record_id=record_id,
            resource=(
                text(payload.get("resourceName"))
                or text(payload.get("serviceName"))
                or "gcp"
            )[:1024],
            operation=method[:256],
            outcome=outcome,
        )
    ]


def _subject(payload: dict[str, Any], occurred_at: datetime) -> Subject:
    caller_id = identifier(_caller_id(payload), "authenticationInfo.principalEmail")
    category = category_of(payload)
    origin = source(
        ip=dig(payload, "requestMetadata", "callerIp"),
        user_agent=dig(payload, "requestMetadata", "callerSuppliedUserAgent"),
    )
    caller = principal(
        caller_id,
        PrincipalKind.SERVICE_ACCOUNT if is_program(caller_id) else PrincipalKind.HUMAN,
    )
    if _method(payload) in TOKEN_METHODS and category is SessionCategory.AGENT:
        # A program minting a service account's token: the token is the account's.
        target = _target_account(payload)
        return Subject(
            session_id=derived_session_id("gcp", target.id, occurred_at),
            category=category,
            principal=target,
            source=origin,
            labels={"gcp.caller": caller_id},
        )
    if category is not SessionCategory.HYBRID:
        return Subject(
            session_id=derived_session_id("gcp", caller_id, occurred_at),
            category=category,
            principal=caller,
            source=origin,
        )
    if is_program(caller_id):
        person = identifier(_delegating_person(payload), "firstPartyPrincipal")
        actor = caller
    else:
        person = caller_id
        actor = _target_account(payload)
    person_session = derived_session_id("gcp", person, occurred_at)
    return Subject(
        session_id=derived_session_id("gcp", f"{actor.id}|{person}", occurred_at),
        category=category,
        principal=actor,
        delegation=delegation(person, person_session, actor),
        source=origin,
    )


def _caller_id(payload: dict[str, Any]) -> str | None:
    info = payload.get("authenticationInfo") or {}
    return text(info.get("principalEmail")) or text(info.get("principalSubject"))


def _delegating_person(payload: dict[str, Any]) -> str | None:
    chain = dig(payload, "authenticationInfo", "serviceAccountDelegationInfo") or []
    for link in chain:
        email = text(dig(link, "firstPartyPrincipal", "principalEmail"))
        if email and not is_program(email):
            return email
    return None


def _target_account(payload: dict[str, Any]) -> Principal:
    name = text(dig(payload, "request", "name")) or text(payload.get("resourceName"))
    account = (name or "").rsplit("/", 1)[-1]
    return principal(identifier(account, "request.name"), PrincipalKind.SERVICE_ACCOUNT)


def _method(payload: dict[str, Any]) -> str:
    method = text(payload.get("methodName")) or "unknown"
    # iamcredentials writes a bare name; others write a dotted path.
    return method.rsplit(".", 1)[-1] if method.startswith("google.") else method


def _code(payload: dict[str, Any]) -> int:
    try:
        return int(dig(payload, "status", "code") or 0)
    except (TypeError, ValueError):
        return -1


FORMAT = LogFormat(
    name="gcp",
    title="Google Cloud Audit Logs",
    recognises=recognises,
    mapper=stateless(map_entry),
)
