"""AWS CloudTrail: who is a person, a program or a program acting for a person."""

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
    FailureReason,
    SessionCategory,
    SessionStarted,
    TokenIssued,
)

ACCOUNT = "123456789012"


def call(name: str, identity: dict, **fields: object) -> dict:
    return {
        "eventVersion": "1.08",
        "eventID": f"id-{name}",
        "eventTime": "2024-05-02T10:00:00Z",
        "eventSource": fields.pop("eventSource", "s3.amazonaws.com"),
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.7",
        "userIdentity": {"accountId": ACCOUNT, **identity},
        **fields,
    }


def iam_user(key: str) -> dict:
    return {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/etl",
        "userName": "etl",
        "accessKeyId": key,
    }


def test_cloudtrail_long_term_access_key_call_is_agent(map_records) -> None:
    record = call("GetObject", iam_user("AKIAEXAMPLEKEY000001"))

    event = only_event(map_records("cloudtrail", [record]))

    assert isinstance(event, AccessRecorded)
    assert event.category is SessionCategory.AGENT
    assert event.session_id == "aws:AKIAEXAMPLEKEY000001"
    assert event.principal.id == f"arn:aws:iam::{ACCOUNT}:user/etl"


def test_cloudtrail_console_session_call_is_user(map_records) -> None:
    identity = {
        **iam_user("ASIAEXAMPLEKEY000002"),
        "sessionCredentialFromConsole": "true",
    }
    record = call("ListBuckets", identity, errorCode="AccessDenied")

    event = only_event(map_records("cloudtrail", [record]))

    assert event.category is SessionCategory.USER
    assert isinstance(event, AccessRecorded)
    assert event.outcome is AccessOutcome.DENIED


def test_cloudtrail_assume_role_with_source_identity_is_hybrid(map_records) -> None:
    record = call(
        "AssumeRole",
        {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Builder/alice",
            "accessKeyId": "ASIACALLER0000000003",
        },
        eventSource="sts.amazonaws.com",
        requestParameters={
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/Agent",
            "sourceIdentity": "alice@example.com",
        },
        responseElements={
            "credentials": {
                "accessKeyId": "ASIANEWSESSION000004",
                "expiration": "Sep 20, 2024, 4:14:46 PM",
            },
            "assumedRoleUser": {
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Agent/copilot"
            },
        },
    )

    event = only_event(map_records("cloudtrail", [record]))

    assert isinstance(event, TokenIssued)
    assert event.category is SessionCategory.HYBRID
    assert event.session_id == "aws:ASIANEWSESSION000004"
    assert event.parent_session_id == "aws:ASIACALLER0000000003"
    assert event.principal.id == f"arn:aws:sts::{ACCOUNT}:assumed-role/Agent/copilot"
    assert event.delegation is not None
    assert event.delegation.subject == "alice@example.com"
    assert event.token_id == "ASIANEWSESSION000004"
    assert event.expires_at == datetime(2024, 9, 20, 16, 14, 46, tzinfo=UTC)


def test_cloudtrail_service_role_call_is_agent(map_records) -> None:
    identity = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/lambda-exec/fn-1",
        "accessKeyId": "ASIALAMBDA0000000005",
        "sessionContext": {"sessionIssuer": {"userName": "lambda-exec"}},
    }

    event = only_event(map_records("cloudtrail", [call("PutItem", identity)]))

    assert event.category is SessionCategory.AGENT


def test_cloudtrail_expired_token_is_authentication_failure(map_records) -> None:
    record = call(
        "GetObject", iam_user("AKIAEXAMPLEKEY000001"), errorCode="ExpiredToken"
    )

    event = only_event(map_records("cloudtrail", [record]))

    assert isinstance(event, AuthenticationFailed)
    assert event.reason is FailureReason.EXPIRED_CREDENTIAL


def test_cloudtrail_sentinel_csv_checked_by_hand(realdata: Path) -> None:
    path = (
        realdata
        / "azure-sentinel-sample-data"
        / "AWS_CloudTrail_Authentication_IngestedLogs.csv"
    )
    events = [
        event
        for outcome in ingest_file(path, "cloudtrail", IngestOptions())
        for event in outcome.events
    ]

    # Rows 12-14: two failed console logins of sharmamanis, then one with MFA.
    failed, _, succeeded = events[12:15]
    assert isinstance(failed, AuthenticationFailed)
    assert failed.reason is FailureReason.BAD_CREDENTIALS
    assert failed.principal.id == "arn:aws:iam::072643944673:user/sharmamanis"
    assert failed.occurred_at == datetime(2025, 3, 29, 11, 10, 9, tzinfo=UTC)
    assert isinstance(succeeded, SessionStarted)
    assert succeeded.mfa is True
    assert succeeded.category is SessionCategory.USER
    # A console login carries no key: the session is the principal's hour.
    assert succeeded.session_id.startswith("aws:")
    assert succeeded.session_id.endswith(":20250329T11")
    assert failed.session_id == succeeded.session_id
