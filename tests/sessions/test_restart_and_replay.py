"""A restarted worker recovers and decides nothing twice; a replay equals live."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from kafka_fixtures import wait_for
from session_worker import read_topic
from story import RESTART_USER, at

pytestmark = pytest.mark.broker


def test_restart_with_fresh_data_dir_recovers_table_from_changelog(story_run) -> None:
    before = {r["session_id"]: r for r in story_run.before_stop["records"]}
    after = {r["session_id"]: r for r in story_run.after_restart["records"]}

    assert len(before) >= 12, "the story had started its sessions by hour 6"
    assert set(before) <= set(after)
    for session, record in before.items():
        if session != RESTART_USER:  # its expiry was in flight at the stop
            assert after[session] == record, session
    assert story_run.after_restart["watermarks"] == story_run.before_stop["watermarks"]


def test_restart_appends_no_expiry_twice(story_run) -> None:
    expired = Counter(
        record.key
        for record in story_run.topic
        if record.value and b'"type":"session.expired"' in record.value
    )

    assert expired, "the story expires sessions"
    assert max(expired.values()) == 1, expired
    [expiry] = story_run.appended("session.expired", RESTART_USER)
    assert (expiry.reason, expiry.deadline) == ("idle", at(360))


def test_replay_with_new_app_id_rebuilds_the_live_table(story_run, replay) -> None:
    live = story_run.live.records()

    wait_for(
        lambda: replay.records() == live,
        240,
        "the replay's table equal to the live one",
        on_timeout=replay.process.log_tail,
    )

    assert len(live["records"]) >= 12
    topic = asyncio.run(
        read_topic(
            story_run.env["LEDGER_KAFKA_BOOTSTRAP"],
            story_run.env["LEDGER_TOPIC_EVENTS"],
        )
    )
    assert len(topic) == len(story_run.topic), "the replay appended to the ledger"
