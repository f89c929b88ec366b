"""GitHub audit log events (enterprise and user audit log streams, JSON).

- `user.login`, `business.sso_response`, `org.sso_response` → `session.started`;
- `user.two_factor_challenge_failure`, `user.failed_login` →
  `authentication.failed`;
- `user.logout` → `session.ended`;
- `oauth_access.create`, `oauth_access.regenerate`,
  `personal_access_token.create` → `token.issued` (token = `hashed_token`).

Other actions (repository, Codespaces and settings changes) are skipped, and so
is a token event without a `hashed_token` (GitHub leaves it null for some
creations) since it names no token. An actor flagged `actor_is_bot`, or named
`<app>[bot]` (principal `github-app:<app>`), is an agent; everyone else is a
user. Tokens are issued to the user: an OAuth app or a personal access token
acts with the user's rights, but the log does not say which program will use it,
so they are not hybrids. The log has no session id: sessions are derived from
the actor and the hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger.logs.identity import derived_session_id, identifier, optional_identifier
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
    TokenIssued,
)

LOGINS = {"user.login", "business.sso_response", "org.sso_response"}
FAILURES = {
    "user.two_factor_challenge_failure": FailureReason.MFA_FAILED,
    "user.failed_login": FailureReason.BAD_CREDENTIALS,
}
LOGOUT = "user.logout"
TOKENS = {
    "oauth_access.create",
    "oauth_access.regenerate",
    "personal_access_token.create",
}


def recognises(body: RecordBody) -> bool:
    """Whether `body` is a GitHub audit log event."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("action"), str)
        and ("@timestamp" in body or "created_at" in body)
        and ("actor" in body or "user" in body)
    )


def category_of(event: dict[str, Any]) -> SessionCategory:
    """Agent for bots; user for everyone else."""
    actor = text(event.get("actor")) or text(event.get("user")) or ""
    if event.get("actor_is_bot") is True or actor.endswith("[bot]"):
        return SessionCategory.AGENT
    return SessionCategory.USER


def map_event(context: RecordContext) -> Sequence[Event]:
    """One audit event → at most one ledger event."""
    body = context.body
    if not recognises(body):
        raise RecordRejected("not a GitHub audit log event")
    assert isinstance(body, dict)
    action = body["action"]
    if action not in LOGINS | FAILURES.keys() | TOKENS | {LOGOUT}:
        return []
    if action in TOKENS and not text(body.get("hashed_token")):
        return []
    occurred_at = timestamp(
        body.get("@timestamp") or body.get("created_at"), "@timestamp"
    )
    category = category_of(body)
    name = text(body.get("actor")) or text(body.get("user"))
    who = principal(
        _actor_id(name),
        PrincipalKind.HUMAN
        if category is SessionCategory.USER
        else PrincipalKind.SERVICE_ACCOUNT,
        display_name=name,
    )
    subject = Subject(
        session_id=derived_session_id("github", who.id, occurred_at),
        category=category,
        principal=who,
        source=source(
            ip=body.get("actor_ip"),
            country=(body.get("actor_location") or {}).get("country_code"),
            user_agent=body.get("user_agent"),
        ),
    )
    record_id = body.get("_document_id")
    if action in LOGINS:
        method = "saml" if action.endswith("sso_response") else None
        return [
            context.event(
                SessionStarted,
                subject,
                occurred_at,
                record_id=record_id,
                auth_method=method,
            )
        ]
    if action in FAILURES:
        return [
            context.event(
                AuthenticationFailed,
                subject,
                occurred_at,
                record_id=record_id,
                reason=FAILURES[action],
                detail=action,
            )
        ]
    if action == LOGOUT:
        return [
            context.event(
                SessionEnded,
                subject,
                occurred_at,
                record_id=record_id,
                reason=EndReason.LOGOUT,
            )
        ]
    token = optional_identifier(body.get("hashed_token"))
    if token is None:
        raise RecordRejected("hashed_token is not an identifier")
    return [
        context.event(
            TokenIssued,
            subject,
            occurred_at,
            record_id=record_id,
            token_id=token[:128],
        )
    ]


def _actor_id(name: str | None) -> str:
    # Apps act as `<app>[bot]`; brackets are not identifier characters.
    if name and name.endswith("[bot]"):
        return identifier(f"github-app:{name.removesuffix('[bot]')}", "actor")
    return identifier(name, "actor")


FORMAT = LogFormat(
    name="github",
    title="GitHub audit log (JSON)",
    recognises=recognises,
    mapper=stateless(map_event),
)
