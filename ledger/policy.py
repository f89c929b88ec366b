"""The ledger's policy: rules kept apart for each session category.

One frozen `Policy`, read from the YAML or JSON file named by `settings.policy_file`
(built-in defaults when none is given). It has one section per category, `user`,
`agent` and `hybrid`, each with the category's `lifecycle` (timeouts, heartbeats,
lifetime) and `refresh` guidance. Monitors and revocation add their own sections.

Durations are seconds (`1800`) or ISO 8601 durations (`PT30M`). Unknown keys are
refused, so that a misspelt rule fails loudly instead of silently not applying.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.errors import ConfigurationError
from ledger.policy_file import describe_refusal, read_policy_document
from ledger.settings import LedgerSettings
from monitors.policy import MonitorPolicy
from schemas import SessionCategory

Duration = timedelta


class PolicySection(BaseModel):
    """A frozen part of the policy that refuses unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Lifecycle(PolicySection):
    """What ends a session of one category, besides its own end or revocation."""

    idle_timeout: Duration | None = Field(
        None,
        gt=timedelta(0),
        description="Expire the session this long after its last activity; "
        "null: no idle timeout.",
    )
    absolute_lifetime: Duration | None = Field(
        None,
        gt=timedelta(0),
        description="Expire the session this long after it started, whatever it "
        "does (an agent's max lifetime); null: no limit.",
    )
    heartbeat_ttl: Duration = Field(
        timedelta(minutes=2),
        gt=timedelta(0),
        description="How long a session required to beat lives after its last "
        "heartbeat when it did not ask for a TTL of its own.",
    )
    max_heartbeat_ttl: Duration = Field(
        timedelta(hours=1),
        gt=timedelta(0),
        description="The longest heartbeat TTL a session may ask for; longer asks "
        "are cut to it.",
    )
    require_heartbeats: bool = Field(
        False,
        description="Make every session of the category heartbeat-bound, so that "
        "one that stops beating is expired (orphan clean-up).",
    )


class RefreshGuidance(PolicySection):
    """When a session's holder is told to refresh its token (`refresh_after`)."""

    interval: Duration | None = Field(
        None,
        gt=timedelta(0),
        description="Refresh this long after the last token was issued or "
        "refreshed; null: no guidance.",
    )
    jitter_fraction: float = Field(
        0.2,
        ge=0,
        lt=1,
        description="Each session refreshes up to this fraction of the interval "
        "early, fixed per session, so that a fleet does not refresh at once.",
    )
    degraded_factor: float = Field(
        0.5,
        gt=0,
        le=1,
        description="The interval is multiplied by this while the session's last "
        "heartbeat reported degraded or unhealthy.",
    )


class CategoryPolicy(PolicySection):
    """Every rule that applies to sessions of one category."""

    lifecycle: Lifecycle = Field(
        default_factory=Lifecycle, description="What ends the category's sessions."
    )
    refresh: RefreshGuidance = Field(
        default_factory=RefreshGuidance,
        description="Token refresh guidance in validity answers.",
    )


def _user_defaults() -> CategoryPolicy:
    return CategoryPolicy(
        lifecycle=Lifecycle(
            idle_timeout=timedelta(minutes=30), absolute_lifetime=timedelta(hours=12)
        )
    )


def _machine_defaults() -> CategoryPolicy:
    # Agents live by their work and health, never by a human clock.
    return CategoryPolicy(refresh=RefreshGuidance(interval=timedelta(minutes=5)))


class Policy(PolicySection):
    """The whole policy, with one section per session category."""

    user: CategoryPolicy = Field(
        default_factory=_user_defaults,
        description="Humans: idle and absolute timeouts.",
    )
    agent: CategoryPolicy = Field(
        default_factory=_machine_defaults,
        description="Agents and service accounts: task, heartbeat and lifetime "
        "bound, proactive refresh.",
    )
    hybrid: CategoryPolicy = Field(
        default_factory=_machine_defaults,
        description="Agents acting for a user; they also end with that user's "
        "session and may not hold scopes it lacks.",
    )
    monitors: MonitorPolicy = Field(
        default_factory=MonitorPolicy,
        description="Detector thresholds per category; see docs/monitors.md.",
    )

    def for_category(self, category: SessionCategory) -> CategoryPolicy:
        """The section of `category`."""
        if category is SessionCategory.USER:
            return self.user
        if category is SessionCategory.AGENT:
            return self.agent
        return self.hybrid


def load_policy(path: Path | None) -> Policy:
    """The policy in `path` (YAML or JSON), or the defaults when `path` is None."""
    if path is None:
        return Policy()
    document = read_policy_document(path)
    try:
        # A file names only what it changes: `user: {lifecycle: {idle_timeout: 600}}`
        # keeps the user's absolute lifetime.
        return Policy.model_validate(_overlay(Policy().model_dump(), document))
    except ValidationError as error:
        raise ConfigurationError(
            f"policy file {path} is refused: {describe_refusal(error)}"
        ) from error


def policy_from_settings(settings: LedgerSettings) -> Policy:
    """The policy named by `settings.policy_file`, else the defaults."""
    return load_policy(settings.policy_file)


def _overlay(defaults: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in changes.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = _overlay(base, value)
        else:
            merged[key] = value
    return merged
