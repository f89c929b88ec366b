"""Revocations in the fold: cascades along links, no-cascade, idempotence."""

from __future__ import annotations

from domain.session_events import (
    INVOICES,
    agent_started,
    at,
    fold_all,
    hybrid_started,
    user_started,
)
from revocation_commands import COMMAND_ID, revoke, revoked

from ledger.domain.fold import apply
from ledger.domain.revocation import revocation_id
from ledger.policy import Policy
from schemas import RevocationCause, SessionRevoked, SessionStatus


def _family() -> list:
    """u1 → a1 → a2, a hybrid h1 acting for u1, and an unrelated u2 → a3."""
    return [
        user_started("u1", at(0), scopes=(INVOICES,)),
        agent_started("a1", at(1), parent_session_id="u1"),
        agent_started("a2", at(2), parent_session_id="a1"),
        hybrid_started("h1", "u1", at(3), scopes=(INVOICES,)),
        user_started("u2", at(4)),
        agent_started("a3", at(5), parent_session_id="u2"),
    ]


def test_fold_revoking_root_revokes_descendants_and_hybrids_with_root() -> None:
    records, _ = fold_all(_family(), settle=True)

    records, effects = fold_all(
        [revoked(revoke("u1"), records["u1"])],
        records=records,
        first_offset=100,
        settle=True,
    )

    revocations = [e for e in effects if isinstance(e, SessionRevoked)]
    assert sorted(e.session_id for e in revocations) == ["a1", "a2", "h1"]
    for event in revocations:
        assert event.cause is RevocationCause.CASCADE
        assert event.cascade_root == "u1" and event.command_id == COMMAND_ID
        assert event.event_id == revocation_id(COMMAND_ID, event.session_id)
    for session in ("u1", "a1", "a2", "h1"):
        assert records[session].status is SessionStatus.REVOKED
        assert records[session].revocation.cascade_root == "u1"
    assert records["u2"].active and records["a3"].active


def test_fold_revoking_without_cascade_spares_children_not_hybrids() -> None:
    records, _ = fold_all(_family(), settle=True)

    records, _ = fold_all(
        [revoked(revoke("u1", cascade=False), records["u1"])],
        records=records,
        first_offset=100,
        settle=True,
    )

    assert records["u1"].status is SessionStatus.REVOKED
    assert records["h1"].status is SessionStatus.REVOKED
    assert records["a1"].active and records["a2"].active


def test_fold_late_link_to_revoked_parent_revokes_child_by_cascade() -> None:
    records, _ = fold_all([user_started("u1", at(0))], settle=True)
    records, _ = fold_all(
        [revoked(revoke("u1"), records["u1"])],
        records=records,
        first_offset=100,
        settle=True,
    )

    records, effects = fold_all(
        [agent_started("late", at(40), parent_session_id="u1")],
        records=records,
        first_offset=200,
        settle=True,
    )

    assert records["late"].status is SessionStatus.REVOKED
    assert records["late"].revocation.cascade_root == "u1"
    assert [e.cause for e in effects if isinstance(e, SessionRevoked)] == ["cascade"]


def test_fold_revocation_of_revoked_session_changes_nothing() -> None:
    records, _ = fold_all(_family(), settle=True)
    event = revoked(revoke("u1"), records["u1"])
    records, _ = fold_all([event], records=records, first_offset=100, settle=True)
    before = records["u1"]

    after, effects = apply(before, event, Policy(), partition=0, offset=500)

    assert after is before and effects == ()
