"""AWS CloudTrail, as JSON records and as Sentinel's `AWSCloudTrail` CSV export.

The Sentinel export flattens a record into columns (`UserIdentityArn`,
`SessionMfaAuthenticated`, JSON text in `ResponseElements`...). Its rows are
rebuilt into CloudTrail's own shape first; `TimeGenerated [UTC]` is the event time
there (the connector copies `eventTime` into it).

What a record becomes:

- `ConsoleLogin` → `session.started` (MFA from `MFAUsed`), or
  `authentication.failed`;
- STS `AssumeRole*`, `GetSessionToken`, `GetFederationToken`, `AssumeRoot` →
  `token.issued` on the new credentials' session, a child of the caller's;
- a call refused as unauthenticated (`InvalidClientTokenId`, `ExpiredToken`...)
  → `authentication.failed`;
- any other call → `access.recorded` (denied on `AccessDenied`, error on other
  error codes);
- other `signin.amazonaws.com` successes (`CredentialChallenge`...) are skipped:
  they are steps of a sign-in.

Session: `userIdentity.accessKeyId` (console sessions use temporary `ASIA` keys,
marked `sessionCredentialFromConsole`), `aws:<key>`; for STS, the new key. A
`ConsoleLogin` carries no key, so its session is derived from the principal and
the hour, and cannot be joined to the console calls that follow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
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
from ledger.logs.timestamps import optional_timestamp, timestamp
from schemas import (
    AccessOutcome,
    AccessRecorded,
    AuthenticationFailed,
    Event,
    FailureReason,
    Principal,
    PrincipalKind,
    SessionCategory,
    SessionStarted,
    TokenIssued,
)

STS = "sts.amazonaws.com"
SIGNIN = "signin.amazonaws.com"
TOKEN_CALLS = {
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "GetSessionToken",
    "GetFederationToken",
}
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "UnauthorizedAccess",
}
_UNAUTHENTICATED = {
    "InvalidClientTokenId": FailureReason.BAD_CREDENTIALS,
    "SignatureDoesNotMatch": FailureReason.BAD_CREDENTIALS,
    "IncompleteSignature": FailureReason.BAD_CREDENTIALS,
    "AuthFailure": FailureReason.BAD_CREDENTIALS,
    "ExpiredToken": FailureReason.EXPIRED_CREDENTIAL,
    "ExpiredTokenException": FailureReason.EXPIRED_CREDENTIAL,
    "RequestExpired": FailureReason.EXPIRED_CREDENTIAL,
}
_HIDDEN_USER = "HIDDEN_DUE_TO_SECURITY_REASONS"
_SSO_ROLE_PREFIX = "AWSReservedSSO_"


def recognises(body: RecordBody) -> bool:
    """Whether `body` is a CloudTrail record, JSON or a Sentinel CSV row."""
    if not isinstance(body, dict):
        return False
    if "AwsEventId" in body and "EventName" in body:
        return True
    return "eventSource" in body and "eventName" in body and "eventTime" in body


def from_sentinel(row: dict[str, Any]) -> dict[str, Any]:
    """A CloudTrail record rebuilt from a Sentinel `AWSCloudTrail` row."""
    if "AwsEventId" not in row:
        return row

    def column(name: str) -> str | None:
        return text(row.get(name))

    def document(name: str) -> Any:
        value = column(name)
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return value

    time = column("TimeGenerated [UTC]") or column("TimeGenerated")
    identity = {
        "type": column("UserIdentityType"),
        "principalId": column("UserIdentityPrincipalid"),
        "arn": column("UserIdentityArn"),
        "accountId": column("UserIdentityAccountId"),
        "invokedBy": column("UserIdentityInvokedBy"),
        "accessKeyId": column("UserIdentityAccessKeyId"),
        "userName": column("UserIdentityUserName"),
        "sessionContext": {
            "attributes": {
                "mfaAuthenticated": column("SessionMfaAuthenticated"),
                "creationDate": column("SessionCreationDate [UTC]"),
            },
            "sessionIssuer": {
                "type": column("SessionIssuerType"),
                "principalId": column("SessionIssuerPrincipalId"),
                "arn": column("SessionIssuerArn"),
                "accountId": column("SessionIssuerAccountId"),
                "userName": column("SessionIssuerUserName"),
            },
        },
    }
    return {
        "eventID": column("AwsEventId"),
        "eventVersion": column("EventVersion"),
        "eventTime": _sentinel_time(time),
        "eventSource": column("EventSource"),
        "eventName": column("EventName"),
        "eventType": column("EventTypeName"),
        "awsRegion": column("AWSRegion"),
        "sourceIPAddress": column("SourceIpAddress"),
        "userAgent": column("UserAgent"),
        "errorCode": column("ErrorCode"),
        "errorMessage": column("ErrorMessage"),
        "requestParameters": document("RequestParameters"),
        "responseElements": document("ResponseElements"),
        "additionalEventData": document("AdditionalEventData"),
        "resources": document("Resources"),
        "recipientAccountId": column("RecipientAccountId"),
        "userIdentity": identity,
    }


def category_of(event: dict[str, Any]) -> SessionCategory:
    """Who made a call: a person, a program, or a program acting for a person.

    In order: AWS services are agents; a role session carrying a
    `sourceIdentity`, an AWS service acting with a person's credentials
    (`invokedBy`) and a federated user (the broker acting for the named person)
    are hybrids; console logins and console sessions, root, SAML and Identity
    Center users, and `AWSReservedSSO_` roles are people; an IAM user is a person
    when MFA-authenticated or without an access key (the console), and a program
    when it signs with a key without MFA; every other role session is an agent.
    """
    identity = event.get("userIdentity") or {}
    kind = text(identity.get("type")) or ""
    if kind in ("AWSService", "AWSAccount"):
        return SessionCategory.AGENT
    if _source_identity(event):
        return SessionCategory.HYBRID
    human = _looks_human(event)
    if text(identity.get("invokedBy")) and human:
        return SessionCategory.HYBRID
    if kind == "FederatedUser":
        return SessionCategory.HYBRID
    return SessionCategory.USER if human else SessionCategory.AGENT


def map_record(context: RecordContext) -> Sequence[Event]:
    """One CloudTrail record → one event (see the module's table)."""
    if not recognises(context.body):
        raise RecordRejected("not a CloudTrail record")
    assert isinstance(context.body, dict)
    event = from_sentinel(context.body)
    name = text(event.get("eventName")) or ""
    event_source = text(event.get("eventSource")) or ""
    occurred_at = timestamp(event.get("eventTime"), "eventTime")
    record_id = event.get("eventID")
    error_code = text(event.get("errorCode"))

    if name == "ConsoleLogin":
        return [_console_login(context, event, occurred_at)]
    if event_source == SIGNIN:
        if _signin_failed(event):
            subject = _caller(event, occurred_at)
            return [_failed(context, subject, event, occurred_at)]
        return []
    if error_code in _UNAUTHENTICATED:
        subject = _caller(event, occurred_at)
        return [_failed(context, subject, event, occurred_at)]
    if event_source == STS and name in TOKEN_CALLS:
        if error_code:
            subject = _caller(event, occurred_at)
            return [_failed(context, subject, event, occurred_at)]
        return [_token(context, event, name, occurred_at)]

    subject = _caller(event, occurred_at)
    outcome = AccessOutcome.ALLOWED
    if error_code in _DENIED:
        outcome = AccessOutcome.DENIED
    elif error_code:
        outcome = AccessOutcome.ERROR
    return [
        context.event(
            AccessRecorded,
            subject,
            occurred_at,
            record_id=record_id,
            resource=_resource(event)[:1024],
            operation=name[:256] or "unknown",
            outcome=outcome,
        )
    ]


def _console_login(
    context: RecordContext, event: dict[str, Any], occurred_at: datetime
) -> Event:
    subject = _caller(event, occurred_at, console=True)
    result = text(dig(event, "responseElements", "ConsoleLogin"))
    if result != "Success" or text(event.get("errorMessage")):
        return _failed(context, subject, event, occurred_at)
    extra = event.get("additionalEventData") or {}
    return context.event(
        SessionStarted,
        subject,
        occurred_at,
        record_id=event.get("eventID"),
        mfa=text(extra.get("MFAUsed")) == "Yes",
        auth_method="console_password",
    )


def _failed(
    context: RecordContext,
    subject: Subject,
    event: dict[str, Any],
    occurred_at: datetime,
) -> Event:
    code = text(event.get("errorCode")) or ""
    message = text(event.get("errorMessage")) or ""
    if "No username found" in message:
        reason = FailureReason.UNKNOWN_PRINCIPAL
    elif message == "Failed authentication":
        reason = FailureReason.BAD_CREDENTIALS
    elif code in _UNAUTHENTICATED:
        reason = _UNAUTHENTICATED[code]
    elif code in _DENIED:
        reason = FailureReason.POLICY_DENIED
    else:
        reason = FailureReason.OTHER
    detail = ": ".join(part for part in (code, message) if part) or None
    return context.event(
        AuthenticationFailed,
        subject,
        occurred_at,
        record_id=event.get("eventID"),
        reason=reason,
        detail=detail[:1024] if detail else None,
    )


def _token(
    context: RecordContext, event: dict[str, Any], name: str, occurred_at: datetime
) -> Event:
    caller = _caller(event, occurred_at)
    response = event.get("responseElements") or {}
    credentials = response.get("credentials") or {}
    key = text(credentials.get("accessKeyId"))
    if key is None:
        raise RecordRejected(f"{name} response holds no credentials.accessKeyId")
    request = event.get("requestParameters") or {}
    new_session = prefixed("aws", key, "credentials.accessKeyId")

    if name == "AssumeRoleWithSAML":
        category = SessionCategory.USER
    elif name == "AssumeRoleWithWebIdentity":
        category = SessionCategory.AGENT
    elif name == "GetFederationToken" or text(request.get("sourceIdentity")):
        category = SessionCategory.HYBRID
    elif name == "GetSessionToken" and text(request.get("serialNumber")):
        category = SessionCategory.USER
    else:
        category = caller.category

    role_arn = dig(response, "assumedRoleUser", "arn") or dig(
        response, "federatedUser", "arn"
    )
    if category is SessionCategory.HYBRID:
        if name == "GetFederationToken":
            # The caller is the broker; the federated name is the person it acts for.
            actor = _without_delegation(caller.principal)
            person = identifier(request.get("name"), "requestParameters.name")
        else:
            actor = principal(
                identifier(role_arn or caller.principal.id, "assumedRoleUser.arn"),
                PrincipalKind.SERVICE_ACCOUNT,
            )
            # The person a chained role session still acts for, else the caller.
            acted_for = caller.delegation.subject if caller.delegation else None
            person = identifier(
                request.get("sourceIdentity")
                or _source_identity(event)
                or acted_for
                or caller.principal.id,
                "sourceIdentity",
            )
        subject = Subject(
            session_id=new_session,
            category=category,
            principal=actor,
            delegation=delegation(person, caller.session_id, actor),
            parent_session_id=caller.session_id,
            source=caller.source,
        )
    else:
        kind = PrincipalKind.HUMAN
        if category is SessionCategory.AGENT:
            kind = PrincipalKind.WORKLOAD
        subject = Subject(
            session_id=new_session,
            category=category,
            principal=principal(
                identifier(role_arn or caller.principal.id, "assumedRoleUser.arn"),
                kind,
            ),
            parent_session_id=caller.session_id,
            source=caller.source,
        )
    return context.event(
        TokenIssued,
        subject,
        occurred_at,
        record_id=event.get("eventID"),
        token_id=identifier(key, "credentials.accessKeyId"),
        expires_at=optional_timestamp(credentials.get("expiration")),
    )


def _caller(
    event: dict[str, Any], occurred_at: datetime, *, console: bool = False
) -> Subject:
    identity = event.get("userIdentity") or {}
    category = SessionCategory.USER if console else category_of(event)
    who = _principal(event, category)
    key = text(identity.get("accessKeyId"))
    if key:
        session = prefixed("aws", key, "accessKeyId")
    else:
        session = derived_session_id("aws", who.id, occurred_at)
    origin = source(
        ip=event.get("sourceIPAddress"),
        cloud_region=event.get("awsRegion"),
        user_agent=event.get("userAgent"),
    )
    if category is not SessionCategory.HYBRID:
        return Subject(
            session_id=session, category=category, principal=who, source=origin
        )
    person, actor = _delegation_parties(event, who)
    return Subject(
        session_id=session,
        category=category,
        principal=actor,
        delegation=delegation(person, session, actor),
        source=origin,
    )


def _principal(event: dict[str, Any], category: SessionCategory) -> Principal:
    identity = event.get("userIdentity") or {}
    kind = text(identity.get("type")) or ""
    name = text(identity.get("userName")) or text(
        dig(event, "additionalEventData", "UserName")
    )
    if name == _HIDDEN_USER:
        raise RecordRejected(
            "userIdentity.userName is hidden by AWS (a sign-in for an unknown user)"
        )
    candidate = text(identity.get("arn"))
    account_id = text(identity.get("accountId"))
    if candidate is None and account_id and kind in ("IAMUser", "Root"):
        # Failed console logins leave the ARN out; rebuild it so that they and the
        # success that follows name one principal. An IAM path is lost here.
        candidate = (
            f"arn:aws:iam::{account_id}:root"
            if kind == "Root"
            else f"arn:aws:iam::{account_id}:user/{name}"
            if name
            else None
        )
    if candidate is None and kind == "IdentityCenterUser":
        candidate = dig(identity, "onBehalfOf", "userId")
    if candidate is None and name and text(identity.get("accountId")):
        candidate = f"{identity['accountId']}:{name}"
    candidate = candidate or text(identity.get("principalId"))
    if candidate is None and kind in ("AWSService", "AWSAccount"):
        candidate = text(identity.get("invokedBy")) or text(identity.get("accountId"))
    principal_kind = {
        SessionCategory.USER: PrincipalKind.HUMAN,
        SessionCategory.AGENT: PrincipalKind.WORKLOAD,
        SessionCategory.HYBRID: PrincipalKind.SERVICE_ACCOUNT,
    }[category]
    if kind == "IAMUser" and category is SessionCategory.AGENT:
        principal_kind = PrincipalKind.SERVICE_ACCOUNT
    return principal(
        identifier(candidate, "userIdentity.arn"),
        principal_kind,
        display_name=name,
        tenant=text(identity.get("accountId")),
    )


def _delegation_parties(event: dict[str, Any], who: Principal) -> tuple[str, Principal]:
    """The person acted for, and the acting principal, of a hybrid call."""
    identity = event.get("userIdentity") or {}
    invoked_by = text(identity.get("invokedBy"))
    source_identity = _source_identity(event)
    if source_identity:
        actor = principal(who.id, PrincipalKind.SERVICE_ACCOUNT, tenant=who.tenant)
        return identifier(source_identity, "sourceIdentity"), actor
    if text(identity.get("type")) == "FederatedUser":
        issuer = dig(identity, "sessionContext", "sessionIssuer", "arn")
        actor = principal(
            identifier(issuer or who.id, "sessionIssuer.arn"),
            PrincipalKind.SERVICE_ACCOUNT,
            tenant=who.tenant,
        )
        person = who.id.rsplit("/", 1)[-1]
        return identifier(person, "federated user"), actor
    actor = principal(
        identifier(invoked_by, "invokedBy"), PrincipalKind.SERVICE_ACCOUNT
    )
    return who.id, actor


def _without_delegation(who: Principal) -> Principal:
    return principal(
        who.id, PrincipalKind.SERVICE_ACCOUNT, display_name=who.display_name
    )


def _looks_human(event: dict[str, Any]) -> bool:
    identity = event.get("userIdentity") or {}
    kind = text(identity.get("type")) or ""
    context = identity.get("sessionContext") or {}
    if text(event.get("eventName")) == "ConsoleLogin":
        return True
    if str(identity.get("sessionCredentialFromConsole", "")).lower() == "true":
        return True
    if kind in ("Root", "SAMLUser", "IdentityCenterUser"):
        return True
    if kind == "AssumedRole":
        issuer = text(dig(context, "sessionIssuer", "userName")) or ""
        return issuer.startswith(_SSO_ROLE_PREFIX)
    if kind == "IAMUser":
        mfa = str(dig(context, "attributes", "mfaAuthenticated") or "").lower()
        key = text(identity.get("accessKeyId")) or ""
        # No key: a console sign-in. A temporary key without MFA outside the
        # console is GetSessionToken credentials used by a program.
        return mfa == "true" or not key
    return False


def _source_identity(event: dict[str, Any]) -> str | None:
    return text(dig(event, "userIdentity", "sessionContext", "sourceIdentity"))


def _signin_failed(event: dict[str, Any]) -> bool:
    if text(event.get("errorCode")) or text(event.get("errorMessage")):
        return True
    details = event.get("serviceEventDetails") or {}
    return any(str(value).lower() == "failure" for value in details.values())


def _resource(event: dict[str, Any]) -> str:
    for resource in event.get("resources") or []:
        if isinstance(resource, dict) and text(resource.get("ARN")):
            return str(resource["ARN"])
    return text(event.get("eventSource")) or "aws"


def _sentinel_time(value: str | None) -> str | None:
    parsed = optional_timestamp(value, UTC)
    return parsed.isoformat() if parsed else value


FORMAT = LogFormat(
    name="cloudtrail",
    title="AWS CloudTrail (JSON records, Sentinel AWSCloudTrail CSV)",
    recognises=recognises,
    mapper=stateless(map_record),
)
