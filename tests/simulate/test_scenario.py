"""Scenarios that cannot be simulated are refused with the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.simulate import Scenario, ScenarioError
from ledger.simulate.population import AGENT_MIX, agent_counts


def test_scenario_period_ending_after_now_is_refused() -> None:
    scenario = Scenario(start=date(2026, 11, 2), days=7)
    with pytest.raises(ScenarioError, match="refuses events from the future"):
        scenario.check(datetime(2026, 11, 5, tzinfo=UTC))


def test_scenario_more_hybrids_than_humans_is_refused() -> None:
    with pytest.raises(ScenarioError, match="hybrids=3 exceeds humans=2"):
        Scenario(humans=2, hybrids=3).check(datetime(2027, 1, 1, tzinfo=UTC))


def test_agent_counts_small_population_has_every_type() -> None:
    counts = agent_counts(len(AGENT_MIX))
    assert sum(counts.values()) == len(AGENT_MIX)
    assert all(count == 1 for count in counts.values())
    assert sum(agent_counts(100).values()) == 100


def test_simulate_without_destination_exits_with_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--humans", "2", "--days", "1"])
    assert result.exit_code == 2
    assert "--out FILE, or --kafka" in result.output


def test_simulate_future_start_exits_1_with_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["simulate", "--start", "2999-01-04", "--out", str(tmp_path / "x.jsonl")],
    )
    assert result.exit_code == 1
    assert "choose an earlier --start" in result.output
    assert not (tmp_path / "x.jsonl").exists()
