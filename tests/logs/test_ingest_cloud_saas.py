"""GCP audit, Google Workspace, OneLogin, Auth0 and GitHub: categories and samples."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ingest_checks import only_event

from ledger.logs.ingest import ingest_file
from ledger.logs.mapping import IngestOptions
from schemas import (
    AccessOutcome,
    AccessRecorded,
    AuthenticationFailed,
    SessionCategory,
    SessionStarted,
    TokenIssued,
)

SA = "etl@proj.iam.gserviceaccount.com"


def gcp_entry(principal: str, method: str = "storage.objects.get", **payload) -> dict:
    return {
        "insertId": "ins-1",
        "timestamp": "2024-05-02T10:00:00Z",
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": principal},
            "methodName": method,
            "serviceName": "storage.googleapis.com",
            "resourceName": "projects/_/buckets/b/objects/o",
            **payload,
        },
    }


def test_gcp_service_account_is_agent_and_person_is_user(map_records) -> None:
    outcomes = map_records("gcp", [gcp_entry(SA), gcp_entry("ann@example.com")])

    agent, person = [outcome.events[0] for outcome in outcomes]
    assert agent.category is SessionCategory.AGENT
    assert person.category is SessionCategory.USER


def test_gcp_service_account_driven_by_person_is_hybrid(map_records) -> None:
    entry = gcp_entry(SA)
    entry["protoPayload"]["authenticationInfo"]["serviceAccountDelegationInfo"] = [
        {"firstPartyPrincipal": {"principalEmail": "ann@example.com"}}
    ]

    event = only_event(map_records("gcp", [entry]))

    assert event.category is SessionCategory.HYBRID
    assert event.principal.id == SA
    assert event.delegation is not None
    assert event.delegation.subject == "ann@example.com"


def test_gcp_permission_denied_is_denied_access(map_records) -> None:
    entry = gcp_entry("ann@example.com", status={"code": 7})

    event = only_event(map_records("gcp", [entry]))

    assert isinstance(event, AccessRecorded)
    assert event.outcome is AccessOutcome.DENIED


def test_gcp_workload_identity_token_checked_by_hand(realdata: Path) -> None:
    path = (
        realdata / "elastic-integrations-gcp" / "test-iamcredentials-googleapis-com.log"
    )

    [outcome] = list(ingest_file(path, "gcp", IngestOptions()))

    [event] = outcome.events
    assert isinstance(event, TokenIssued)
    assert event.principal.id == "made-up-ci-account@project-id.iam.gserviceaccount.com"
    assert event.category is SessionCategory.AGENT
    assert event.token_id == "gcp:15djrryd6bap"
    assert event.labels["gcp.caller"].startswith("principal://iam.googleapis.com/")


def test_workspace_login_with_second_factor_checked_by_hand(realdata: Path) -> None:
    path = (
        realdata / "azure-sentinel-sample-data" / "GWorkspace_ReportsAPI_login_CL.json"
    )

    outcomes = list(ingest_file(path, "google_workspace", IngestOptions()))

    [first] = outcomes[0].events
    assert isinstance(first, SessionStarted)
    assert first.mfa is True
    assert first.principal.id == "sanitized_email.com"
    assert first.category is SessionCategory.USER
    assert first.occurred_at == datetime(2020, 11, 9, 22, 47, 35, 492000, UTC)
    assert outcomes[1].skipped  # a passed login_verification


def test_onelogin_events_checked_by_hand(realdata: Path) -> None:
    path = realdata / "azure-sentinel-sample-data" / "OneLogin_CL.json"

    failed, started, ended = [
        outcome.events[0] for outcome in ingest_file(path, "onelogin", IngestOptions())
    ]

    assert isinstance(failed, AuthenticationFailed)
    assert failed.reason.value == "bad_credentials"
    assert isinstance(started, SessionStarted)
    assert started.session_id == "onelogin:2cc0f0bd-feb2-4828-bd6d-5b01044a646c"
    assert started.principal.id == "174676981"
    assert ended.type == "session.ended"


def test_auth0_client_credentials_is_agent_and_code_exchange_hybrid(
    map_records,
) -> None:
    records = [
        {"date": "2024-05-02T10:00:00Z", "type": "seccft", "client_id": "cli-1"},
        {
            "date": "2024-05-02T10:00:01Z",
            "type": "seacft",
            "client_id": "cli-2",
            "user_id": "auth0|ann",
            "log_id": "log-2",
        },
    ]

    machine, delegated = [
        outcome.events[0] for outcome in map_records("auth0", records)
    ]

    assert machine.category is SessionCategory.AGENT
    assert machine.principal.id == "cli-1"
    assert delegated.category is SessionCategory.HYBRID
    assert delegated.principal.id == "cli-2"
    assert delegated.delegation is not None
    assert delegated.delegation.subject == "auth0:ann"


def test_github_bot_is_agent_and_person_is_user(map_records) -> None:
    records = [
        {"action": "user.login", "@timestamp": 1714644000000, "actor": "ann"},
        {
            "action": "user.login",
            "@timestamp": 1714644000000,
            "actor": "deploy[bot]",
        },
    ]

    person, bot = [outcome.events[0] for outcome in map_records("github", records)]

    assert person.category is SessionCategory.USER
    assert bot.category is SessionCategory.AGENT
