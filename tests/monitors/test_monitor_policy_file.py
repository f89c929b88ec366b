"""The monitors' section of the policy file: read from `monitors:`, strict on keys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ledger.errors import ConfigurationError
from ledger.policy import load_policy
from monitors.policy import MonitorPolicy, load_monitor_policy
from schemas import SessionCategory, Severity


def test_load_monitor_policy_yaml_section_overrides_only_what_it_names(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "user:\n  lifecycle: {idle_timeout: 600}\n"
        "monitors:\n"
        "  merge_window: PT30M\n"
        "  user: {allowed_countries: [DE, FR], require_device: true}\n"
        "  agent: {burst_factor: 8, revoke_at: critical}\n"
    )
    policy = load_monitor_policy(path)
    assert policy.merge_window == timedelta(minutes=30)
    assert policy.user.allowed_countries == {"DE", "FR"}
    assert policy.user.require_mfa is True
    assert policy.agent.burst_factor == 8
    assert policy.agent.revoke_at is Severity.CRITICAL
    assert policy.hybrid.revoke_at is Severity.HIGH


def test_load_monitor_policy_without_section_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{"user": {}}')
    assert load_monitor_policy(path) == MonitorPolicy()


def test_load_monitor_policy_misspelt_key_is_refused_with_its_name(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("monitors:\n  agent: {burst_factr: 8}\n")
    with pytest.raises(ConfigurationError, match=r"agent\.burst_factr"):
        load_monitor_policy(path)


def test_monitor_policy_defaults_machine_scale_for_agents_human_for_users() -> None:
    policy = MonitorPolicy()
    user = policy.for_category(SessionCategory.USER)
    agent = policy.for_category(SessionCategory.AGENT)
    assert agent.max_events_per_minute >= 100 * user.max_events_per_minute
    assert (user.revoke_at, agent.revoke_at) == (None, Severity.HIGH)


def test_ledger_policy_accepts_the_monitors_section_and_reads_it_alike(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "agent: {lifecycle: {require_heartbeats: true}}\n"
        "monitors:\n  agent: {allowed_asns: [16509]}\n  user: {require_mfa: false}\n"
    )
    whole = load_policy(path)
    assert whole.agent.lifecycle.require_heartbeats is True
    assert whole.monitors == load_monitor_policy(path)
    assert whole.monitors.agent.allowed_asns == {16509}
