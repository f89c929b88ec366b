"""Waiting for a drained group while the broker has no group coordinator yet."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import GroupCoordinatorNotAvailableError

from ledger.errors import BrokerError
from ledger.kafka import lag
from ledger.kafka.lag import PartitionLag, wait_until_drained

CAUGHT_UP = [PartitionLag(topic="t", partition=0, end_offset=5, committed=5)]


def test_wait_until_drained_retries_until_the_coordinator_answers(monkeypatch) -> None:
    answers = iter([GroupCoordinatorNotAvailableError(), CAUGHT_UP, CAUGHT_UP])
    calls = []

    async def group_lag(bootstrap, group, topics):
        calls.append(group)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(lag, "group_lag", group_lag)
    result = asyncio.run(
        wait_until_drained("b", "g", ["t"], timeout=30, settle=0.01, poll=0.01)
    )
    assert result == CAUGHT_UP
    assert len(calls) == 3


def test_wait_until_drained_without_a_coordinator_gives_up_at_the_deadline(
    monkeypatch,
) -> None:
    async def group_lag(bootstrap, group, topics):
        raise GroupCoordinatorNotAvailableError()

    monkeypatch.setattr(lag, "group_lag", group_lag)
    with pytest.raises(BrokerError, match="group g has no coordinator"):
        asyncio.run(wait_until_drained("b", "g", ["t"], timeout=0.05, poll=0.01))
