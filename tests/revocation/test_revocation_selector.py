"""Selector revocations reach every partition and hit only what matches."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from kafka_fixtures import wait_for
from revocation_story import NOT_SCANNED, SCANNED
from revocation_worker import PARTITIONS, assert_replay_changes_nothing

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def selected(story):
    """A selector naming category, agent type, role, label and start, sent once."""
    worker = story.worker
    handled = worker.engine()["commands"].get("revoke.selector", 0)
    command = {
        "type": "revoke.selector",
        "command_id": str(uuid.uuid4()),
        "reason": "scanner credentials leaked",
        "selector": {
            "category": "agent",
            "agent_type": "scanner",
            "role": "crawler",
            "labels": {"team": "red"},
            "started_before": (story.t0 + timedelta(minutes=5)).isoformat(),
        },
    }
    status, body = worker.post("/revocations", command)
    assert status == 202, body
    assert body["partitions"] == list(range(PARTITIONS))
    wait_for(
        lambda: (
            worker.engine()["commands"].get("revoke.selector", 0)
            >= handled + PARTITIONS
        ),
        120,
        "the selector handled on every partition",
        on_timeout=worker.process.log_tail,
    )
    worker.wait_for_status([SCANNED], "revoked")
    return command


def test_selector_revokes_only_sessions_matching_every_criterion(
    story, selected
) -> None:
    worker = story.worker

    revoked = [
        event
        for event in worker.ledger_events("session.revoked")
        if str(event.command_id) == selected["command_id"]
    ]

    assert [event.session_id for event in revoked] == [SCANNED]
    assert revoked[0].cause == "selector"
    for session in NOT_SCANNED:
        assert worker.validity(session)["active"] is True, session


def test_replaying_selector_revokes_and_notifies_nothing(story, selected) -> None:
    assert_replay_changes_nothing(story.worker, selected)
