"""OCSF Authentication events (class_uid 3002), OCSF 1.0 to 1.5.

Other OCSF classes are skipped.

- a failure (`status_id` 2) of any activity → `authentication.failed`;
- a successful (`status_id` 1) Logon → `session.started` (MFA from `is_mfa`);
  Logoff → `session.ended`; Authentication Ticket, Service Ticket Request and
  Renew (activities 3-5) → `token.issued`;
- other activities (Preauth, Other, Unknown) and events whose status is unknown
  are skipped.

Principal: `user` (the account authenticated): its `email_addr`, else
`name@domain`, else `uid`. Identities are flatter in OCSF than in the source log,
so the same event mapped from its native log may name the principal differently
(Okta's `alternateId` and OCSF's `email_addr` agree; a Windows SID does not).

Session: `session.uid` (with `device.hostname` when present, as Windows logon ids
are per computer), else `actor.session.uid` when the actor is the user, else
derived from the principal and the hour.

Category: `user.type_id` 3 (System), service and batch logons (`logon_type_id` 4,
5) and Windows machine and service accounts are agents; an `actor.app_name` or
`actor.app_uid` acting for a human user makes a hybrid; everyone else is a user.

Time: `time_dt` when present, else `time`, read as milliseconds (the OCSF unit)
or, when below 10^11, as seconds (some published samples write seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ledger.logs import windows
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

AUTHENTICATION = 3002
LOGON, LOGOFF = 1, 2
TICKETS = {3, 4, 5}
SUCCESS, FAILURE = 1, 2
SYSTEM_USER = 3
_NO_SESSION = {"", "-", "0x0", "0"}


def recognises(body: RecordBody) -> bool:
    """Whether `body` is an OCSF event of any class."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("class_uid"), int)
        and isinstance(body.get("metadata"), dict)
    )


def category_of(event: dict[str, Any]) -> SessionCategory:
    """Agent for system and service accounts and logons; hybrid for an app actor."""
    user = event.get("user") or {}
    name = text(user.get("name")) or ""
    domain = text(user.get("domain")) or ""
    if user.get("type_id") == SYSTEM_USER:
        return SessionCategory.AGENT
    logon_type = event.get("logon_type_id")
    if windows.category_of(name, domain, logon_type) is SessionCategory.AGENT:
        return SessionCategory.AGENT
    if text(dig(event, "actor", "app_name")) or text(dig(event, "actor", "app_uid")):
        return SessionCategory.HYBRID
    return SessionCategory.USER


def map_event(context: RecordContext) -> Sequence[Event]:
    """One OCSF Authentication event → at most one ledger event."""
    body = context.body
    if not recognises(body):
        raise RecordRejected("not an OCSF event")
    assert isinstance(body, dict)
    if body.get("class_uid") != AUTHENTICATION:
        return []
    activity = body.get("activity_id")
    status = _status(body)
    if status not in (SUCCESS, FAILURE):
        return []
    occurred_at = _time(body)
    record_id = dig(body, "metadata", "uid")
    if status == FAILURE:
        subject = _subject(body, occurred_at)
        return [
            context.event(
                AuthenticationFailed,
                subject,
                occurred_at,
                record_id=record_id,
                reason=_failure(body),
                detail=text(body.get("status_detail")) or text(body.get("status")),
            )
        ]
    if activity == LOGON:
        return [
            context.event(
                SessionStarted,
                _subject(body, occurred_at),
                occurred_at,
                record_id=record_id,
                mfa=bool(body.get("is_mfa")),
                auth_method=_auth_method(body),
            )
        ]
    if activity == LOGOFF:
        return [
            context.event(
                SessionEnded,
                _subject(body, occurred_at),
                occurred_at,
                record_id=record_id,
                reason=EndReason.LOGOUT,
            )
        ]
    if activity in TICKETS:
        uid = text(record_id)
        if uid is None:
            raise RecordRejected("ticket event has no metadata.uid to name the token")
        return [
            context.event(
                TokenIssued,
                _subject(body, occurred_at),
                occurred_at,
                record_id=record_id,
                token_id=prefixed("ocsf", uid, "metadata.uid")[:128],
            )
        ]
    return []


def _status(event: dict[str, Any]) -> int | None:
    # Some mappings write only the caption ("Success") and leave status_id out.
    status = event.get("status_id")
    if status is None:
        caption = (text(event.get("status")) or "").lower()
        status = {"success": SUCCESS, "failure": FAILURE}.get(caption)
    return status if isinstance(status, int) else None


def _time(event: dict[str, Any]) -> datetime:
    if text(event.get("time_dt")):
        return timestamp(event["time_dt"], "time_dt")
    return timestamp(event.get("time"), "time")


def _subject(event: dict[str, Any], occurred_at: datetime) -> Subject:
    user = event.get("user") or {}
    who_id = _principal_id(user)
    category = category_of(event)
    kind = {
        SessionCategory.USER: PrincipalKind.HUMAN,
        SessionCategory.AGENT: PrincipalKind.SERVICE_ACCOUNT,
        SessionCategory.HYBRID: PrincipalKind.HUMAN,
    }[category]
    who = principal(who_id, kind, display_name=text(user.get("full_name")))
    session = _session_id(event, who_id, occurred_at)
    endpoint = event.get("src_endpoint") or {}
    location = endpoint.get("location") or {}
    origin = source(
        ip=endpoint.get("ip"),
        country=location.get("country"),
        region=location.get("region"),
        asn=dig(endpoint, "autonomous_system", "number"),
        cloud_region=dig(event, "cloud", "region"),
        user_agent=dig(event, "http_request", "user_agent"),
        device_id=dig(event, "device", "uid"),
    )
    if category is not SessionCategory.HYBRID:
        return Subject(
            session_id=session, category=category, principal=who, source=origin
        )
    app = principal(
        identifier(
            dig(event, "actor", "app_uid") or dig(event, "actor", "app_name"),
            "actor.app_name",
        ),
        PrincipalKind.SERVICE_ACCOUNT,
        display_name=dig(event, "actor", "app_name"),
    )
    return Subject(
        session_id=prefixed("ocsf", f"{session}:app:{app.id}", "session"),
        category=category,
        principal=app,
        delegation=delegation(who_id, session, app),
        parent_session_id=session,
        source=origin,
    )


def _principal_id(user: dict[str, Any]) -> str:
    email = text(user.get("email_addr"))
    if email:
        return identifier(email, "user.email_addr")
    name = text(user.get("name"))
    if name:
        domain = text(user.get("domain"))
        if domain and domain != "-":
            return identifier(f"{name}@{domain}", "user.name")
        return identifier(name, "user.name")
    return identifier(user.get("uid"), "user.uid")


def _session_id(event: dict[str, Any], who_id: str, at: datetime) -> str:
    session = text(dig(event, "session", "uid"))
    if session in _NO_SESSION or session is None:
        actor_user = dig(event, "actor", "user") or {}
        same = actor_user.get("uid") == dig(event, "user", "uid")
        session = text(dig(event, "actor", "session", "uid")) if same else None
    if session in _NO_SESSION or session is None:
        return derived_session_id("ocsf", who_id, at)
    host = text(dig(event, "device", "hostname"))
    return prefixed("ocsf", f"{host}:{session}" if host else session, "session.uid")


def _failure(event: dict[str, Any]) -> FailureReason:
    status = text(event.get("status")) or ""
    if status.lower().startswith("0x"):
        sub = dig(event, "unmapped", "Failure Information", "Sub Status")
        return windows.failure_reason(status, sub)
    detail = (text(event.get("status_detail")) or status).lower()
    for marker, reason in (
        ("lock", FailureReason.LOCKED_OUT),
        ("expired", FailureReason.EXPIRED_CREDENTIAL),
        ("factor", FailureReason.MFA_FAILED),
        ("mfa", FailureReason.MFA_FAILED),
        ("unknown user", FailureReason.UNKNOWN_PRINCIPAL),
        ("password", FailureReason.BAD_CREDENTIALS),
        ("credential", FailureReason.BAD_CREDENTIALS),
    ):
        if marker in detail:
            return reason
    return FailureReason.OTHER


def _auth_method(event: dict[str, Any]) -> str | None:
    protocol = text(event.get("auth_protocol"))
    if protocol is None or protocol.lower() in ("unknown", "other"):
        return None
    return optional_identifier(protocol.lower())


FORMAT = LogFormat(
    name="ocsf",
    title="OCSF Authentication (class_uid 3002)",
    recognises=recognises,
    mapper=stateless(map_event),
)
