"""Kept apart per category: agents' nights are quiet, a person's 3 a.m. is not."""

from __future__ import annotations

from datetime import timedelta

from monitor_streams import (
    BERLIN,
    MONDAY,
    alerts_of,
    in_time_order,
    login,
    night_batches,
    office_weeks,
    replay,
)

from monitors.engine import MonitorEngine
from schemas import SessionCategory, Severity


def test_overnight_agent_batches_for_two_weeks_raise_no_alert() -> None:
    verdicts = replay(MonitorEngine(), in_time_order(night_batches(14)))
    assert alerts_of(verdicts) == []


def test_person_and_agent_together_keep_separate_baselines() -> None:
    engine = MonitorEngine()
    replay(engine, in_time_order(office_weeks(2), night_batches(14)))
    keys = set(engine.store.principals)
    assert keys == {"user:alice@example.com", "agent:svc-docproc@acme"}
    agent = engine.store.principals["agent:svc-docproc@acme"]
    assert agent.logins == 1  # the agent's nights taught the person's hours nothing
    person = engine.store.principals["user:alice@example.com"]
    assert set(person.login_hours) <= {24 * day + 9 for day in range(5)}


def test_person_at_three_am_from_a_new_country_after_warm_up_is_reported() -> None:
    engine = MonitorEngine()
    replay(engine, in_time_order(office_weeks(3), night_batches(21)))
    abroad = BERLIN.model_copy(
        update={"country": "BR", "region": "Sao Paulo", "asn": 28573}
    )
    verdict = engine.observe(login(MONDAY + timedelta(days=22, hours=3), source=abroad))
    found = {(a.detector, a.category, a.severity) for a in verdict.alerts}
    assert ("user_unusual_hour", SessionCategory.USER, Severity.LOW) in found
    assert ("user_new_country", SessionCategory.USER, Severity.MEDIUM) in found
    assert verdict.revocations == ()
