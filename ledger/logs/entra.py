"""Microsoft Entra ID (Azure AD) sign-in logs.

Three shapes of the same sign-in are read:

- Azure diagnostic settings (Event Hub, storage): `category` names the log, the
  sign-in itself is under `properties` (the elastic-integrations samples);
- Log Analytics / Sentinel tables (`SigninLogs`, `AADNonInteractiveUserSignInLogs`,
  `AADServicePrincipalSignInLogs`, `AADManagedIdentitySignInLogs`): PascalCase
  columns at the top level, `Type` names the table, nested columns may be JSON
  strings;
- Microsoft Graph `signIn` resources: camelCase at the top level.

Each sign-in maps to one event: success → `session.started`, failure →
`authentication.failed`. Category (see `category_of`): interactive user sign-ins
are users, service principals and managed identities are agents, and
non-interactive user sign-ins, which Microsoft defines as "performed by a client
app or OS components on behalf of a user", are hybrids: the app is the principal
and the user the delegation's subject.

Session: `sessionId` (the user's SSO session, in logs since 2023), else
`correlationId` (one sign-in flow). A hybrid session is `<that>:app:<appId>`, acting
for the user session `sessionId`/`correlationId`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from ledger.logs.identity import identifier, optional_identifier, prefixed
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
    Event,
    FailureReason,
    Principal,
    PrincipalKind,
    SessionCategory,
    SessionStarted,
)

INTERACTIVE = "interactive"
NON_INTERACTIVE = "non_interactive"
SERVICE_PRINCIPAL = "service_principal"
MANAGED_IDENTITY = "managed_identity"

_KINDS = {
    # Diagnostic settings categories.
    "SignInLogs": INTERACTIVE,
    "NonInteractiveUserSignInLogs": NON_INTERACTIVE,
    "ServicePrincipalSignInLogs": SERVICE_PRINCIPAL,
    "ManagedIdentitySignInLogs": MANAGED_IDENTITY,
    # Log Analytics tables.
    "SigninLogs": INTERACTIVE,
    "AADNonInteractiveUserSignInLogs": NON_INTERACTIVE,
    "AADServicePrincipalSignInLogs": SERVICE_PRINCIPAL,
    "AADManagedIdentitySignInLogs": MANAGED_IDENTITY,
}

# Log Analytics column → Graph/diagnostic property, where lower-camel-casing the
# column does not give the property's name.
_COLUMN_ALIASES = {
    "IPAddress": "ipAddress",
    "Location": "locationCode",
    "LocationDetails": "location",
    "TimeGenerated": "createdDateTime",
    "ResultType": "errorCode",
    "ResultDescription": "failureReason",
}

# Entra error codes → why the sign-in failed. Interrupts (50140 "keep me signed
# in", 50074/50076 "MFA required", 50158 external challenge) are logged as
# failures although the user goes on; they map to `other` with the text kept.
_FAILURES = {
    50034: FailureReason.UNKNOWN_PRINCIPAL,
    50053: FailureReason.LOCKED_OUT,
    50055: FailureReason.EXPIRED_CREDENTIAL,
    50057: FailureReason.POLICY_DENIED,
    50126: FailureReason.BAD_CREDENTIALS,
    50133: FailureReason.EXPIRED_CREDENTIAL,
    50144: FailureReason.EXPIRED_CREDENTIAL,
    53003: FailureReason.POLICY_DENIED,
    500121: FailureReason.MFA_FAILED,
    700016: FailureReason.UNKNOWN_PRINCIPAL,
    7000215: FailureReason.BAD_CREDENTIALS,
    7000222: FailureReason.EXPIRED_CREDENTIAL,
}


def recognises(body: RecordBody) -> bool:
    """Whether `body` is an Entra sign-in in any of the three shapes."""
    if not isinstance(body, dict):
        return False
    if isinstance(body.get("properties"), dict):
        return body.get("category") in _KINDS
    if body.get("Type") in _KINDS:
        return True
    return "createdDateTime" in body and "appId" in body and "status" in body


def category_of(kind: str, properties: dict[str, Any]) -> SessionCategory:
    """User for interactive sign-ins, agent for apps, hybrid for apps acting for one.

    The log's own table decides. A non-interactive sign-in without a user (seen
    in old exports) is the app alone: an agent.
    """
    if kind in (SERVICE_PRINCIPAL, MANAGED_IDENTITY):
        return SessionCategory.AGENT
    if kind == NON_INTERACTIVE:
        if _user_id(properties) is None:
            return SessionCategory.AGENT
        return SessionCategory.HYBRID
    return SessionCategory.USER


def map_sign_in(context: RecordContext) -> Sequence[Event]:
    """One Entra sign-in → `session.started` or `authentication.failed`."""
    body = context.body
    if not recognises(body):
        raise RecordRejected("not an Entra ID sign-in record")
    assert isinstance(body, dict)
    kind, properties = _normalised(body)
    category = category_of(kind, properties)
    occurred_at = timestamp(
        properties.get("createdDateTime") or body.get("time"),
        "createdDateTime",
        context.options.timezone,
    )
    subject = _subject(kind, category, properties, body)
    record_id = text(properties.get("id"))
    error_code = _error_code(properties)
    if error_code:
        failure = text(dig(properties, "status", "failureReason"))
        detail = f"{error_code}: {failure}" if failure else str(error_code)
        return [
            context.event(
                AuthenticationFailed,
                subject,
                occurred_at,
                record_id=record_id,
                reason=_FAILURES.get(error_code, FailureReason.OTHER),
                detail=detail[:1024],
            )
        ]
    return [
        context.event(
            SessionStarted,
            subject,
            occurred_at,
            record_id=record_id,
            mfa=_multifactor(properties),
            auth_method=_auth_method(kind, properties),
        )
    ]


def _normalised(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(body.get("properties"), dict):
        return _KINDS[body["category"]], body["properties"]
    if body.get("Type") in _KINDS:
        return _KINDS[body["Type"]], _from_columns(body)
    kind = INTERACTIVE if body.get("isInteractive", True) else NON_INTERACTIVE
    if text(body.get("servicePrincipalId")) and not text(body.get("userId")):
        kind = SERVICE_PRINCIPAL
    return kind, body


def _from_columns(row: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for column, value in row.items():
        name = _COLUMN_ALIASES.get(column) or column[:1].lower() + column[1:]
        if isinstance(value, str) and value[:1] in ("{", "["):
            # Log Analytics exports dynamic columns as JSON text.
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        properties[name] = value
    if "errorCode" in properties and not isinstance(properties.get("status"), dict):
        properties["status"] = {
            "errorCode": properties["errorCode"],
            "failureReason": properties.get("failureReason"),
        }
    return properties


def _subject(
    kind: str,
    category: SessionCategory,
    properties: dict[str, Any],
    body: dict[str, Any],
) -> Subject:
    tenant = optional_identifier(properties.get("homeTenantId") or body.get("tenantId"))
    session = text(properties.get("sessionId")) or text(
        properties.get("correlationId") or body.get("correlationId")
    )
    if session is None:
        raise RecordRejected("sign-in has neither sessionId nor correlationId")
    user_session = prefixed("entra", session, "sessionId")
    origin = source(
        ip=properties.get("ipAddress") or body.get("callerIpAddress"),
        country=dig(properties, "location", "countryOrRegion"),
        region=dig(properties, "location", "state"),
        asn=properties.get("autonomousSystemNumber"),
        user_agent=properties.get("userAgent"),
        device_id=dig(properties, "deviceDetail", "deviceId"),
    )
    if category is SessionCategory.USER:
        return Subject(
            session_id=user_session,
            category=category,
            principal=_user(properties, tenant),
            source=origin,
        )
    app = _app(kind, properties, tenant)
    if category is SessionCategory.AGENT:
        return Subject(
            session_id=user_session, category=category, principal=app, source=origin
        )
    user = _user(properties, tenant)
    evidence_of_user_session = text(properties.get("sessionId")) is not None
    return Subject(
        session_id=prefixed("entra", f"{session}:app:{app.id}", "session"),
        category=category,
        principal=app,
        delegation=delegation(user.id, user_session, app),
        parent_session_id=user_session if evidence_of_user_session else None,
        source=origin,
    )


def _user(properties: dict[str, Any], tenant: str | None) -> Principal:
    user_id = _user_id(properties)
    if user_id is None:
        raise RecordRejected("user sign-in names no userPrincipalName or userId")
    return principal(
        identifier(user_id, "userPrincipalName"),
        PrincipalKind.HUMAN,
        display_name=properties.get("userDisplayName"),
        tenant=tenant,
    )


def _user_id(properties: dict[str, Any]) -> str | None:
    return text(properties.get("userPrincipalName")) or text(properties.get("userId"))


def _app(kind: str, properties: dict[str, Any], tenant: str | None) -> Principal:
    if kind in (SERVICE_PRINCIPAL, MANAGED_IDENTITY):
        app_id = properties.get("appId") or properties.get("servicePrincipalId")
        name = properties.get("servicePrincipalName") or properties.get(
            "appDisplayName"
        )
    else:
        app_id = properties.get("appId")
        name = properties.get("appDisplayName")
    kind_of_app = (
        PrincipalKind.WORKLOAD
        if kind == MANAGED_IDENTITY
        else PrincipalKind.SERVICE_ACCOUNT
    )
    return principal(
        identifier(app_id, "appId"), kind_of_app, display_name=name, tenant=tenant
    )


def _error_code(properties: dict[str, Any]) -> int:
    code = dig(properties, "status", "errorCode")
    try:
        return int(code or 0)
    except (TypeError, ValueError):
        return -1


def _multifactor(properties: dict[str, Any]) -> bool:
    if properties.get("authenticationRequirement") == "multiFactorAuthentication":
        return True
    if text(dig(properties, "mfaDetail", "authMethod")):
        return True
    details = properties.get("authenticationDetails") or []
    steps = {
        detail.get("authenticationStepRequirement")
        for detail in details
        if isinstance(detail, dict) and detail.get("succeeded")
    }
    return any("multi" in str(step).lower() for step in steps)


def _auth_method(kind: str, properties: dict[str, Any]) -> str | None:
    if kind == MANAGED_IDENTITY:
        return "managed_identity"
    if kind == SERVICE_PRINCIPAL:
        credential = text(properties.get("clientCredentialType"))
        return optional_identifier(credential or "client_credentials")
    for detail in properties.get("authenticationDetails") or []:
        if isinstance(detail, dict) and detail.get("succeeded"):
            method = text(detail.get("authenticationMethod"))
            if method:
                return optional_identifier(method.lower())
    return None


FORMAT = LogFormat(
    name="entra",
    title="Microsoft Entra ID sign-in logs",
    recognises=recognises,
    mapper=stateless(map_sign_in),
)
