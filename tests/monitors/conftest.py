"""Engines that have learned a normal history, shared by the detector tests.

Learning a history takes a few seconds, so each one is learned once per run and
every test gets its own deep copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta

import pytest
from monitor_streams import (
    MONDAY,
    agent_event,
    in_time_order,
    night_batches,
    office_weeks,
    replay,
)

from monitors.engine import MonitorEngine
from monitors.policy import MonitorPolicy
from schemas import TokenRefreshed


@pytest.fixture(scope="session")
def _office_engine() -> MonitorEngine:
    engine = MonitorEngine()
    replay(engine, in_time_order(office_weeks(3)))
    return engine


@pytest.fixture(scope="session")
def _night_engine() -> MonitorEngine:
    engine = MonitorEngine()
    replay(engine, in_time_order(night_batches(4)))
    # The fifth night has begun: its first token refresh is in.
    night = MONDAY + timedelta(days=4, hours=1)
    engine.observe(
        agent_event(
            TokenRefreshed,
            night,
            token_id="sha256:night5",
            expires_at=night + timedelta(hours=1),
        )
    )
    return engine


@pytest.fixture
def office_engine(_office_engine: MonitorEngine) -> MonitorEngine:
    """An engine that has learned three normal office weeks of Alice."""
    return copy.deepcopy(_office_engine)


@pytest.fixture
def night_engine(_night_engine: MonitorEngine) -> MonitorEngine:
    """An engine that has learned four nights of the agent; the fifth has begun."""
    return copy.deepcopy(_night_engine)


@pytest.fixture
def engine_with() -> Callable[..., MonitorEngine]:
    """A fresh engine under a policy built from keyword parts."""

    def make(**policy: object) -> MonitorEngine:
        return MonitorEngine(MonitorPolicy.model_validate(policy))

    return make
