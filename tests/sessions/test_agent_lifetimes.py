"""Agents live by their work and health, on the real broker, in event time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from story import JOB, STALLED, TICK_MINUTES, TTL_SECONDS, at

pytestmark = pytest.mark.broker


def test_overnight_task_with_heartbeats_stays_active_then_ends_completed(
    story_run,
) -> None:
    assert story_run.checkpoints["job at hour 5"]["active"] is True
    assert story_run.checkpoints["job at hour 9"]["active"] is True

    record = story_run.live.record(JOB)

    assert record["status"] == "ended"
    assert record["status_reason"] == "completed"
    assert story_run.appended("session.expired", JOB) == []
    [end] = story_run.appended("session.ended", JOB)
    assert end.reason == "completed"


def test_agent_whose_heartbeats_stop_expires_within_ttl_and_one_tick(
    story_run,
) -> None:
    last_beat = at(180)
    ttl = timedelta(seconds=TTL_SECONDS)

    [expiry] = story_run.appended("session.expired", STALLED)

    assert expiry.reason == "heartbeat"
    assert expiry.deadline == last_beat + ttl
    assert expiry.occurred_at - last_beat <= ttl + timedelta(minutes=TICK_MINUTES)
    assert story_run.live.record(STALLED)["status"] == "expired"
    assert story_run.live.validity(STALLED)["active"] is False
