"""Auth0 tenant logs (native JSON and Sentinel's flattened `Auth0AM_CL`).

Auth0 names each log by a short type code. The mapped ones:

- `s` (login) → `session.started`; `slo` (logout) → `session.ended`: users;
- `f`, `fp`, `fu`, `fcpro`, `fcoa` (failed login), `gd_auth_failed`,
  `gd_otp_rate_limit_exceed` (failed MFA) → `authentication.failed`: users;
- `seccft` (client credentials exchanged for a token) → `token.issued`, and
  `feccft` (that exchange failed) → `authentication.failed`: agents;
- `seacft` (authorization code exchanged for a user's token) → `token.issued`:
  a hybrid, the client acting for the user;
- `sapi`, `fapi` (Management API call, failed) → `access.recorded` (denied): the
  user behind the dashboard, or an agent when a client's token made the call.

Other codes are skipped. The logs carry no session id: sessions are derived from
the principal and the hour, and the token exchanges name no token, so the
record's `log_id` (or, missing that, its identity) names it. User ids
`<connection>|<id>` become `<connection>:<id>`: the pipe is not an identifier
character.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.logs.identity import derived_session_id, identifier, prefixed
from ledger.logs.mapping import (
    LogFormat,
    RecordContext,
    Subject,
    delegation,
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

LOGIN, LOGOUT = "s", "slo"
LOGIN_FAILURES = {
    "f": FailureReason.OTHER,
    "fp": FailureReason.BAD_CREDENTIALS,
    "fu": FailureReason.UNKNOWN_PRINCIPAL,
    "fcpro": FailureReason.POLICY_DENIED,
    "fcoa": FailureReason.OTHER,
    "gd_auth_failed": FailureReason.MFA_FAILED,
    "gd_otp_rate_limit_exceed": FailureReason.MFA_FAILED,
}
CLIENT_TOKEN, CLIENT_TOKEN_FAILED, USER_TOKEN = "seccft", "feccft", "seacft"
API_CALL, API_CALL_FAILED = "sapi", "fapi"
MAPPED = {
    LOGIN,
    LOGOUT,
    CLIENT_TOKEN,
    CLIENT_TOKEN_FAILED,
    USER_TOKEN,
    API_CALL,
    API_CALL_FAILED,
    *LOGIN_FAILURES,
}


def recognises(body: RecordBody) -> bool:
    """Whether `body` is an Auth0 log event."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("type"), str)
        and "date" in body
        and ("client_id" in body or "log_id" in body)
    )


def category_of(event: dict[str, Any]) -> SessionCategory:
    """Agent for client-credentials work, hybrid for a client given a user's token."""
    kind = event.get("type")
    if kind in (CLIENT_TOKEN, CLIENT_TOKEN_FAILED):
        return SessionCategory.AGENT
    if kind == USER_TOKEN and _field(event, "user_id"):
        return SessionCategory.HYBRID
    if kind in (API_CALL, API_CALL_FAILED) and not _api_user(event):
        return SessionCategory.AGENT
    return SessionCategory.USER


def map_event(context: RecordContext) -> Sequence[Event]:
    """One Auth0 log event → at most one ledger event."""
    body = context.body
    if not recognises(body):
        raise RecordRejected("not an Auth0 log event")
    assert isinstance(body, dict)
    kind = body["type"]
    if kind not in MAPPED:
        return []
    occurred_at = timestamp(body.get("date"), "date")
    subject = _subject(body, occurred_at)
    record_id = _field(body, "log_id") or _field(body, "_id")
    if kind == LOGIN:
        return [
            context.event(
                SessionStarted,
                subject,
                occurred_at,
                record_id=record_id,
                auth_method=_strategy(body),
            )
        ]
    if kind == LOGOUT:
        return [
            context.event(
                SessionEnded,
                subject,
                occurred_at,
                record_id=record_id,
                reason=EndReason.LOGOUT,
            )
        ]
    if kind in LOGIN_FAILURES or kind == CLIENT_TOKEN_FAILED:
        return [
            context.event(
                AuthenticationFailed,
                subject,
                occurred_at,
                record_id=record_id,
                reason=LOGIN_FAILURES.get(kind, FailureReason.BAD_CREDENTIALS),
                detail=text(body.get("description")),
            )
        ]
    if kind in (CLIENT_TOKEN, USER_TOKEN):
        token = record_id or context.record.identity.split("#")[0]
        return [
            context.event(
                TokenIssued,
                subject,
                occurred_at,
                record_id=record_id,
                token_id=prefixed("auth0", token, "log_id")[:128],
            )
        ]
    method = (_field(body, "details.request.method") or "call").upper()
    path = _field(body, "details.request.path") or text(body.get("description"))
    return [
        context.event(
            AccessRecorded,
            subject,
            occurred_at,
            record_id=record_id,
            resource=(path or "auth0:management-api")[:1024],
            operation=method[:256],
            outcome=AccessOutcome.ALLOWED if kind == API_CALL else AccessOutcome.DENIED,
        )
    ]


def _subject(event: dict[str, Any], occurred_at: Any) -> Subject:
    category = category_of(event)
    origin = source(ip=event.get("ip"), user_agent=event.get("user_agent"))
    client_id = _field(event, "client_id")
    if category is SessionCategory.AGENT:
        who = principal(
            identifier(client_id, "client_id"),
            PrincipalKind.SERVICE_ACCOUNT,
            display_name=event.get("client_name"),
        )
    else:
        user = (
            _api_user(event)
            if event.get("type") in (API_CALL, API_CALL_FAILED)
            else (_field(event, "user_id") or _field(event, "user_name"))
        )
        who = principal(
            _user_id(user),
            PrincipalKind.HUMAN,
            display_name=event.get("user_name"),
        )
    session = derived_session_id("auth0", who.id, occurred_at)
    if category is not SessionCategory.HYBRID:
        return Subject(
            session_id=session, category=category, principal=who, source=origin
        )
    client = principal(
        identifier(client_id, "client_id"),
        PrincipalKind.SERVICE_ACCOUNT,
        display_name=event.get("client_name"),
    )
    return Subject(
        session_id=derived_session_id("auth0", f"{client.id}|{who.id}", occurred_at),
        category=category,
        principal=client,
        delegation=delegation(who.id, session, client),
        parent_session_id=session,
        source=origin,
    )


def _user_id(value: str | None) -> str:
    # Auth0 ids are `<connection>|<id>` ("auth0|5f…", "google-oauth2|10…"); the
    # pipe is not an identifier character, so it becomes a colon.
    return identifier(value.replace("|", ":") if value else value, "user_id")


def _api_user(event: dict[str, Any]) -> str | None:
    return _field(event, "details.request.auth.user.user_id")


def _strategy(event: dict[str, Any]) -> str | None:
    strategy = _field(event, "strategy") or _field(event, "connection")
    try:
        return identifier(strategy, "strategy") if strategy else None
    except RecordRejected:
        return None


def _field(event: dict[str, Any], path: str) -> str | None:
    """A field by dotted path, native (nested) or Sentinel-flattened (`a_b_c`)."""
    node: Any = event
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        node = event.get(path.replace(".", "_"))
    return text(node)


FORMAT = LogFormat(
    name="auth0",
    title="Auth0 tenant logs (native and Sentinel Auth0AM_CL)",
    recognises=recognises,
    mapper=stateless(map_event),
)
