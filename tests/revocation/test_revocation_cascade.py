"""Cascades over three levels and across partitions, and their notices."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest
from revocation_story import (
    BESIDE,
    BESIDE_CHILD,
    BESIDE_HYBRID,
    LEAF,
    MID,
    ROOT,
    ROOT_HYBRID,
    SOLO,
    SOLO_CHILD,
    SOLO_HYBRID,
    partition_of,
)
from revocation_worker import assert_replay_changes_nothing

from schemas import RevocationNotice
from schemas.outputs import CAEP_SESSION_REVOKED

pytestmark = pytest.mark.broker

FAMILY = (ROOT, MID, LEAF, ROOT_HYBRID)


def _notices(worker, sessions) -> Counter:
    """(session, format) of every notice for `sessions` so far."""
    found = Counter()
    for record in worker.topic("LEDGER_TOPIC_REVOCATIONS"):
        session = record.key.decode()
        if session in sessions:
            form = dict(record.headers)["ledger-notice-format"].decode()
            found[(session, form)] += 1
    return found


def _root_command(command_id: str) -> dict:
    return {
        "type": "revoke.session",
        "command_id": command_id,
        "session_id": ROOT,
        "reason": "alice's laptop stolen",
    }


@pytest.fixture(scope="module")
def cascaded(story):
    """The root of the three-level chain revoked through the API."""
    worker = story.worker
    command_id = str(uuid.uuid4())
    status, body = worker.post("/revocations", _root_command(command_id))
    assert status == 202, body
    assert body["command_id"] == command_id
    worker.wait_for_status(FAMILY, "revoked")
    return command_id


def test_cascade_over_three_partitions_revokes_descendants_and_hybrid(
    story, cascaded
) -> None:
    worker = story.worker
    assert len({partition_of(s) for s in FAMILY}) == 4

    revoked = {
        e.session_id: e
        for e in worker.ledger_events("session.revoked")
        if str(e.command_id) == cascaded
    }

    assert sorted(revoked) == sorted(FAMILY)
    assert revoked[ROOT].cause == "command"
    for session in (MID, LEAF, ROOT_HYBRID):
        assert revoked[session].cause == "cascade"
        assert revoked[session].cascade_root == ROOT
        assert worker.record(session)["revocation"]["cascade_root"] == ROOT
    for untouched in (BESIDE, BESIDE_CHILD, BESIDE_HYBRID):
        assert worker.validity(untouched)["active"] is True


def test_revocation_without_cascade_takes_hybrid_and_spares_child(story) -> None:
    worker = story.worker

    status, _ = worker.post(
        "/revocations",
        {
            "type": "revoke.session",
            "session_id": SOLO,
            "cascade": False,
            "reason": "session hijack suspected",
        },
    )
    worker.wait_for_status((SOLO, SOLO_HYBRID), "revoked")

    assert status == 202
    assert worker.validity(SOLO_CHILD)["active"] is True
    assert worker.status_of(SOLO_CHILD) == "active"


def test_notices_are_published_once_per_session_in_both_formats(
    story, cascaded
) -> None:
    worker = story.worker

    counted = _notices(worker, FAMILY)
    ledger = {}
    caep = {}
    for record in worker.topic("LEDGER_TOPIC_REVOCATIONS"):
        form = dict(record.headers)["ledger-notice-format"]
        session = record.key.decode()
        if session in FAMILY:
            target = ledger if form == b"ledger" else caep
            target[session] = record.value

    assert counted == Counter({(s, f): 1 for s in FAMILY for f in ("ledger", "caep")})
    notice = RevocationNotice.model_validate_json(ledger[LEAF])
    assert (notice.cause, notice.cascade_root) == ("cascade", ROOT)
    assert str(notice.command_id) == cascaded
    token = json.loads(caep[LEAF])
    assert token["iss"] == "urn:test-ledger"
    assert token["jti"] == uuid.uuid5(uuid.UUID(cascaded), LEAF).hex
    event = token["events"][CAEP_SESSION_REVOKED]
    assert event["subject"] == {"format": "opaque", "id": LEAF}
    assert event["initiating_entity"] == "system"


def test_replaying_cascade_command_revokes_and_notifies_nothing(
    story, cascaded
) -> None:
    assert_replay_changes_nothing(story.worker, _root_command(cascaded))
