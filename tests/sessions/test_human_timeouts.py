"""Humans keep human timeouts, on the real broker, in event time."""

from __future__ import annotations

import pytest
from story import IDLE_USER, LONG_USER, at

pytestmark = pytest.mark.broker


def test_user_idle_31_minutes_expires_with_reason_idle(story_run) -> None:
    [expiry] = story_run.appended("session.expired", IDLE_USER)

    assert expiry.reason == "idle"
    assert expiry.deadline == at(35)
    assert story_run.live.record(IDLE_USER)["status_reason"] == "idle"


def test_user_active_13_hours_expires_with_reason_absolute(story_run) -> None:
    [expiry] = story_run.appended("session.expired", LONG_USER)

    assert expiry.reason == "absolute"
    assert expiry.deadline == at(12 * 60)
    record = story_run.live.record(LONG_USER)
    assert record["status"] == "expired"
    assert record["violation_count"] > 0
    assert {v["kind"] for v in record["violations"]} == {"use_after_end"}
