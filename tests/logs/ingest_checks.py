"""Assertions shared by the ingest tests."""

from __future__ import annotations

from ledger.logs.ingest import Outcome
from schemas import AuthEvent


def only_event(outcomes: list[Outcome]) -> AuthEvent:
    """The single event of a single-record ingest; fails with the rejection."""
    assert len(outcomes) == 1, outcomes
    outcome = outcomes[0]
    assert outcome.rejection is None, outcome.rejection
    assert len(outcome.events) == 1, outcome.events
    return outcome.events[0]


def only_rejection(outcomes: list[Outcome]) -> str:
    """The reason a single-record ingest was rejected; fails if it was not."""
    assert len(outcomes) == 1, outcomes
    assert outcomes[0].rejection is not None, outcomes[0].events
    return outcomes[0].rejection
