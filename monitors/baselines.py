"""Baselines: what is normal for one principal, or one source address, learned online.

A `PrincipalBaseline` is kept per category and principal (per (agent, user) pair
for hybrids, see `monitors.context.principal_key`). It learns from every event of
the principal, one at a time, *after* the detectors have judged the event:

- logins by hour of week (humans' working pattern);
- busy rate buckets: events and token refreshes per bucket (10 minutes by
  default), counting only buckets with activity, so that an agent idle all day
  and busy at night is judged by its busy buckets, not diluted by idle ones;
- a decayed events-per-minute level, for rate limits;
- the failure ratio, recent login failures and MFA failures;
- known sources: countries, regions, networks (ASN), cloud regions, devices;
- the last location and when it was seen, for travel speed;
- hours active per day over the last two weeks, the share of programmatic user
  agents and the regularity of gaps between events (a person behaving like a
  machine);
- the alerts still open about the principal, for merging.

A `SourceBaseline` is kept per source IP address: failed logins from it and the
people they targeted (brute force and password spraying by address).

Both serialize to compact JSON (`to_bytes`/`from_bytes`), so that a Faust table
keeps them in its changelog and a restarted worker goes on where it stopped,
with no new warm-up. Nothing here reads a clock: times are passed in.

>>> from schemas import SessionCategory
>>> baseline = PrincipalBaseline(category=SessionCategory.AGENT)
>>> PrincipalBaseline.from_bytes(baseline.to_bytes()) == baseline
True
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ledger.errors import LedgerError
from monitors.alerts import OpenAlert
from monitors.estimators import (
    DecayingCount,
    EwMoments,
    KnownValues,
    RecentTimes,
)
from schemas import (
    AuthenticationFailed,
    AuthEvent,
    FailureReason,
    SessionCategory,
    SessionStarted,
    TokenRefreshed,
)

BASELINE_VERSION = 1
DAY_SECONDS = 86_400
HOUR_SECONDS = 3_600
DAYS_OF_HOURS_KEPT = 14
FAILURES_KEPT = 64


def open_alerts_of(value: Any) -> Any:
    """Stored open alerts, from before several could be open per detector too."""
    if isinstance(value, dict):
        return {
            detector: [alerts] if isinstance(alerts, dict) else alerts
            for detector, alerts in value.items()
        }
    return value


class BaselineUnreadable(LedgerError):
    """Stored baseline bytes that cannot be read back."""


def hour_of_week(at: float) -> int:
    """0 for Monday 00:00-00:59 UTC up to 167 for Sunday 23:00-23:59 UTC."""
    # The epoch (1 January 1970) was a Thursday: day 3 of a Monday-first week.
    days = int(at // DAY_SECONDS)
    return ((days + 3) % 7) * 24 + int(at % DAY_SECONDS // HOUR_SECONDS)


class RateBuckets(BaseModel):
    """Events and refreshes per rate bucket, with moments over busy buckets."""

    model_config = ConfigDict(extra="forbid")

    seconds: float = 600.0
    index: int | None = None
    events: int = 0
    refreshes: int = 0
    busy: EwMoments = Field(default_factory=lambda: EwMoments(fading_factor=0.1))
    refresh_busy: EwMoments = Field(
        default_factory=lambda: EwMoments(fading_factor=0.1)
    )

    def position(self, at: float) -> int:
        """The index of the bucket `at` falls in."""
        return int(at // self.seconds)

    def counts_with(self, at: float, refresh: bool) -> tuple[int, int]:
        """(events, refreshes) in `at`'s bucket once the event at `at` is counted."""
        index = self.position(at)
        if self.index is None or index > self.index:
            return 1, int(refresh)
        if index < self.index:
            return 0, 0  # a late event: closed buckets never reopen
        return self.events + 1, self.refreshes + int(refresh)

    def add(self, at: float, refresh: bool) -> None:
        """Count one event at `at`, closing the open bucket if `at` is past it."""
        index = self.position(at)
        if self.index is None:
            self.index = index
        elif index > self.index:
            if self.events:
                self.busy.update(self.events)
                self.refresh_busy.update(self.refreshes)
            self.index, self.events, self.refreshes = index, 0, 0
        elif index < self.index:
            return
        self.events += 1
        self.refreshes += int(refresh)


class PrincipalBaseline(BaseModel):
    """What is normal for one principal of one category."""

    model_config = ConfigDict(extra="forbid")

    version: int = BASELINE_VERSION
    category: SessionCategory
    events: int = 0
    days: int = 0
    last_day: int | None = None
    first_at: float | None = None
    last_at: float | None = None

    logins: int = 0
    login_hours: dict[int, int] = Field(default_factory=dict)
    hours_by_day: dict[int, int] = Field(default_factory=dict)
    """Day number → bit mask of the UTC hours with activity, last 14 days."""

    rate: RateBuckets = Field(default_factory=RateBuckets)
    per_minute: DecayingCount = Field(default_factory=DecayingCount)
    failure_ratio: EwMoments = Field(
        default_factory=lambda: EwMoments(fading_factor=0.05)
    )
    login_failures: RecentTimes = Field(
        default_factory=lambda: RecentTimes(keep=FAILURES_KEPT)
    )
    mfa_failures: RecentTimes = Field(
        default_factory=lambda: RecentTimes(keep=FAILURES_KEPT)
    )

    countries: KnownValues = Field(default_factory=KnownValues)
    regions: KnownValues = Field(default_factory=KnownValues)
    asns: KnownValues = Field(default_factory=KnownValues)
    cloud_regions: KnownValues = Field(default_factory=KnownValues)
    devices: KnownValues = Field(default_factory=KnownValues)
    last_country: str | None = None
    last_country_at: float | None = None

    programmatic: EwMoments = Field(
        default_factory=lambda: EwMoments(fading_factor=0.05)
    )
    gaps: EwMoments = Field(default_factory=lambda: EwMoments(fading_factor=0.05))
    refresh_gaps: EwMoments = Field(
        default_factory=lambda: EwMoments(fading_factor=0.1)
    )
    last_refresh_at: float | None = None

    alerts: dict[str, list[OpenAlert]] = Field(default_factory=dict)
    """Open alerts about the principal, by detector."""

    _read_alerts = field_validator("alerts", mode="before")(open_alerts_of)

    @classmethod
    def fresh(
        cls, category: SessionCategory, bucket_seconds: float, known_kept: int
    ) -> PrincipalBaseline:
        """An empty baseline with the policy's bucket length and memory size."""
        return cls(
            category=category,
            rate=RateBuckets(seconds=bucket_seconds),
            countries=KnownValues(keep=known_kept),
            regions=KnownValues(keep=known_kept),
            asns=KnownValues(keep=known_kept),
            cloud_regions=KnownValues(keep=known_kept),
            devices=KnownValues(keep=known_kept),
        )

    def warmed_up(self, events: int, days: int) -> bool:
        """Whether the baseline has seen at least `events` events on `days` days."""
        return self.events >= events and self.days >= days

    def hour_mask(self, day: int) -> int:
        """The hours of `day` with activity, as a bit mask."""
        return self.hours_by_day.get(day, 0)

    def to_bytes(self) -> bytes:
        """Compact JSON, for a table's changelog."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> PrincipalBaseline:
        """The baseline `to_bytes` wrote; BaselineUnreadable if it cannot be."""
        try:
            baseline = cls.model_validate_json(raw)
        except ValidationError as error:
            raise BaselineUnreadable(
                f"a stored principal baseline ({len(raw)} bytes) cannot be read: "
                f"{error.error_count()} errors, first: {error.errors()[0]['msg']}"
            ) from error
        if baseline.version != BASELINE_VERSION:
            raise BaselineUnreadable(
                f"a stored principal baseline has version {baseline.version}, this "
                f"ledger reads version {BASELINE_VERSION}"
            )
        return baseline

    def learn(
        self,
        event: AuthEvent,
        at: float,
        user_agent_programmatic: bool | None,
        place_trusted: bool = True,
    ):
        """Fold one event of the principal into the baseline.

        A place reached impossibly fast (`place_trusted` false) is learnt as
        known but does not become the place the next sighting is measured from:
        otherwise a person coming home after a stolen login abroad would be a
        second impossible journey, and the thief's next sightings none.
        """
        self._learn_time(at)
        refresh = isinstance(event, TokenRefreshed)
        self.rate.add(at, refresh)
        self.per_minute.add(at)

        failed = isinstance(event, AuthenticationFailed)
        self.failure_ratio.update(1.0 if failed else 0.0)
        if failed:
            if event.reason is FailureReason.MFA_FAILED:
                self.mfa_failures.add(at)
            else:
                self.login_failures.add(at)
        if isinstance(event, SessionStarted):
            how = hour_of_week(at)
            self.login_hours[how] = self.login_hours.get(how, 0) + 1
            self.logins += 1
        if refresh:
            if self.last_refresh_at is not None and at > self.last_refresh_at:
                self.refresh_gaps.update(at - self.last_refresh_at)
            self.last_refresh_at = max(at, self.last_refresh_at or at)

        self._learn_source(event, at, place_trusted)
        if user_agent_programmatic is not None:
            self.programmatic.update(1.0 if user_agent_programmatic else 0.0)

    def _learn_time(self, at: float) -> None:
        if self.last_at is not None and at > self.last_at:
            self.gaps.update(at - self.last_at)
        self.events += 1
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)

        day = int(at // DAY_SECONDS)
        if self.last_day is None or day > self.last_day:
            self.days += 1
            self.last_day = day
        hour = int(at % DAY_SECONDS // HOUR_SECONDS)
        self.hours_by_day[day] = self.hours_by_day.get(day, 0) | (1 << hour)
        if len(self.hours_by_day) > DAYS_OF_HOURS_KEPT:
            for old in sorted(self.hours_by_day)[:-DAYS_OF_HOURS_KEPT]:
                del self.hours_by_day[old]

    def _learn_source(self, event: AuthEvent, at: float, place_trusted: bool) -> None:
        source = event.source
        if source is None:
            return
        if source.country:
            self.countries.add(source.country, at)
            if source.region:
                self.regions.add(f"{source.country}/{source.region}", at)
            newer = self.last_country_at is None or at >= self.last_country_at
            if place_trusted and newer:
                self.last_country, self.last_country_at = source.country, at
        if source.asn is not None:
            self.asns.add(str(source.asn), at)
        if source.cloud_region:
            self.cloud_regions.add(source.cloud_region, at)
        if source.device_id:
            self.devices.add(source.device_id, at)


class SourceBaseline(BaseModel):
    """Failed logins from one source address, and whom they targeted."""

    model_config = ConfigDict(extra="forbid")

    version: int = BASELINE_VERSION
    failures: RecentTimes = Field(
        default_factory=lambda: RecentTimes(keep=FAILURES_KEPT)
    )
    targets: KnownValues = Field(default_factory=KnownValues)
    alerts: dict[str, list[OpenAlert]] = Field(default_factory=dict)

    _read_alerts = field_validator("alerts", mode="before")(open_alerts_of)

    def learn(self, principal_id: str, at: float) -> None:
        """Count one failed login from the address against `principal_id`."""
        self.failures.add(at)
        self.targets.add(principal_id, at)

    def targets_within(self, now: float, window: float) -> int:
        """Distinct principals targeted in the `window` seconds up to `now`."""
        start = now - window
        return sum(1 for at in self.targets.last_seen.values() if at >= start)

    def to_bytes(self) -> bytes:
        """Compact JSON, for a table's changelog."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> SourceBaseline:
        """The baseline `to_bytes` wrote; BaselineUnreadable if it cannot be."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError as error:
            raise BaselineUnreadable(
                f"a stored source baseline ({len(raw)} bytes) cannot be read: "
                f"{error.errors()[0]['msg']}"
            ) from error
