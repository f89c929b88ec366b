"""Okta System Log, native JSON and Sentinel's flattened `Okta_CL` table.

`Okta_CL` rows flatten the native event into columns such as
`authenticationContext_externalSessionId_s` (the suffix gives the column type) and
keep arrays as JSON text; they are unflattened back into the native shape first.

Event types and what they become:

- `user.session.start` → `session.started`, or `authentication.failed`;
- `user.session.end` → `session.ended`;
- `user.authentication.*`, `user.mfa.*` failures → `authentication.failed`; their
  successes are skipped, as steps of a sign-in that `user.session.start` records;
- `user.authentication.sso` → `access.recorded` on the app (denied on failure);
- `app.oauth2.*token.grant*` → `token.issued`, or `authentication.failed`.

Everything else (policy evaluations, admin changes) is skipped.

Session: `authenticationContext.externalSessionId`, else `rootSessionId`, else
derived from the actor and the hour. A token granted to an OAuth client for a user
is a hybrid session `<user session>:client:<client id>`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from ledger.logs.identity import (
    derived_session_id,
    identifier,
    optional_identifier,
    prefixed,
)
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
    EndReason,
    Event,
    FailureReason,
    PrincipalKind,
    SessionCategory,
    SessionEnded,
    SessionStarted,
    TokenIssued,
)

_SENTINEL_SUFFIXES = ("_s", "_d", "_b", "_g", "_t")
_USER_ACTORS = {"User"}
_PASSWORD_FACTORS = {"PASSWORD_AS_FACTOR", "PASSWORD", "Password"}
_FAILURES = {
    "INVALID_CREDENTIALS": FailureReason.BAD_CREDENTIALS,
    "VERIFICATION_ERROR": FailureReason.BAD_CREDENTIALS,
    "LOCKED_OUT": FailureReason.LOCKED_OUT,
    "UNKNOWN_USER": FailureReason.UNKNOWN_PRINCIPAL,
    "PASSWORD_EXPIRED": FailureReason.EXPIRED_CREDENTIAL,
    "NETWORK_ZONE_BLACKLIST": FailureReason.POLICY_DENIED,
    "DENY": FailureReason.POLICY_DENIED,
}


def recognises(body: RecordBody) -> bool:
    """Whether `body` is an Okta System Log event, native or `Okta_CL`."""
    if not isinstance(body, dict):
        return False
    if body.get("Type") == "Okta_CL" or "eventType_s" in body:
        return True
    return "eventType" in body and "published" in body and "actor" in body


def native(body: dict[str, Any]) -> dict[str, Any]:
    """The native event of an `Okta_CL` row; a native event unchanged."""
    if not (body.get("Type") == "Okta_CL" or "eventType_s" in body):
        return body
    event: dict[str, Any] = {}
    for column, value in body.items():
        if not column.endswith(_SENTINEL_SUFFIXES):
            continue
        if value in ("", "null", None):
            continue
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        *parents, leaf = column[:-2].split("_")
        node = event
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[leaf] = value
    return event


def category_of(event: dict[str, Any]) -> SessionCategory:
    """User for people, agent for apps; hybrid for a client given a user's token."""
    actor_type = text(dig(event, "actor", "type"))
    is_user = actor_type in _USER_ACTORS
    if _is_token_grant(event):
        if is_user and text(dig(event, "client", "id")):
            return SessionCategory.HYBRID
        return SessionCategory.USER if is_user else SessionCategory.AGENT
    return SessionCategory.USER if is_user else SessionCategory.AGENT


def map_event(context: RecordContext) -> Sequence[Event]:
    """One Okta event → at most one ledger event (see the module's table)."""
    if not recognises(context.body):
        raise RecordRejected("not an Okta System Log event")
    assert isinstance(context.body, dict)
    event = native(context.body)
    event_type = text(event.get("eventType")) or ""
    result = (text(dig(event, "outcome", "result")) or "").upper()
    succeeded = result in ("SUCCESS", "ALLOW")
    failed = result in ("FAILURE", "DENY")
    if not (succeeded or failed):
        return []

    is_start = event_type == "user.session.start"
    is_end = event_type == "user.session.end"
    is_step = event_type.startswith(("user.authentication.", "user.mfa."))
    is_sso = event_type == "user.authentication.sso"
    if not (is_start or is_end or is_step or _is_token_grant(event)):
        return []
    if (is_end or (is_step and not is_sso)) and succeeded:
        return []

    occurred_at = timestamp(event.get("published"), "published")
    subject = _subject(event, occurred_at)
    uuid = event.get("uuid")
    if is_sso:
        return [
            context.event(
                AccessRecorded,
                subject,
                occurred_at,
                record_id=uuid,
                resource=_app_name(event) or "okta:sso",
                operation="sso",
                outcome=AccessOutcome.ALLOWED if succeeded else AccessOutcome.DENIED,
            )
        ]
    if failed:
        return [
            context.event(
                AuthenticationFailed,
                subject,
                occurred_at,
                record_id=uuid,
                reason=_failure(event, event_type),
                detail=_detail(event),
            )
        ]
    if is_end:
        return [
            context.event(
                SessionEnded,
                subject,
                occurred_at,
                record_id=uuid,
                reason=EndReason.LOGOUT,
            )
        ]
    if is_start:
        return [
            context.event(
                SessionStarted,
                subject,
                occurred_at,
                record_id=uuid,
                mfa=_multifactor(event),
                auth_method=optional_identifier(
                    dig(event, "authenticationContext", "credentialType")
                ),
            )
        ]
    return [
        context.event(
            TokenIssued,
            subject,
            occurred_at,
            record_id=uuid,
            token_id=_token_id(event, context.record.identity),
        )
    ]


def _is_token_grant(event: dict[str, Any]) -> bool:
    event_type = str(event.get("eventType") or "")
    return event_type.startswith("app.oauth2.") and ".token.grant" in event_type


def _subject(event: dict[str, Any], occurred_at: Any) -> Subject:
    category = category_of(event)
    actor = principal(
        identifier(
            dig(event, "actor", "alternateId") or dig(event, "actor", "id"),
            "actor.alternateId",
        ),
        PrincipalKind.HUMAN
        if text(dig(event, "actor", "type")) in _USER_ACTORS
        else PrincipalKind.SERVICE_ACCOUNT,
        display_name=dig(event, "actor", "displayName"),
    )
    session = _session_id(event, actor.id, occurred_at)
    origin = _origin(event)
    if category is not SessionCategory.HYBRID:
        return Subject(
            session_id=session, category=category, principal=actor, source=origin
        )
    client_id = identifier(dig(event, "client", "id"), "client.id")
    client = principal(client_id, PrincipalKind.SERVICE_ACCOUNT)
    return Subject(
        session_id=prefixed("okta", f"{session}:client:{client_id}", "session"),
        category=category,
        principal=client,
        delegation=delegation(actor.id, session, client),
        parent_session_id=session,
        source=origin,
    )


def _session_id(event: dict[str, Any], principal_id: str, occurred_at: Any) -> str:
    context = event.get("authenticationContext") or {}
    for field in ("externalSessionId", "rootSessionId"):
        value = text(context.get(field))
        if value and value.lower() != "unknown":
            return prefixed("okta", value, field)
    return derived_session_id("okta", principal_id, occurred_at)


def _origin(event: dict[str, Any]) -> Any:
    client = event.get("client") or {}
    geo = client.get("geographicalContext") or {}
    return source(
        ip=client.get("ipAddress"),
        country=geo.get("country"),
        region=geo.get("state"),
        asn=dig(event, "securityContext", "asNumber"),
        user_agent=dig(client, "userAgent", "rawUserAgent"),
        device_id=dig(event, "device", "id")
        or dig(event, "debugContext", "debugData", "deviceFingerprint"),
    )


def _failure(event: dict[str, Any], event_type: str) -> FailureReason:
    reason = (text(dig(event, "outcome", "reason")) or "").upper()
    for marker, failure in _FAILURES.items():
        if marker in reason.replace(" ", "_"):
            return failure
    if "mfa" in event_type or "factor" in event_type:
        return FailureReason.MFA_FAILED
    return FailureReason.OTHER


def _detail(event: dict[str, Any]) -> str | None:
    parts = [
        text(event.get("displayMessage")),
        text(dig(event, "outcome", "reason")),
    ]
    detail = ": ".join(part for part in parts if part)
    return detail[:1024] or None


def _multifactor(event: dict[str, Any]) -> bool:
    # Thin evidence: Okta lists the authenticators of a sign-in as targets, and
    # the factor of the step in debugData; any besides a password counts.
    factor = text(dig(event, "debugContext", "debugData", "factor"))
    if factor and factor not in _PASSWORD_FACTORS:
        return True
    for target in event.get("target") or []:
        if (
            isinstance(target, dict)
            and target.get("type") == "AuthenticatorEnrollment"
            and text(target.get("displayName")) not in _PASSWORD_FACTORS
        ):
            return True
    return False


def _app_name(event: dict[str, Any]) -> str | None:
    for target in event.get("target") or []:
        if isinstance(target, dict) and target.get("type") == "AppInstance":
            return text(target.get("alternateId")) or text(target.get("displayName"))
    return None


def _token_id(event: dict[str, Any], record_identity: str) -> str:
    for target in event.get("target") or []:
        if isinstance(target, dict) and "token" in str(target.get("type", "")).lower():
            token = optional_identifier(target.get("id"))
            if token and len(token) <= 128:
                return token
    # The event names no token: the record's own identity stands in for it.
    return f"okta-record:{record_identity.split('#')[0]}"


FORMAT = LogFormat(
    name="okta",
    title="Okta System Log (native JSON and Sentinel Okta_CL)",
    recognises=recognises,
    mapper=stateless(map_event),
)
