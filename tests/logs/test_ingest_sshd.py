"""sshd and PAM syslog lines: events, sessions, the missing year and categories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest_checks import only_event, only_rejection

from ledger.logs.ingest import ingest_file
from ledger.logs.mapping import IngestOptions
from schemas import (
    AuthenticationFailed,
    FailureReason,
    SessionCategory,
    SessionEnded,
    SessionStarted,
)

ACCEPTED = (
    "Mar  4 09:15:02 bastion sshd[4242]: Accepted publickey for alice from "
    "203.0.113.8 port 52311 ssh2"
)


def test_sshd_accepted_login_starts_user_session(map_records) -> None:
    event = only_event(map_records("sshd", [ACCEPTED]))

    assert isinstance(event, SessionStarted)
    assert event.category is SessionCategory.USER
    assert event.session_id == "sshd:bastion:4242"
    assert event.auth_method == "publickey"
    assert event.occurred_at == datetime(2024, 3, 4, 9, 15, 2, tzinfo=UTC)


def test_sshd_year_and_timezone_options_place_the_line(map_records) -> None:
    options = IngestOptions(year=2019, timezone=ZoneInfo("Europe/Berlin"))

    event = only_event(map_records("sshd", [ACCEPTED], options=options))

    assert event.occurred_at == datetime(2019, 3, 4, 8, 15, 2, tzinfo=UTC)


def test_sshd_december_to_january_starts_next_year(map_records) -> None:
    lines = [
        "Dec 31 23:59:58 h sshd[1]: Accepted password for bob from 192.0.2.1 port 1",
        "Jan  1 00:00:03 h sshd[2]: Accepted password for bob from 192.0.2.1 port 2",
    ]

    outcomes = map_records("sshd", lines)

    years = [outcome.events[0].occurred_at.year for outcome in outcomes]
    assert years == [2024, 2025]


def test_sshd_repeated_failure_line_gives_one_event_per_repeat(map_records) -> None:
    line = (
        "Dec 10 07:13:56 LabSZ sshd[24227]: message repeated 5 times: [ Failed "
        "password for root from 5.36.59.76 port 42393 ssh2]"
    )

    [outcome] = map_records("sshd", [line])

    assert len(outcome.events) == 5
    assert len({event.event_id for event in outcome.events}) == 5
    assert all(isinstance(event, AuthenticationFailed) for event in outcome.events)


def test_sshd_service_account_is_agent_and_root_is_user(map_records) -> None:
    lines = [
        "Jun 14 04:00:00 combo su(pam_unix)[100]: session opened for user news by "
        "(uid=0)",
        "Jun 14 04:00:01 combo sshd(pam_unix)[101]: session opened for user root by "
        "(uid=0)",
    ]

    news, root = [outcome.events[0] for outcome in map_records("sshd", lines)]

    assert (news.principal.id, news.category) == ("news", SessionCategory.AGENT)
    assert (root.principal.id, root.category) == ("root", SessionCategory.USER)


def test_sshd_pam_failure_without_user_is_rejected(map_records) -> None:
    line = (
        "Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; "
        "logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=192.0.2.9 "
    )

    reason = only_rejection(map_records("sshd", [line]))

    assert "names no user" in reason


def test_sshd_real_openssh_login_checked_by_hand(realdata: Path) -> None:
    by_line = {
        outcome.record.position: outcome
        for outcome in ingest_file(
            realdata / "loghub" / "OpenSSH_2k.log", "sshd", IngestOptions()
        )
    }

    [started] = by_line[956].events
    assert isinstance(started, SessionStarted)
    assert started.principal.id == "fztu"
    assert started.session_id == "sshd:LabSZ:24680"
    assert started.occurred_at == datetime(2024, 12, 10, 9, 32, 20, tzinfo=UTC)
    assert started.source is not None
    assert started.source.ip == "119.137.62.142"
    [ended] = by_line[965].events
    assert isinstance(ended, SessionEnded)
    assert ended.session_id == started.session_id
    [invalid] = by_line[6].events
    assert isinstance(invalid, AuthenticationFailed)
    assert invalid.reason is FailureReason.UNKNOWN_PRINCIPAL
    assert invalid.principal.id == "webmaster"


def test_sshd_loghub_csv_gives_the_same_events_as_the_log(realdata: Path) -> None:
    def events(name: str) -> list[tuple]:
        return [
            (e.type, e.session_id, e.principal.id, e.occurred_at)
            for outcome in ingest_file(
                realdata / "loghub" / name, "sshd", IngestOptions()
            )
            for e in outcome.events
        ]

    assert events("OpenSSH_2k.log_structured.csv") == events("OpenSSH_2k.log")
