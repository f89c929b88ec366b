"""OneLogin events API (native JSON and Sentinel's `OneLogin_CL`).

Only the three sign-in event types are mapped; OneLogin has hundreds of others
(provisioning, admin changes), which are skipped:

| event_type_id | event |
|---|---|
| 5 user logged in | `session.started` |
| 6 user failed authentication | `authentication.failed` (bad credentials) |
| 7 user logged out | `session.ended` |

Principal: `user_id` (OneLogin's numeric id), with `user_name` shown. Every
principal is a person: OneLogin's users are people; API clients do not sign in
through these events. Session: the `Correlation_id` that OneLogin writes into
`notes` of a login, else derived from the user and the hour (a logout carries no
correlation id, so it joins its login only when both fall in one hour).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ledger.logs.identity import derived_session_id, identifier, prefixed
from ledger.logs.mapping import (
    LogFormat,
    RecordContext,
    Subject,
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
)

LOGGED_IN, FAILED, LOGGED_OUT = 5, 6, 7
_CORRELATION = re.compile(r"Correlation_id:\s*(?P<id>[\w-]+)")
_METHOD = re.compile(r"Authentication method:\s*(?P<method>[^.(]+)")


def recognises(body: RecordBody) -> bool:
    """Whether `body` is a OneLogin event."""
    return (
        isinstance(body, dict)
        and "event_type_id" in body
        and "account_id" in body
        and "event_timestamp" in body
    )


def category_of(event: dict[str, Any]) -> SessionCategory:
    """Always a user: OneLogin sign-in events are people's."""
    del event
    return SessionCategory.USER


def map_event(context: RecordContext) -> Sequence[Event]:
    """One OneLogin event → at most one ledger event."""
    body = context.body
    if not recognises(body):
        raise RecordRejected("not a OneLogin event")
    assert isinstance(body, dict)
    kind = body.get("event_type_id")
    if kind not in (LOGGED_IN, FAILED, LOGGED_OUT):
        return []
    occurred_at = timestamp(body.get("event_timestamp"), "event_timestamp")
    who = principal(
        identifier(body.get("user_id"), "user_id"),
        PrincipalKind.HUMAN,
        display_name=body.get("user_name"),
        tenant=text(body.get("account_id")),
    )
    notes = text(body.get("notes")) or ""
    correlation = _CORRELATION.search(notes)
    session = (
        prefixed("onelogin", correlation["id"], "Correlation_id")
        if correlation
        else derived_session_id("onelogin", who.id, occurred_at)
    )
    subject = Subject(
        session_id=session,
        category=category_of(body),
        principal=who,
        source=source(ip=body.get("ipaddr"), user_agent=body.get("user_agent")),
    )
    record_id = body.get("uuid") or body.get("uuid_g") or body.get("id")
    if kind == LOGGED_IN:
        method = _METHOD.search(notes)
        return [
            context.event(
                SessionStarted,
                subject,
                occurred_at,
                record_id=record_id,
                auth_method=identifier(method["method"].lower(), "method")
                if method
                else None,
            )
        ]
    if kind == FAILED:
        return [
            context.event(
                AuthenticationFailed,
                subject,
                occurred_at,
                record_id=record_id,
                reason=FailureReason.BAD_CREDENTIALS,
                detail=notes[:1024] or None,
            )
        ]
    return [
        context.event(
            SessionEnded,
            subject,
            occurred_at,
            record_id=record_id,
            reason=EndReason.LOGOUT,
        )
    ]


FORMAT = LogFormat(
    name="onelogin",
    title="OneLogin events (native and Sentinel OneLogin_CL)",
    recognises=recognises,
    mapper=stateless(map_event),
)
