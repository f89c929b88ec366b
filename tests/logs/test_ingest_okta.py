"""Okta System Log, native and Okta_CL: categories, sessions, real records."""

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
    TokenIssued,
)


def okta_event(event_type: str, actor_type: str = "User", **fields: object) -> dict:
    return {
        "uuid": "11111111-2222-3333-4444-555555555555",
        "published": "2024-05-02T10:00:00.000Z",
        "eventType": event_type,
        "actor": {
            "id": "00u1",
            "type": actor_type,
            "alternateId": "alice@example.com"
            if actor_type == "User"
            else "0oa-client-1",
            "displayName": "Alice",
        },
        "outcome": {"result": "SUCCESS"},
        "authenticationContext": {"externalSessionId": "idx-1"},
        "client": {"ipAddress": "198.51.100.7"},
        **fields,
    }


def test_okta_user_session_start_is_user(map_records) -> None:
    event = only_event(map_records("okta", [okta_event("user.session.start")]))

    assert isinstance(event, SessionStarted)
    assert event.category is SessionCategory.USER
    assert event.principal.id == "alice@example.com"
    assert event.session_id == "okta:idx-1"


def test_okta_client_credentials_grant_is_agent(map_records) -> None:
    record = okta_event(
        "app.oauth2.as.token.grant.access_token",
        actor_type="PublicClientApp",
        authenticationContext={},
        target=[{"id": "AT.abc123", "type": "access_token"}],
    )

    event = only_event(map_records("okta", [record]))

    assert isinstance(event, TokenIssued)
    assert event.category is SessionCategory.AGENT
    assert event.token_id == "AT.abc123"


def test_okta_token_granted_to_client_for_user_is_hybrid(map_records) -> None:
    record = okta_event(
        "app.oauth2.as.token.grant.access_token",
        client={"id": "0oa-mail-agent", "ipAddress": "198.51.100.7"},
    )

    event = only_event(map_records("okta", [record]))

    assert event.category is SessionCategory.HYBRID
    assert event.principal.id == "0oa-mail-agent"
    assert event.delegation is not None
    assert event.delegation.subject == "alice@example.com"
    assert event.delegation.subject_session_id == "okta:idx-1"


def test_okta_mfa_step_failure_is_mfa_failed(map_records) -> None:
    record = okta_event(
        "user.authentication.auth_via_mfa", outcome={"result": "FAILURE"}
    )

    event = only_event(map_records("okta", [record]))

    assert isinstance(event, AuthenticationFailed)
    assert event.reason is FailureReason.MFA_FAILED


def test_okta_real_samples_checked_by_hand(realdata: Path) -> None:
    options = IngestOptions()
    flattened = list(
        ingest_file(
            realdata / "azure-sentinel-sample-data" / "Okta_CL.json", "okta", options
        )
    )
    # CHALLENGE of a policy, then an MFA failure, then a success (a step).
    assert [len(outcome.events) for outcome in flattened] == [0, 1, 0]
    failure = flattened[1].events[0]
    assert isinstance(failure, AuthenticationFailed)
    assert failure.principal.id == "sanitized@sanitized.com"
    assert failure.session_id == "okta:102M55TPJ-YQ1yL8orhbh74Lg"
    assert failure.occurred_at == datetime(2020, 5, 26, 22, 15, 24, 61000, UTC)
    assert failure.source is not None
    assert (failure.source.country, failure.source.asn) == ("US", 10993)

    [native] = [
        event
        for outcome in ingest_file(
            realdata / "ocsf-examples" / "okta" / "authentication.raw", "okta", options
        )
        for event in outcome.events
    ]
    assert isinstance(native, SessionStarted)
    assert native.category is SessionCategory.USER
    assert native.principal.id == "john.doe@example.com"
    assert native.session_id == "okta:idxBager62CSveUkTxvgRtonA"
    assert native.mfa is True
