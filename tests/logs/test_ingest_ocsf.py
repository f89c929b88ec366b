"""OCSF Authentication (3002): activities, categories and real mapped samples."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ingest_checks import only_event

from ledger.logs.ingest import ingest_file
from ledger.logs.mapping import IngestOptions
from schemas import (
    AuthenticationFailed,
    SessionCategory,
    SessionEnded,
    SessionStarted,
)


def authentication(activity: int, status: int, user: dict, **fields: object) -> dict:
    return {
        "class_uid": 3002,
        "activity_id": activity,
        "status_id": status,
        "time": 1714644000000,
        "metadata": {"uid": "evt-1", "version": "1.3.0"},
        "user": user,
        **fields,
    }


def test_ocsf_logon_of_person_is_user_with_mfa(map_records) -> None:
    record = authentication(1, 1, {"email_addr": "alice@example.com"}, is_mfa=True)

    event = only_event(map_records("ocsf", [record]))

    assert isinstance(event, SessionStarted)
    assert event.category is SessionCategory.USER
    assert event.mfa is True
    assert event.occurred_at == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


def test_ocsf_system_user_is_agent(map_records) -> None:
    record = authentication(1, 1, {"name": "backup-runner", "type_id": 3})

    event = only_event(map_records("ocsf", [record]))

    assert event.category is SessionCategory.AGENT


def test_ocsf_app_actor_for_person_is_hybrid(map_records) -> None:
    record = authentication(
        1,
        1,
        {"email_addr": "alice@example.com"},
        actor={"app_name": "mail-assistant"},
        session={"uid": "s-9"},
    )

    event = only_event(map_records("ocsf", [record]))

    assert event.category is SessionCategory.HYBRID
    assert event.principal.id == "mail-assistant"
    assert event.delegation is not None
    assert event.delegation.subject == "alice@example.com"
    assert event.delegation.subject_session_id == "ocsf:s-9"


def test_ocsf_logoff_and_failure_map(map_records) -> None:
    records = [
        authentication(2, 1, {"name": "alice"}, session={"uid": "s-9"}),
        authentication(1, 2, {"name": "alice"}, status_detail="Account locked"),
    ]

    ended, failed = [outcome.events[0] for outcome in map_records("ocsf", records)]

    assert isinstance(ended, SessionEnded)
    assert ended.session_id == "ocsf:s-9"
    assert isinstance(failed, AuthenticationFailed)
    assert failed.reason.value == "locked_out"


def test_ocsf_other_class_is_skipped(map_records) -> None:
    record = authentication(1, 1, {"name": "alice"}) | {"class_uid": 6003}

    [outcome] = map_records("ocsf", [record])

    assert outcome.skipped


def test_ocsf_real_windows_logon_checked_by_hand(realdata: Path) -> None:
    path = realdata / "ocsf-examples" / "windows-4624" / "4624_0.json"

    [outcome] = list(ingest_file(path, "ocsf", IngestOptions()))

    [event] = outcome.events
    assert isinstance(event, SessionStarted)
    assert event.principal.id == "SYSTEM@NT_AUTHORITY"
    assert event.category is SessionCategory.AGENT
    assert event.session_id == "ocsf:win-dc-725.attackrange.local:0x3E7"
    # `time` in milliseconds: the rendered event said 10:48:14 AM at UTC-5.
    assert event.occurred_at == datetime(2021, 3, 12, 15, 48, 14, tzinfo=UTC)
