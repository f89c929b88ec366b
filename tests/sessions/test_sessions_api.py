"""The session endpoints of a real worker: credentials, routing, filters."""

from __future__ import annotations

import urllib.parse

import pytest
from story import JOB, LEAF, MID, ROOT, SLASHED, STALLED

pytestmark = pytest.mark.broker


def test_validity_without_reader_credential_is_refused(story_run) -> None:
    live = story_run.live

    assert live.get(f"/sessions/{JOB}", token=None)[0] == 401
    assert (
        live.get(f"/sessions/{JOB}", token="producer-token-for-session-tests")[0] == 403
    )
    assert live.get(f"/sessions/{JOB}", token="admin-token-for-session-tests")[0] == 200


def test_validity_of_unknown_session_is_404_and_inactive(story_run) -> None:
    status, body = story_run.live.get("/sessions/never-seen")

    assert status == 404
    assert body["active"] is False and "status" not in body


def test_validity_of_percent_encoded_id_with_slashes_is_found(story_run) -> None:
    quoted = urllib.parse.quote(SLASHED, safe="")

    status, body = story_run.live.get(f"/sessions/{quoted}")

    assert status == 200
    assert body["session_id"] == SLASHED and body["active"] is True
    assert body["refresh_after"] is not None


def test_state_shows_children_and_validity(story_run) -> None:
    status, body = story_run.live.get(f"/sessions/{ROOT}/state")

    assert status == 200
    assert body["session"]["children"] == [MID]
    assert body["validity"]["active"] is False
    assert body["validity"]["reason"] == "logout"


def test_list_filters_by_category_status_and_principal(story_run) -> None:
    status, body = story_run.live.get("/sessions?category=agent&status=expired")

    assert status == 200
    assert body["partitions"] == [0, 1, 2, 3]
    listed = {session["session_id"] for session in body["sessions"]}
    assert {STALLED, MID, LEAF} <= listed
    assert JOB not in listed
    assert all(s["category"] == "agent" for s in body["sessions"])

    _, mine = story_run.live.get("/sessions?principal=bob%40example.com")
    assert {s["principal"]["id"] for s in mine["sessions"]} == {"bob@example.com"}


def test_list_with_unknown_status_is_400(story_run) -> None:
    status, body = story_run.live.get("/sessions?status=sleeping")

    assert status == 400
    assert "sleeping" in body["error"]
