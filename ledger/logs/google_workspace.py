"""Google Workspace login audit (Admin SDK Reports API, application `login`).

- `login_success` → `session.started`, with MFA when a challenge besides the
  password was used;
- `login_failure` → `authentication.failed` (reason from `login_failure_type`);
- `login_verification` with status `failed` → `authentication.failed`
  (`mfa_failed`);
- `logout` → `session.ended`.

Other login events (passed verifications, challenges, suspicious-login flags)
are skipped. Every actor is a person unless the Reports API says the caller was a
key (`actor.callerType: KEY`), which makes an agent. The log has no session id:
sessions are derived from the actor and the hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.logs.identity import derived_session_id, identifier, optional_identifier
from ledger.logs.mapping import (
    LogFormat,
    RecordContext,
    Subject,
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
)

_SINGLE_FACTOR = {"password", "none", "unknown"}
_FAILURES = {
    "login_failure_invalid_password": FailureReason.BAD_CREDENTIALS,
    "login_failure_invalid_second_factor": FailureReason.MFA_FAILED,
    "login_failure_account_disabled": FailureReason.POLICY_DENIED,
    "login_failure_unknown": FailureReason.OTHER,
}


def recognises(body: RecordBody) -> bool:
    """Whether `body` is a Reports API activity of the `login` application."""
    return (
        isinstance(body, dict)
        and body.get("kind") == "admin#reports#activity"
        and dig(body, "id", "applicationName") == "login"
    )


def category_of(activity: dict[str, Any]) -> SessionCategory:
    """User, unless the caller was an API key."""
    if dig(activity, "actor", "callerType") == "KEY":
        return SessionCategory.AGENT
    return SessionCategory.USER


def map_activity(context: RecordContext) -> Sequence[Event]:
    """One login activity → one event per login event it holds."""
    body = context.body
    if not recognises(body):
        raise RecordRejected("not a Google Workspace login activity")
    assert isinstance(body, dict)
    occurred_at = timestamp(dig(body, "id", "time"), "id.time")
    actor = text(dig(body, "actor", "email")) or text(dig(body, "actor", "profileId"))
    category = category_of(body)
    who = principal(
        identifier(actor, "actor.email"),
        PrincipalKind.HUMAN
        if category is SessionCategory.USER
        else PrincipalKind.SERVICE_ACCOUNT,
        tenant=optional_identifier(dig(body, "id", "customerId")),
    )
    subject = Subject(
        session_id=derived_session_id("gws", who.id, occurred_at),
        category=category,
        principal=who,
        source=source(ip=body.get("ipAddress")),
    )
    record_id = dig(body, "id", "uniqueQualifier")
    events: list[Event] = []
    for item in body.get("events") or []:
        name = item.get("name")
        parameters = _parameters(item)
        if name == "login_success":
            events.append(
                context.event(
                    SessionStarted,
                    subject,
                    occurred_at,
                    record_id=record_id,
                    mfa=_multifactor(parameters),
                    auth_method=optional_identifier(parameters.get("login_type")),
                )
            )
        elif name == "login_failure":
            failure = str(parameters.get("login_failure_type") or "")
            events.append(
                context.event(
                    AuthenticationFailed,
                    subject,
                    occurred_at,
                    record_id=record_id,
                    reason=_FAILURES.get(failure, FailureReason.OTHER),
                    detail=failure or None,
                )
            )
        elif (
            name == "login_verification"
            and parameters.get("login_challenge_status") == "failed"
        ):
            events.append(
                context.event(
                    AuthenticationFailed,
                    subject,
                    occurred_at,
                    record_id=record_id,
                    reason=FailureReason.MFA_FAILED,
                    detail="login_verification failed",
                )
            )
        elif name == "logout":
            events.append(
                context.event(
                    SessionEnded,
                    subject,
                    occurred_at,
                    record_id=record_id,
                    reason=EndReason.LOGOUT,
                )
            )
    return events


def _parameters(item: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for parameter in item.get("parameters") or []:
        if not isinstance(parameter, dict):
            continue
        for field in ("value", "multiValue", "boolValue", "intValue"):
            if field in parameter:
                values[parameter.get("name")] = parameter[field]
                break
    return values


def _multifactor(parameters: dict[str, Any]) -> bool:
    methods = parameters.get("login_challenge_method") or []
    if isinstance(methods, str):
        methods = [methods]
    return any(str(method) not in _SINGLE_FACTOR for method in methods)


FORMAT = LogFormat(
    name="google_workspace",
    title="Google Workspace login audit (Reports API)",
    recognises=recognises,
    mapper=stateless(map_activity),
)
