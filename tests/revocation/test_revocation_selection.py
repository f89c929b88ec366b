"""Which sessions a command hits, and the emergency floor in validity answers."""

from __future__ import annotations

from domain.session_events import agent_started, at, envelope, fold_all, user_started
from revocation_commands import COMMAND_ID, emergency, revoke, revoked, select

from ledger.domain.revocation import FLOOR_REASON, matches, selects
from ledger.domain.validity import validity
from ledger.policy import Policy
from schemas import (
    Principal,
    PrincipalKind,
    SessionCategory,
    SessionSelector,
    SessionStarted,
)

SCANNER = Principal(
    id="svc-scan@acme",
    kind=PrincipalKind.SERVICE_ACCOUNT,
    agent_type="scanner",
    roles=("reader", "crawler"),
)


def _scanner(session: str, minute: float, team: str) -> SessionStarted:
    return SessionStarted(
        **envelope(session, at(minute), SCANNER, labels={"team": team})
    )


def _records():
    records, _ = fold_all(
        [
            user_started("u1", at(0), labels={"team": "red"}),
            agent_started("a1", at(1), labels={"team": "red", "env": "prod"}),
            _scanner("s1", 2, "red"),
            _scanner("s2", 40, "blue"),
        ]
    )
    return records


def test_selector_with_several_criteria_matches_only_when_all_match() -> None:
    records = _records()
    selector = SessionSelector(
        category="agent", agent_type="scanner", role="crawler", labels={"team": "red"}
    )

    assert [s for s, r in sorted(records.items()) if matches(selector, r)] == ["s1"]


def test_selector_by_principal_and_start_time_matches_earlier_sessions_only() -> None:
    records = _records()
    selector = SessionSelector(principal_id=SCANNER.id, started_before=at(10))

    assert [s for s, r in sorted(records.items()) if matches(selector, r)] == ["s1"]


def test_emergency_selects_active_sessions_of_its_category_started_by_floor() -> None:
    records = _records()
    command = emergency(at(30))

    chosen = [s for s, r in sorted(records.items()) if selects(command, r)]

    assert chosen == ["a1", "s1"]


def test_selector_skips_sessions_already_revoked() -> None:
    records = _records()
    records, _ = fold_all(
        [revoked(revoke("a1"), records["a1"])], records=records, first_offset=100
    )

    assert not selects(select(labels={"team": "red"}), records["a1"])
    assert selects(select(labels={"team": "red"}), records["u1"])


def test_revocation_event_is_the_same_for_the_same_command_and_session() -> None:
    records = _records()

    first = revoked(select(category="agent"), records["a1"])
    again = revoked(select(category="agent"), records["a1"])

    assert first == again and first.command_id == COMMAND_ID
    assert first.cause == "selector" and first.cascade_root == "a1"
    assert revoked(emergency(), records["a1"]).cascade is False


def test_validity_under_emergency_floor_is_inactive_before_revocation() -> None:
    records = _records()
    policy = Policy()

    cut = validity("s1", records["s1"], at(31), policy, floor=at(30))
    later = validity("s2", records["s2"], at(41), policy, floor=at(30))
    unfloored = validity("s1", records["s1"], at(31), policy)

    assert (cut.active, cut.reason, cut.status) == (False, FLOOR_REASON, "active")
    assert later.active is True
    assert unfloored.active is True
    assert records["u1"].category is SessionCategory.USER
