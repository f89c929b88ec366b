"""Event writers shared by every kind of session: ids, tokens, accesses."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from random import Random
from zoneinfo import ZoneInfo

from ledger.simulate.catalog import ResourceSpace
from ledger.simulate.clock import HOUR, MINUTE, SECOND, local_time, to_datetime
from ledger.simulate.timeline import EventLog
from schemas.events import (
    AccessOutcome,
    AccessRecorded,
    RefreshReason,
    TokenIssued,
    TokenRefreshed,
)
from schemas.values import Scope

# Looked up once: attribute access on an enum class is slow on the hot path.
_ALLOWED = AccessOutcome.ALLOWED
_DENIED = AccessOutcome.DENIED

REFRESH_MARGIN = 10 * MINUTE
"""Clients refresh a token this long before it expires, if they are active."""


def session_id(rng: Random, prefix: str) -> str:
    """An opaque session id drawn from a plan's generator."""
    return f"{prefix}-{rng.getrandbits(80):020x}"


def token_id(rng: Random) -> str:
    """A token fingerprint, never a whole token."""
    return f"sha256:{rng.getrandbits(96):024x}"


def at_local(day: date, hour: float, zone: ZoneInfo) -> int:
    """The simulated time of `hour` (fractional; 25.5 is 01:30 the next day)."""
    days, seconds = divmod(round(hour * 3600), 24 * 3600)
    whole, seconds = divmod(seconds, 3600)
    moment = time(whole, seconds // 60, seconds % 60)
    return local_time(day + timedelta(days=days), moment, zone)


def local_dates(zone: ZoneInfo, start: int, end: int) -> list[date]:
    """Every local date in `zone` that overlaps [start, end)."""
    first = datetime.fromtimestamp(start / 1000, zone).date()
    last = datetime.fromtimestamp((end - 1) / 1000, zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def pause(rng: Random, median: int, longest: int, shortest: int = 2 * SECOND) -> int:
    """A log-normal pause between two actions, clipped to [shortest, longest]."""
    drawn = rng.lognormvariate(math.log(median), 0.9)
    return int(min(max(drawn, shortest), longest))


class Token:
    """The token a session holds: issue once, refresh when it runs low."""

    def __init__(self, log: EventLog, lifetime: int, margin: int = REFRESH_MARGIN):
        self.log = log
        self.lifetime = lifetime
        self.margin = margin
        self.expires = 0

    def issue(self, at: int, scopes: tuple[Scope, ...] | None = None) -> None:
        """Record the first token of the session."""
        self.expires = at + self.lifetime
        self.log.add(
            TokenIssued,
            at,
            token_id=token_id(self.log.rng),
            expires_at=to_datetime(self.expires),
            scopes=scopes,
        )

    def use(self, at: int, reason: RefreshReason | None = None) -> None:
        """Refresh the token just before `at` if it is due (or already expired)."""
        if at < self.expires - self.margin:
            return
        if reason is None:
            reason = (
                RefreshReason.PROACTIVE if at < self.expires else (RefreshReason.EXPIRY)
            )
        self.refresh(max(at - 300, self.log.plan.start), reason)

    def refresh(self, at: int, reason: RefreshReason) -> None:
        """Record a refresh at `at`."""
        self.expires = at + self.lifetime
        self.log.add(
            TokenRefreshed,
            at,
            reason=reason,
            token_id=token_id(self.log.rng),
            expires_at=to_datetime(self.expires),
        )


def access(
    log: EventLog,
    at: int,
    resources: ResourceSpace,
    denied_rate: float = 0.0,
    **fields: object,
) -> None:
    """Record one access to a resource of `resources`."""
    resource, operation = resources.pick(log.rng)
    outcome = _ALLOWED
    if denied_rate and log.rng.random() < denied_rate:
        outcome = _DENIED
    log.add(
        AccessRecorded,
        at,
        resource=resource,
        operation=operation,
        outcome=outcome,
        **fields,
    )


def burst_times(rng: Random, start: int, end: int, per_hour: float) -> list[int]:
    """Times of accesses at a steady rate over [start, end), sorted."""
    if end <= start:
        return []
    count = round(per_hour * (end - start) / HOUR)
    draw, span = rng.random, end - start
    return sorted(start + int(draw() * span) for _ in range(count))
