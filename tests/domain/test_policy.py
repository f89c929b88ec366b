"""The policy file: defaults, partial overrides, and refusals that name the field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ledger.errors import ConfigurationError
from ledger.policy import Policy, load_policy
from schemas import SessionCategory

EXAMPLE = Path(__file__).parents[2] / "docs" / "policy.example.yaml"


def test_policy_without_file_has_human_timeouts_and_no_agent_clock() -> None:
    policy = load_policy(None)

    assert policy.user.lifecycle.idle_timeout == timedelta(minutes=30)
    assert policy.user.lifecycle.absolute_lifetime == timedelta(hours=12)
    assert policy.agent.lifecycle.idle_timeout is None
    assert policy.agent.lifecycle.absolute_lifetime is None
    assert policy.agent.lifecycle.heartbeat_ttl == timedelta(minutes=2)
    assert policy.for_category(SessionCategory.HYBRID) is policy.hybrid


def test_policy_partial_section_keeps_other_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("user:\n  lifecycle:\n    idle_timeout: 600\n")

    policy = load_policy(path)

    assert policy.user.lifecycle.idle_timeout == timedelta(minutes=10)
    assert policy.user.lifecycle.absolute_lifetime == timedelta(hours=12)
    assert policy.agent == Policy().agent


def test_policy_json_file_with_iso_durations_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{"agent": {"lifecycle": {"absolute_lifetime": "PT24H"}}}')

    assert load_policy(path).agent.lifecycle.absolute_lifetime == timedelta(hours=24)


def test_policy_example_file_loads_and_matches_defaults() -> None:
    assert load_policy(EXAMPLE) == Policy()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            "agent:\n  lifecycle:\n    heartbeat_tll: 60\n",
            "agent.lifecycle.heartbeat_tll",
        ),
        ("user:\n  lifecycle:\n    idle_timeout: -5\n", "user.lifecycle.idle_timeout"),
        ("agent:\n  refresh:\n    jitter_fraction: 1.5\n", "jitter_fraction"),
        ("- user\n- agent\n", "mapping of sections"),
        ("user: [unclosed\n", "not valid YAML"),
    ],
)
def test_policy_bad_file_raises_naming_file_and_field(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)

    with pytest.raises(ConfigurationError) as raised:
        load_policy(path)

    assert str(path) in str(raised.value)
    assert named in str(raised.value)


def test_policy_missing_file_raises_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"

    with pytest.raises(ConfigurationError, match=r"absent\.yaml"):
        load_policy(missing)
