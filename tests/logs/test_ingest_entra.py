"""Entra ID sign-ins: categories, sessions and a hand check of real records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ingest_checks import only_event

from ledger.logs.ingest import ingest_file
from ledger.logs.mapping import IngestOptions
from schemas import (
    AuthenticationFailed,
    FailureReason,
    SessionCategory,
    SessionStarted,
)

AZURE = "elastic-integrations-azure"


def sign_in(category: str, **properties: object) -> dict:
    return {
        "time": "2024-05-02T10:00:00Z",
        "category": category,
        "tenantId": "tenant-1",
        "properties": {
            "id": "sign-in-1",
            "createdDateTime": "2024-05-02T10:00:00.1234567+00:00",
            "correlationId": "corr-1",
            "appId": "app-1",
            "appDisplayName": "Copilot",
            "status": {"errorCode": 0},
            **properties,
        },
    }


def test_entra_service_principal_sign_in_is_agent(map_records) -> None:
    record = sign_in(
        "ServicePrincipalSignInLogs",
        servicePrincipalId="sp-1",
        servicePrincipalName="nightly-etl",
    )

    event = only_event(map_records("entra", [record]))

    assert isinstance(event, SessionStarted)
    assert event.category is SessionCategory.AGENT
    assert event.principal.id == "app-1"
    assert event.session_id == "entra:corr-1"


def test_entra_managed_identity_sign_in_is_agent(map_records) -> None:
    record = sign_in("ManagedIdentitySignInLogs", servicePrincipalName="aks-pool")

    event = only_event(map_records("entra", [record]))

    assert event.category is SessionCategory.AGENT
    assert event.auth_method == "managed_identity"


def test_entra_interactive_user_sign_in_is_user_with_mfa(map_records) -> None:
    record = sign_in(
        "SignInLogs",
        userPrincipalName="alice@example.com",
        sessionId="sso-7",
        authenticationRequirement="multiFactorAuthentication",
    )

    event = only_event(map_records("entra", [record]))

    assert event.category is SessionCategory.USER
    assert event.principal.id == "alice@example.com"
    assert event.session_id == "entra:sso-7"
    assert event.mfa is True


def test_entra_non_interactive_sign_in_for_user_is_hybrid(map_records) -> None:
    record = sign_in(
        "NonInteractiveUserSignInLogs",
        userPrincipalName="alice@example.com",
        sessionId="sso-7",
    )

    event = only_event(map_records("entra", [record]))

    assert event.category is SessionCategory.HYBRID
    assert event.principal.id == "app-1"
    assert event.delegation is not None
    assert event.delegation.subject == "alice@example.com"
    assert event.delegation.subject_session_id == "entra:sso-7"
    assert [actor.id for actor in event.delegation.actors] == ["app-1"]
    assert event.parent_session_id == "entra:sso-7"
    assert event.session_id == "entra:sso-7:app:app-1"


def test_entra_log_analytics_row_maps_like_diagnostic_record(map_records) -> None:
    row = {
        "Type": "SigninLogs",
        "TimeGenerated": "2024-05-02T10:00:00Z",
        "UserPrincipalName": "bob@example.com",
        "AppId": "app-2",
        "CorrelationId": "corr-2",
        "IPAddress": "203.0.113.5",
        "Location": "DE",
        "LocationDetails": '{"countryOrRegion": "DE", "state": "Berlin"}',
        "Status": '{"errorCode": 50126, "failureReason": "Invalid password"}',
    }

    event = only_event(map_records("entra", [row]))

    assert isinstance(event, AuthenticationFailed)
    assert event.reason is FailureReason.BAD_CREDENTIALS
    assert event.principal.id == "bob@example.com"
    assert event.source is not None
    assert (event.source.ip, event.source.country) == ("203.0.113.5", "DE")


def test_entra_real_samples_checked_by_hand(realdata: Path) -> None:
    options = IngestOptions()
    sp = [
        event
        for outcome in ingest_file(
            realdata / AZURE / "test-service-principal-signinlogs-sample.log",
            "entra",
            options,
        )
        for event in outcome.events
    ]
    first = sp[0]
    assert isinstance(first, SessionStarted)
    assert first.principal.id == "6131d760-7fda-4db5-8bb1-b771898e9f15"
    assert first.principal.display_name == "Terraform-Datadog-CLI"
    assert first.category is SessionCategory.AGENT
    assert first.session_id == "entra:59fe2cc8-d7b0-4f88-a541-3399f4eff9b2"
    assert first.occurred_at == datetime(2022, 2, 8, 6, 22, 28, 351840, UTC)

    interactive = [
        event
        for outcome in ingest_file(
            realdata / AZURE / "test-signinlogs.log", "entra", options
        )
        for event in outcome.events
    ]
    # createdDateTime is written at -05:00; the event time is UTC.
    assert interactive[0].occurred_at == datetime(2019, 10, 18, 9, 45, 48, 72989, UTC)
    assert isinstance(interactive[0], AuthenticationFailed)
    assert interactive[0].principal.id == "test@elastic.co"
    assert interactive[0].reason is FailureReason.OTHER
    assert interactive[0].detail is not None
    assert interactive[0].detail.startswith("50140: ")
