"""Kubernetes API server audit logs (`audit.k8s.io/v1` and `v1beta1`).

Three envelopes of the same event are read: the audit event itself (a log backend
or webhook), AKS diagnostic logs (`category: kube-audit*`, the event under
`properties.log`, as an object or as JSON text), and GKE's Cloud Audit Logs entry
(`protoPayload.serviceName: k8s.io`).

Each request becomes one `access.recorded` (resource = the request URI, operation
= the verb; denied on 403, error on other codes from 400), or an
`authentication.failed` when the API server answered 401. Only the final stage is
kept (`ResponseComplete`, or `ResponseStarted` for long-running calls such as
exec and watch, or `Panic`); `RequestReceived` repeats the same request and is
skipped.

Session: `user.extra["authentication.kubernetes.io/credential-id"]` (the token's
JTI or the client certificate's digest) when the API server records it, else
derived from the user name and the hour. The audit id is deliberately not a
session: it names one request, so every call would be a session of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
    PrincipalKind,
    SessionCategory,
)

CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
_FINAL_STAGES = {"ResponseComplete", "ResponseStarted", "Panic"}
_AKS_CATEGORIES = {"kube-audit", "kube-audit-admin"}
# Control-plane identities of managed clusters that are not `system:` names.
_MANAGED_CONTROL_PLANE = {"aksService", "masterclient", "nodeclient"}
_ANONYMOUS = "system:anonymous"
# GKE writes the verb as the last part of the method name: io.k8s.core.v1.pods.list.
_GKE_VERBS = {
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "connect",
}


def recognises(body: RecordBody) -> bool:
    """Whether `body` is a Kubernetes audit event in one of the three envelopes."""
    if not isinstance(body, dict):
        return False
    if _is_audit_event(body):
        return True
    if body.get("category") in _AKS_CATEGORIES and dig(body, "properties", "log"):
        return True
    return dig(body, "protoPayload", "serviceName") == "k8s.io"


def category_of(username: str, extra: dict[str, Any] | None = None) -> SessionCategory:
    """Agent for service accounts and the control plane; user for everyone else.

    `system:` names (service accounts, nodes, controllers, `system:anonymous`),
    managed control planes (`aksService`) and pod-bound tokens are programs.
    Anonymous requests count as programs on thin evidence: in practice they are
    health probes and discovery; the event carries `k8s.anonymous=true`.
    """
    if username.startswith("system:") or username in _MANAGED_CONTROL_PLANE:
        return SessionCategory.AGENT
    if extra and "authentication.kubernetes.io/pod-name" in extra:
        return SessionCategory.AGENT
    return SessionCategory.USER


def map_audit(context: RecordContext) -> Sequence[Event]:
    """One audit event → `access.recorded` or `authentication.failed`."""
    body = context.body
    if not recognises(body):
        raise RecordRejected("not a Kubernetes audit event")
    assert isinstance(body, dict)
    if dig(body, "protoPayload", "serviceName") == "k8s.io":
        return map_gke(context, body)
    event = _unwrapped(body)
    if text(event.get("stage")) not in _FINAL_STAGES:
        return []

    user = event.get("user") or {}
    occurred_at = timestamp(
        event.get("stageTimestamp")
        or event.get("requestReceivedTimestamp")
        or event.get("timestamp"),
        "stageTimestamp",
    )
    subject = _subject(
        user,
        event.get("impersonatedUser"),
        occurred_at,
        ip=(event.get("sourceIPs") or [None])[0],
        user_agent=event.get("userAgent"),
    )
    code = _status_code(dig(event, "responseStatus", "code"))
    record_id = event.get("auditID")
    if code == 401:
        return [
            context.event(
                AuthenticationFailed,
                subject,
                occurred_at,
                record_id=record_id,
                reason=FailureReason.BAD_CREDENTIALS,
                detail=text(dig(event, "responseStatus", "message")),
            )
        ]
    return [
        context.event(
            AccessRecorded,
            subject,
            occurred_at,
            record_id=record_id,
            resource=(text(event.get("requestURI")) or "/")[:1024],
            operation=text(event.get("verb")) or "unknown",
            outcome=_outcome(code),
        )
    ]


def map_gke(context: RecordContext, entry: dict[str, Any]) -> Sequence[Event]:
    """A GKE Cloud Audit Logs entry of the Kubernetes API."""
    payload = entry.get("protoPayload") or {}
    username = dig(payload, "authenticationInfo", "principalEmail")
    occurred_at = timestamp(entry.get("timestamp"), "timestamp")
    subject = _subject(
        {"username": username},
        None,
        occurred_at,
        ip=dig(payload, "requestMetadata", "callerIp"),
        user_agent=dig(payload, "requestMetadata", "callerSuppliedUserAgent"),
    )
    code = _status_code(dig(payload, "status", "code")) or 0
    record_id = entry.get("insertId")
    if code == 16:  # google.rpc.Code UNAUTHENTICATED
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
    method = text(payload.get("methodName")) or "unknown"
    verb = method.rsplit(".", 1)[-1]
    return [
        context.event(
            AccessRecorded,
            subject,
            occurred_at,
            record_id=record_id,
            resource=(text(payload.get("resourceName")) or "k8s.io")[:1024],
            operation=verb if verb in _GKE_VERBS else method[:256],
            outcome=AccessOutcome.ALLOWED
            if code == 0
            else AccessOutcome.DENIED
            if code == 7  # PERMISSION_DENIED
            else AccessOutcome.ERROR,
        )
    ]


def _is_audit_event(body: dict[str, Any]) -> bool:
    # Some captures (falco's test traces) drop apiVersion; auditID and verb remain.
    if body.get("kind") != "Event":
        return False
    api_version = str(body.get("apiVersion", ""))
    if api_version:
        return api_version.startswith("audit.k8s.io/")
    return "auditID" in body and "verb" in body


def _unwrapped(body: dict[str, Any]) -> dict[str, Any]:
    if _is_audit_event(body):
        return body
    log = dig(body, "properties", "log")
    if isinstance(log, str):
        try:
            log = json.loads(log)
        except ValueError as error:
            raise RecordRejected(f"properties.log is not JSON: {error}") from error
    if not isinstance(log, dict) or not _is_audit_event(log):
        raise RecordRejected("properties.log holds no audit.k8s.io event")
    return log


def _subject(
    user: dict[str, Any],
    impersonated: dict[str, Any] | None,
    occurred_at: datetime,
    *,
    ip: object,
    user_agent: object,
) -> Subject:
    username = text(user.get("username"))
    if username is None:
        raise RecordRejected("user.username is missing")
    extra = user.get("extra") or {}
    category = category_of(username, extra)
    who = principal(
        identifier(username, "user.username"),
        PrincipalKind.SERVICE_ACCOUNT
        if category is SessionCategory.AGENT
        else PrincipalKind.HUMAN,
    )
    session = _session_id(who.id, extra, occurred_at)
    origin = source(ip=ip, user_agent=user_agent)
    labels = {"k8s.anonymous": "true"} if username == _ANONYMOUS else {}
    acted_for = text((impersonated or {}).get("username"))
    if (
        acted_for
        and category is SessionCategory.AGENT
        and category_of(acted_for) is SessionCategory.USER
    ):
        # A proxy (an agent) impersonating a person acts for that person.
        person = identifier(acted_for, "impersonatedUser.username")
        person_session = derived_session_id("k8s", person, occurred_at)
        return Subject(
            session_id=session,
            category=SessionCategory.HYBRID,
            principal=who,
            delegation=delegation(person, person_session, who),
            source=origin,
            labels=labels,
        )
    return Subject(
        session_id=session,
        category=category,
        principal=who,
        source=origin,
        labels=labels,
    )


def _session_id(principal_id: str, extra: dict[str, Any], at: datetime) -> str:
    credential = extra.get(CREDENTIAL_ID)
    if isinstance(credential, list):
        credential = credential[0] if credential else None
    if text(credential):
        return prefixed("k8s", credential, CREDENTIAL_ID)
    return derived_session_id("k8s", principal_id, at)


def _status_code(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _outcome(code: int | None) -> AccessOutcome:
    if code is None or code < 400:
        return AccessOutcome.ALLOWED
    if code == 403:
        return AccessOutcome.DENIED
    return AccessOutcome.ERROR


FORMAT = LogFormat(
    name="kubernetes",
    title="Kubernetes audit logs (audit.k8s.io, AKS and GKE envelopes)",
    recognises=recognises,
    mapper=stateless(map_audit),
)
