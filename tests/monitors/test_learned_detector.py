"""The learned detector: score before learning, warm-up, calibrated per category."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from monitor_streams import (
    MONDAY,
    agent_event,
    alerts_of,
    in_time_order,
    night_batches,
    replay,
)

from monitors.detectors.learned import CategoryModel
from monitors.engine import MonitorEngine
from monitors.policy import MonitorPolicy
from schemas import AccessOutcome, AccessRecorded, SessionCategory, Source

LEARNED = {"learned": {"warmup_events": 1000}}
STOLEN = Source(ip="198.51.100.23", country="RU", asn=12389)


NIGHTS = 14


@pytest.fixture(scope="module")
def _trained() -> MonitorEngine:
    engine = MonitorEngine(MonitorPolicy(agent=LEARNED))
    replay(engine, in_time_order(night_batches(NIGHTS)))
    return engine


@pytest.fixture
def trained(_trained: MonitorEngine) -> MonitorEngine:
    """An engine whose agent model has learned two weeks of nights."""
    return copy.deepcopy(_trained)


def odd_read(at):
    """A denied read at noon from a foreign network: nothing like the nights."""
    return agent_event(
        AccessRecorded,
        at,
        source=STOLEN,
        outcome=AccessOutcome.DENIED,
        resource="s3://acme-invoices/2025/03/inv-0001.pdf",
    )


def test_learned_anomaly_after_warm_up_fires_on_an_odd_read(trained) -> None:
    verdict = trained.observe(odd_read(MONDAY + timedelta(days=NIGHTS, hours=12)))
    [alert] = [a for a in verdict.alerts if a.detector == "learned_anomaly"]
    score, threshold = alert.evidence[0].value, alert.evidence[0].baseline
    assert score > threshold
    assert "agent model" in alert.explanation


def test_learned_anomaly_normal_nights_after_warm_up_are_silent(trained) -> None:
    later = in_time_order(night_batches(7, first=NIGHTS))
    assert alerts_of(replay(trained, later), "learned_anomaly") == []


def test_learned_anomaly_during_warm_up_is_silent() -> None:
    engine = MonitorEngine()  # the default warm-up: 10,000 events
    replay(engine, in_time_order(night_batches(4)))
    verdict = engine.observe(odd_read(MONDAY + timedelta(days=4, hours=12)))
    assert [a for a in verdict.alerts if a.detector == "learned_anomaly"] == []


def test_learned_model_scores_each_event_before_learning_it(trained) -> None:
    model = trained.store.model(SessionCategory.AGENT)
    seen = model.seen
    at = MONDAY + timedelta(days=NIGHTS, hours=12)
    first = trained.observe(odd_read(at))
    again = trained.observe(odd_read(at + timedelta(seconds=1)))
    [novel] = [a for a in first.alerts if a.detector == "learned_anomaly"]
    # Judged as unseen first, then learned: the same read surprises less.
    assert novel.evidence[0].value > _learned_score(again)
    assert model.seen == seen + 2


def _learned_score(verdict) -> float:
    return max(
        (f.score for f in verdict.findings if f.detector == "learned_anomaly"),
        default=float("-inf"),
    )


def test_learned_models_are_kept_apart_per_category(trained) -> None:
    assert isinstance(trained.store.model(SessionCategory.AGENT), CategoryModel)
    assert trained.store.model(SessionCategory.USER) is None
