"""Parents end their children across partitions; hybrids follow their user."""

from __future__ import annotations

import pytest
from story import (
    GREEDY,
    HYBRID,
    HYBRID_USER,
    LEAF,
    MID,
    ROOT,
    at,
    partition_of,
)

pytestmark = pytest.mark.broker


def test_ending_root_of_three_level_chain_ends_every_descendant(story_run) -> None:
    assert len({partition_of(session) for session in (ROOT, MID, LEAF)}) == 3

    root = story_run.live.record(ROOT)

    assert root["status"] == "ended" and root["status_reason"] == "logout"
    assert [child["session_id"] for child in root["children"]] == [MID]
    for child, parent in ((MID, ROOT), (LEAF, MID)):
        [expiry] = story_run.appended("session.expired", child)
        assert (expiry.reason, expiry.parent_session_id) == ("parent", parent)
        assert expiry.deadline == at(30)
        assert story_run.live.record(child)["status"] == "expired"


def test_hybrid_expires_with_its_user_session(story_run) -> None:
    [user_expiry] = story_run.appended("session.expired", HYBRID_USER)
    [hybrid_expiry] = story_run.appended("session.expired", HYBRID)

    assert user_expiry.reason == "idle"
    assert hybrid_expiry.reason == "parent"
    assert hybrid_expiry.deadline == user_expiry.occurred_at
    assert story_run.live.validity(HYBRID)["active"] is False


def test_hybrid_asking_beyond_its_user_scopes_is_revoked(story_run) -> None:
    [revoked] = story_run.appended("session.revoked", GREEDY)
    record = story_run.live.record(GREEDY)

    assert revoked.cause == "policy" and revoked.violation == "scope_beyond_subject"
    assert record["status"] == "revoked"
    assert [v["kind"] for v in record["violations"]] == ["scope_beyond_subject"]
