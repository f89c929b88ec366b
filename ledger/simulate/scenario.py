"""What to simulate: the size of the organisation, the period, the incidents."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from ledger.errors import LedgerError

DEFAULT_START = date(2026, 11, 2)
"""A fixed Monday in the past, so that default runs are reproducible."""


class ScenarioError(LedgerError):
    """A scenario that cannot be simulated as given."""


@dataclass(frozen=True)
class IncidentCounts:
    """How many incidents of each kind to inject."""

    stolen_agent_token: int = 2
    compromised_agent: int = 2
    account_takeover: int = 2
    brute_force: int = 3
    token_reuse: int = 2
    hybrid_after_logout: int = 2
    scripted_human: int = 1

    @classmethod
    def none(cls) -> IncidentCounts:
        """No incidents at all: normal traffic only."""
        return cls(**{name: 0 for name in asdict(cls())})

    def items(self) -> list[tuple[str, int]]:
        """(kind, count) pairs in a fixed order."""
        return list(asdict(self).items())


@dataclass(frozen=True)
class Scenario:
    """A simulated organisation over a period; equal scenarios give equal output."""

    humans: int = 200
    agents: int = 100
    hybrids: int = 30
    days: int = 7
    seed: int = 1
    start: date = DEFAULT_START
    incidents: IncidentCounts = field(default_factory=IncidentCounts)
    bad_input_rate: float = 0.0

    @property
    def start_at(self) -> datetime:
        """Midnight UTC at the start of the first day."""
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """Midnight UTC after the last day."""
        return self.start_at + timedelta(days=self.days)

    def check(self, now: datetime) -> None:
        """Raise ScenarioError for sizes or a period that cannot be simulated."""
        if self.humans < 1:
            raise ScenarioError(
                f"humans={self.humans}: at least one human is needed, since every "
                "agent has a human owner"
            )
        if self.agents < 0 or self.hybrids < 0:
            raise ScenarioError(
                f"agents={self.agents}, hybrids={self.hybrids}: counts cannot be "
                "negative"
            )
        if self.hybrids > self.humans:
            raise ScenarioError(
                f"hybrids={self.hybrids} exceeds humans={self.humans}: each hybrid "
                "assistant acts for its own user"
            )
        if not 1 <= self.days <= 366:
            raise ScenarioError(f"days={self.days}: choose 1 to 366 days")
        if not 0.0 <= self.bad_input_rate < 1.0:
            raise ScenarioError(
                f"bad_input_rate={self.bad_input_rate}: choose a fraction in [0, 1)"
            )
        for kind, count in self.incidents.items():
            if count < 0:
                raise ScenarioError(f"{kind}={count}: counts cannot be negative")
        if self.end_at > now:
            raise ScenarioError(
                f"the simulated period ends at {self.end_at.isoformat()}, after now "
                f"({now.isoformat(timespec='seconds')}); the ledger refuses events "
                "from the future, so choose an earlier --start or fewer --days"
            )

    def describe(self) -> dict[str, object]:
        """The scenario as JSON-ready values, for the labels file."""
        return {
            "humans": self.humans,
            "agents": self.agents,
            "hybrids": self.hybrids,
            "days": self.days,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "incidents": dict(self.incidents.items()),
            "bad_input_rate": self.bad_input_rate,
        }
