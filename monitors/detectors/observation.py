"""What a detector reads about one event, and what a detector is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from monitors.baselines import PrincipalBaseline
from monitors.context import SessionContext
from monitors.features import Features
from monitors.findings import Finding
from monitors.policy import (
    AgentMonitors,
    CategoryMonitors,
    MonitorPolicy,
    UserMonitors,
)
from schemas import AuthEvent, SessionCategory

USER = frozenset({SessionCategory.USER})
AGENT = frozenset({SessionCategory.AGENT})
HYBRID = frozenset({SessionCategory.HYBRID})
MACHINES = frozenset({SessionCategory.AGENT, SessionCategory.HYBRID})
EVERYONE = frozenset(SessionCategory)


@dataclass(frozen=True, slots=True)
class LearnedScore:
    """The category model's verdict on the event, made before it learns it."""

    score: float
    threshold: float
    seen: int


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything a detector may read about one event."""

    event: AuthEvent
    context: SessionContext
    features: Features
    baseline: PrincipalBaseline
    policy: MonitorPolicy
    learned: LearnedScore | None = None

    @property
    def category(self) -> SessionCategory:
        """The session's category."""
        return self.context.category

    @property
    def rules(self) -> CategoryMonitors:
        """The category's part of the policy."""
        return self.policy.for_category(self.category)

    @property
    def user_rules(self) -> UserMonitors:
        """The users' part of the policy."""
        return self.policy.user

    @property
    def machine_rules(self) -> AgentMonitors:
        """The agents' part, or the hybrids' (which extends it)."""
        if self.category is SessionCategory.HYBRID:
            return self.policy.hybrid
        return self.policy.agent

    @property
    def warmed_up(self) -> bool:
        """Whether the principal's baseline is old enough to judge against."""
        rules = self.rules
        return self.baseline.warmed_up(rules.warmup_events, rules.warmup_days)


class Detector(Protocol):
    """A rule or model that judges events of some categories."""

    name: str
    categories: frozenset[SessionCategory]

    def inspect(self, observation: Observation) -> Finding | None:
        """A finding about the observed event, or None when it looks normal."""
        ...
