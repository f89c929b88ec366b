"""Windows Security logon events: machine and service accounts, sessions, shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ingest_checks import only_event

from ledger.logs.ingest import ingest_file
from ledger.logs.mapping import IngestOptions
from schemas import (
    AccessRecorded,
    AuthenticationFailed,
    FailureReason,
    SessionCategory,
    SessionEnded,
    SessionStarted,
)


def evtx_json(event_id: int, **data: object) -> dict:
    return {
        "Event": {
            "System": {
                "EventID": event_id,
                "EventRecordID": 42,
                "Computer": "WS-07",
                "TimeCreated": {
                    "#attributes": {"SystemTime": "2024-05-02T10:00:00.000000Z"}
                },
            },
            "EventData": data,
        }
    }


def logon(name: str, domain: str, logon_type: int) -> dict:
    return evtx_json(
        4624,
        TargetUserName=name,
        TargetDomainName=domain,
        TargetLogonId="0x1A2B",
        LogonType=logon_type,
        IpAddress="192.0.2.44",
        AuthenticationPackageName="Kerberos",
    )


def test_windows_machine_account_logon_is_agent(map_records) -> None:
    event = only_event(map_records("windows", [logon("WS-07$", "CORP", 3)]))

    assert isinstance(event, SessionStarted)
    assert event.category is SessionCategory.AGENT
    assert event.principal.id == "WS-07$@CORP"
    assert event.session_id == "win:WS-07:0x1a2b"


def test_windows_interactive_person_is_user(map_records) -> None:
    event = only_event(map_records("windows", [logon("alice", "CORP", 2)]))

    assert event.category is SessionCategory.USER
    assert event.principal.id == "alice@CORP"
    assert event.auth_method == "kerberos"
    assert event.labels["windows.logon_type"] == "2"


def test_windows_service_logon_of_a_named_account_is_agent(map_records) -> None:
    event = only_event(map_records("windows", [logon("svc_backup", "CORP", 5)]))

    assert event.category is SessionCategory.AGENT


def test_windows_builtin_service_identity_is_normalised_agent(map_records) -> None:
    event = only_event(
        map_records("windows", [logon("LOCAL SERVICE", "NT AUTHORITY", 5)])
    )

    assert event.principal.id == "LOCAL_SERVICE@NT_AUTHORITY"
    assert event.category is SessionCategory.AGENT


def test_windows_fixed_system_logon_id_is_one_session_per_hour(map_records) -> None:
    def system_logon(at: str) -> dict:
        record = evtx_json(
            4624,
            TargetUserName="SYSTEM",
            TargetDomainName="NT AUTHORITY",
            TargetLogonId="0x3E7",
            LogonType=5,
        )
        record["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"] = at
        return record

    early, same_hour, later = (
        only_event(map_records("windows", [system_logon(at)]))
        for at in (
            "2024-05-02T10:00:00Z",
            "2024-05-02T10:59:00Z",
            "2024-05-09T10:00:00Z",
        )
    )

    assert early.session_id == same_hour.session_id
    assert early.session_id != later.session_id
    assert early.session_id.startswith("win:WS-07:")
    assert early.session_id.endswith(":20240502T10:0x3e7")


def test_windows_failed_logon_reason_from_sub_status(map_records) -> None:
    record = evtx_json(
        4625,
        TargetUserName="alice",
        TargetDomainName="CORP",
        Status="0xC000006D",
        SubStatus="0xC0000234",
        LogonType=3,
    )

    event = only_event(map_records("windows", [record]))

    assert isinstance(event, AuthenticationFailed)
    assert event.reason is FailureReason.LOCKED_OUT


def test_windows_winlogbeat_shape_logoff_ends_session(map_records) -> None:
    record = {
        "@timestamp": "2024-05-02T18:00:00Z",
        "winlog": {
            "event_id": "4634",
            "computer_name": "WS-07",
            "record_id": 77,
            "event_data": {
                "TargetUserName": "alice",
                "TargetDomainName": "CORP",
                "TargetLogonId": "0x1a2b",
            },
        },
    }

    event = only_event(map_records("windows", [record]))

    assert isinstance(event, SessionEnded)
    assert event.session_id == "win:WS-07:0x1a2b"


def test_windows_evtx_records_checked_by_hand(realdata: Path) -> None:
    outcomes = list(
        ingest_file(
            realdata / "ocsf-examples" / "windows-evtx" / "security.evtx",
            "windows",
            IngestOptions(),
        )
    )

    [first] = next(outcome.events for outcome in outcomes if outcome.events)
    assert first.labels["ingest.record"] == "37L4247F27-25:2"  # EventRecordID
    assert isinstance(first, SessionStarted)
    assert first.principal.id == "SYSTEM@NT_AUTHORITY"
    assert first.category is SessionCategory.AGENT
    # SYSTEM's fixed logon id is reused by every boot: one session per hour.
    assert first.session_id.startswith("win:37L4247F27-25:")
    assert first.session_id.endswith(":20160708T18:0x3e7")
    assert first.occurred_at == datetime(2016, 7, 8, 18, 12, 51, 681640, UTC)
    logoffs = [
        event
        for outcome in outcomes
        for event in outcome.events
        if isinstance(event, SessionEnded) and event.principal.id.startswith("fsir@")
    ]
    assert logoffs
    assert all(event.category is SessionCategory.USER for event in logoffs)
    privileged = [
        event
        for outcome in outcomes
        for event in outcome.events
        if isinstance(event, AccessRecorded) and event.operation == "special_privileges"
    ]
    assert len(privileged) == 459
    assert "SeDebugPrivilege" in privileged[0].resource


def test_windows_rendered_text_event_checked_by_hand(realdata: Path) -> None:
    path = realdata / "ocsf-examples" / "windows-4625" / "4625_0.event"

    [outcome] = list(ingest_file(path, "windows", IngestOptions()))

    [event] = outcome.events
    assert isinstance(event, AuthenticationFailed)
    assert event.principal.id == "Administrator@EC2AMAZ-6KJ2BPP"
    assert event.category is SessionCategory.USER
    assert event.reason is FailureReason.BAD_CREDENTIALS
    # Rendered times carry no zone: read in --timezone, UTC by default.
    assert event.occurred_at == datetime(2020, 10, 8, 12, 41, 47, tzinfo=UTC)
