"""Parents and children: links on the parent, expiries cascade to every level."""

from __future__ import annotations

from session_events import (
    INVOICES,
    agent_started,
    at,
    ended,
    fold_all,
    hybrid_started,
    user_started,
)

from ledger.domain.fold import apply
from ledger.policy import Policy
from schemas import (
    ChildSessionLinked,
    ExpiryReason,
    LinkKind,
    Scope,
    SessionExpired,
    SessionRevoked,
    SessionStatus,
    ViolationKind,
)


def test_child_start_appends_link_keyed_by_parent() -> None:
    _, effects = fold_all([agent_started("a1", at(1), parent_session_id="u1")])

    [link] = effects
    assert isinstance(link, ChildSessionLinked)
    assert (link.session_id, link.child_session_id) == ("u1", "a1")
    assert link.link is LinkKind.CHILD
    assert (
        link.child_principal is not None and link.child_principal.id == "svc-docs@acme"
    )


def test_parent_end_expires_three_level_chain() -> None:
    events = [
        user_started("u1", at(0)),
        agent_started("a1", at(1), parent_session_id="u1"),
        agent_started("a2", at(2), parent_session_id="a1"),
        ended("u1", at(10)),
    ]

    records, effects = fold_all(events, settle=True)

    for child in ("a1", "a2"):
        assert records[child].status is SessionStatus.EXPIRED
        assert records[child].status_reason == ExpiryReason.PARENT.value
        assert records[child].ended_at == at(10)
    expiries = [e for e in effects if isinstance(e, SessionExpired)]
    assert sorted(e.session_id for e in expiries) == ["a1", "a2"]


def test_link_reaching_ended_parent_expires_child_at_once() -> None:
    records, _ = fold_all(
        [
            user_started("u1", at(0)),
            ended("u1", at(5)),
            agent_started("late", at(6), parent_session_id="u1"),
        ],
        settle=True,
    )

    assert records["late"].status is SessionStatus.EXPIRED
    assert records["late"].status_reason == "parent"


def test_repeated_link_is_a_no_op() -> None:
    records, effects = fold_all(
        [user_started("u1", at(0)), agent_started("a1", at(1), parent_session_id="u1")]
    )
    [link] = effects
    before = records["u1"]

    after, effects = apply(before, link, Policy(), partition=0, offset=50)
    twice, more = apply(after, link, Policy(), partition=0, offset=51)

    assert len(after.children) == 1 and effects == ()
    assert twice is after and more == ()


def test_hybrid_dies_with_its_user_session() -> None:
    records, _ = fold_all(
        [
            user_started("u1", at(0), scopes=(INVOICES,)),
            hybrid_started("h1", "u1", at(1), scopes=(INVOICES,)),
            ended("u1", at(20)),
        ],
        settle=True,
    )

    assert records["u1"].children[0].link is LinkKind.DELEGATE
    assert records["h1"].status is SessionStatus.EXPIRED
    assert records["h1"].status_reason == "parent"


def test_hybrid_scope_beyond_user_is_revoked_with_violation() -> None:
    wider = Scope(resource="s3://*", operations=("read", "write"))
    records, effects = fold_all(
        [
            user_started("u1", at(0), scopes=(INVOICES,)),
            hybrid_started("h1", "u1", at(1), scopes=(wider,)),
        ],
        settle=True,
    )

    [revoked] = [e for e in effects if isinstance(e, SessionRevoked)]
    assert revoked.session_id == "h1" and revoked.cause == "policy"
    hybrid = records["h1"]
    assert hybrid.status is SessionStatus.REVOKED
    assert "s3://*" in (hybrid.status_reason or "")
    [violation] = hybrid.violations
    assert violation.kind is ViolationKind.SCOPE_BEYOND_SUBJECT


def test_hybrid_within_user_scopes_stays_active() -> None:
    narrower = Scope(resource="s3://invoices/2025/*", operations=("read",))
    records, effects = fold_all(
        [
            user_started("u1", at(0), scopes=(INVOICES,)),
            hybrid_started("h1", "u1", at(1), scopes=(narrower,)),
        ],
        settle=True,
    )

    assert records["h1"].status is SessionStatus.ACTIVE
    assert not any(isinstance(e, SessionRevoked) for e in effects)


def test_hybrid_of_unknown_user_session_is_refused() -> None:
    records, _ = fold_all([hybrid_started("h1", "ghost", at(1))], settle=True)

    assert records["h1"].status is SessionStatus.REVOKED
    assert "never seen" in (records["h1"].status_reason or "")
