"""Features: what one event looks like beside its principal's baseline.

`extract` runs before the baseline learns the event, so every feature compares
the event with the past only ("is this country new?" is answered before the
country is remembered). Rule detectors read the named fields; the learned
detector reads `Features.vector()`, a few numbers on comparable scales.

User agents are sorted into browser and programmatic (`user_agent_kind`): a
string that names a known HTTP library or a headless browser, or that does not
look like a browser at all, is programmatic.

>>> user_agent_kind("Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0")
'browser'
>>> user_agent_kind("python-requests/2.32"), user_agent_kind("acme-sync/1.4")
('programmatic', 'programmatic')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from monitors.baselines import (
    DAY_SECONDS,
    PrincipalBaseline,
    SourceBaseline,
    hour_of_week,
)
from monitors.estimators import KnownValues
from monitors.geography import distance_km
from monitors.policy import MonitorPolicy, UserMonitors
from schemas import (
    AccessOutcome,
    AccessRecorded,
    AuthenticationFailed,
    AuthEvent,
    FailureReason,
    SessionStarted,
    TokenRefreshed,
)

_PROGRAMMATIC_MARKERS = (
    "headless",
    "python",
    "curl/",
    "wget/",
    "go-http-client",
    "okhttp",
    "java/",
    "apache-httpclient",
    "node-fetch",
    "node.js",
    "undici",
    "axios",
    "aiohttp",
    "httpx",
    "boto",
    "aws-sdk",
    "aws-cli",
    "azure-sdk",
    "google-api",
    "postmanruntime",
    "powershell",
    "libwww",
    "ruby",
    "reqwest",
    "grpc",
    "kubectl",
    "terraform",
    "bot",
)
_BROWSER_MARKERS = ("mozilla/", "opera/")


@lru_cache(maxsize=4096)
def user_agent_kind(user_agent: str | None) -> str | None:
    """'browser', 'programmatic', or None when there is no user agent."""
    if not user_agent:
        return None
    text = user_agent.lower()
    if any(marker in text for marker in _PROGRAMMATIC_MARKERS):
        return "programmatic"
    if text.startswith(_BROWSER_MARKERS):
        return "browser"
    return "programmatic"


def _is_new(value: str | None, known: KnownValues) -> bool | None:
    # Nothing is "new" to a baseline that has never seen any value of the kind.
    if value is None or not len(known):
        return None
    return value not in known


VECTOR_LIMITS: dict[str, tuple[float, float]] = {
    "hour_sin": (-1.0, 1.0),
    "hour_cos": (-1.0, 1.0),
    "weekend": (0.0, 1.0),
    "rate_ratio": (0.0, math.log1p(20.0)),
    "per_minute": (0.0, math.log1p(20_000.0)),
    "failure": (0.0, 1.0),
    "denied": (0.0, 1.0),
    "new_network": (0.0, 1.0),
    "new_place": (0.0, 1.0),
    "new_device": (0.0, 1.0),
    "programmatic": (0.0, 1.0),
    "gap": (0.0, math.log1p(7 * DAY_SECONDS)),
}
"""The range of each number of `Features.vector()`; values beyond are clipped."""


@dataclass(frozen=True, slots=True)
class Features:
    """One event against its principal's (and source address's) past."""

    at: float
    hour_of_week: int
    hour_of_day: int
    login: bool
    login_hour_share: float | None
    bucket_events: int
    bucket_refreshes: int
    per_minute: float
    failure: bool
    mfa_failure: bool
    login_failures: int
    mfa_failures: int
    source_failures: int
    source_targets: int
    denied: bool
    new_country: bool | None
    new_region: bool | None
    new_asn: bool | None
    new_cloud_region: bool | None
    new_device: bool | None
    previous_country: str | None
    travel_km: float | None
    travel_hours: float | None
    user_agent: str | None
    active_hours_today: int
    gap_seconds: float | None

    @property
    def travel_kmh(self) -> float | None:
        """Speed from the previous location, km/h; None when not measurable."""
        if self.travel_km is None or self.travel_hours is None:
            return None
        # Two sightings in the same second: treat as one minute apart.
        return self.travel_km / max(self.travel_hours, 1 / 60)

    def travel_impossible(self, rules: UserMonitors) -> bool:
        """Whether the move from the previous place is faster than `rules` allow."""
        speed = self.travel_kmh
        if speed is None or self.travel_km is None:
            return False
        return self.travel_km >= rules.min_travel_km and speed > rules.max_travel_kmh

    def vector(self, baseline: PrincipalBaseline) -> dict[str, float]:
        """Numbers for the learned detector, each scaled into [0, 1] by its limits."""
        angle = 2 * math.pi * (self.at % DAY_SECONDS) / DAY_SECONDS
        busy = baseline.rate.busy
        usual = busy.mean if busy.count else float(self.bucket_events)
        raw = {
            "hour_sin": math.sin(angle),
            "hour_cos": math.cos(angle),
            "weekend": 1.0 if self.hour_of_week >= 120 else 0.0,
            "rate_ratio": math.log1p(self.bucket_events / max(usual, 1.0)),
            "per_minute": math.log1p(self.per_minute),
            "failure": 1.0 if self.failure else 0.0,
            "denied": 1.0 if self.denied else 0.0,
            "new_network": 1.0 if (self.new_asn or self.new_cloud_region) else 0.0,
            "new_place": 1.0 if (self.new_country or self.new_region) else 0.0,
            "new_device": 1.0 if self.new_device else 0.0,
            "programmatic": 1.0 if self.user_agent == "programmatic" else 0.0,
            "gap": math.log1p(self.gap_seconds or 0.0),
        }
        # Fixed limits, not a running scaler: a scale that moves with the data
        # would move every past projection with it.
        scaled = {}
        for name, value in raw.items():
            low, high = VECTOR_LIMITS[name]
            scaled[name] = min(max((value - low) / (high - low), 0.0), 1.0)
        return scaled


def _login_hour_share(baseline: PrincipalBaseline, how: int) -> float | None:
    if baseline.logins == 0:
        return None
    hour = how % 24
    by_hour = [0] * 24
    for slot, count in baseline.login_hours.items():
        by_hour[slot % 24] += count
    near = by_hour[hour] + 0.5 * (by_hour[(hour - 1) % 24] + by_hour[(hour + 1) % 24])
    return near / baseline.logins


def extract(
    event: AuthEvent,
    baseline: PrincipalBaseline,
    source_baseline: SourceBaseline | None,
    policy: MonitorPolicy,
) -> Features:
    """The features of `event`, judged against baselines that have not learnt it."""
    at = event.occurred_at.timestamp()
    how = hour_of_week(at)
    login = isinstance(event, SessionStarted)
    refresh = isinstance(event, TokenRefreshed)
    failed = isinstance(event, AuthenticationFailed)
    mfa_failure = failed and event.reason is FailureReason.MFA_FAILED
    login_failure = failed and not mfa_failure
    bucket_events, bucket_refreshes = baseline.rate.counts_with(at, refresh)

    user_window = policy.user.failure_window.total_seconds()
    mfa_window = policy.user.mfa_window.total_seconds()
    source_failures = source_targets = 0
    if source_baseline is not None and login_failure:
        source_failures = source_baseline.failures.within(at, user_window) + 1
        targets = source_baseline.targets_within(at, user_window)
        source_targets = targets + (event.principal.id not in source_baseline.targets)

    source = event.source
    country = source.country if source else None
    region = (
        f"{country}/{source.region}" if source and country and source.region else None
    )
    travel_km = travel_hours = None
    previous = baseline.last_country
    if country and previous and baseline.last_country_at is not None:
        travel_km = distance_km(previous, country)
        travel_hours = abs(at - baseline.last_country_at) / 3600

    day = int(at // DAY_SECONDS)
    hour_bit = 1 << int(at % DAY_SECONDS // 3600)
    active_today = (baseline.hour_mask(day) | hour_bit).bit_count()
    gap = at - baseline.last_at if baseline.last_at is not None else None

    return Features(
        at=at,
        hour_of_week=how,
        hour_of_day=how % 24,
        login=login,
        login_hour_share=_login_hour_share(baseline, how) if login else None,
        bucket_events=bucket_events,
        bucket_refreshes=bucket_refreshes,
        per_minute=baseline.per_minute.value_at(at) + 1.0,
        failure=failed,
        mfa_failure=mfa_failure,
        login_failures=baseline.login_failures.within(at, user_window)
        + int(login_failure),
        mfa_failures=baseline.mfa_failures.within(at, mfa_window) + int(mfa_failure),
        source_failures=source_failures,
        source_targets=source_targets,
        denied=isinstance(event, AccessRecorded)
        and event.outcome is AccessOutcome.DENIED,
        new_country=_is_new(country, baseline.countries),
        new_region=_is_new(region, baseline.regions),
        new_asn=_is_new(
            str(source.asn) if source and source.asn is not None else None,
            baseline.asns,
        ),
        new_cloud_region=_is_new(
            source.cloud_region if source else None, baseline.cloud_regions
        ),
        new_device=_is_new(source.device_id if source else None, baseline.devices),
        previous_country=previous,
        travel_km=travel_km,
        travel_hours=travel_hours,
        user_agent=user_agent_kind(source.user_agent if source else None),
        active_hours_today=active_today,
        gap_seconds=gap if gap is not None and gap >= 0 else None,
    )
