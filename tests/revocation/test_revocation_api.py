"""POST /revocations and its preview: credentials, counts, nothing done unasked."""

from __future__ import annotations

import pytest
from revocation_story import GUARDED, PREVIEWED
from revocation_worker import PRODUCER_TOKEN, READER_TOKEN

pytestmark = pytest.mark.broker

GUARDED_REVOCATION = {
    "type": "revoke.session",
    "session_id": GUARDED,
    "reason": "should never happen",
}


def test_revocation_without_admin_credential_is_refused_and_revokes_nothing(
    story,
) -> None:
    worker = story.worker
    commands_before = worker.topic_size("LEDGER_TOPIC_COMMANDS")

    answers = [
        worker.post(path, GUARDED_REVOCATION, token=token)[0]
        for path in ("/revocations", "/revocations/preview")
        for token in (None, "not-a-credential", PRODUCER_TOKEN, READER_TOKEN)
    ]

    assert answers == [401, 401, 403, 403] * 2
    assert worker.topic_size("LEDGER_TOPIC_COMMANDS") == commands_before
    assert worker.validity(GUARDED)["active"] is True


def test_preview_counts_matching_sessions_and_sends_nothing(story) -> None:
    worker = story.worker
    commands_before = worker.topic_size("LEDGER_TOPIC_COMMANDS")

    status, preview = worker.post(
        "/revocations/preview",
        {
            "type": "revoke.selector",
            "reason": "batch credentials rotated",
            "selector": {"labels": {"batch": "preview"}},
        },
    )

    assert status == 200, preview
    assert preview["matching"] == 2
    assert sorted(preview["sample"]) == sorted(PREVIEWED)
    assert preview["by_category"] == {"agent": 2}
    assert worker.topic_size("LEDGER_TOPIC_COMMANDS") == commands_before
    assert all(worker.validity(s)["active"] for s in PREVIEWED)


def test_invalid_command_is_refused_with_its_reason(story) -> None:
    worker = story.worker

    status, body = worker.post(
        "/revocations", {"type": "revoke.selector", "reason": "x", "selector": {}}
    )
    future, late = worker.post(
        "/revocations",
        {**GUARDED_REVOCATION, "issued_at": "2999-01-01T00:00:00Z"},
    )

    assert status == 400 and "empty selector" in body["error"]
    assert future == 400 and "future" in late["error"]
    assert worker.validity(GUARDED)["active"] is True
