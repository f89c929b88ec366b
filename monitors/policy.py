"""The monitors' section of the policy: detector thresholds kept per category.

The section sits under the `monitors:` key of the ledger's policy file and is
self-contained: `load_monitor_policy(path)` reads only that key, so the section
works whether or not the rest of the policy knows about it. It has shared keys
(the rate bucket, alert merging) and one part per category, `user`, `agent` and
`hybrid`, each holding only the thresholds of the detectors that apply to it:

    monitors:
      merge_window: PT1H
      user:
        allowed_countries: [DE, FR]
        require_device: true
      agent:
        burst_factor: 8
        allowed_asns: [16509, 14618]
        revoke_at: critical

Durations are seconds (`600`) or ISO 8601 durations (`PT10M`). Unknown keys are
refused, so that a misspelt threshold fails loudly instead of silently not
applying. Every key is described in `docs/monitors.md`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.errors import ConfigurationError
from ledger.policy_file import describe_refusal, read_policy_document
from schemas import SessionCategory, Severity


class MonitorSection(BaseModel):
    """A frozen part of the monitors' policy that refuses unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class LearnedPolicy(MonitorSection):
    """The learned (river) detector of one category."""

    enabled: bool = Field(True, description="Run the learned detector at all.")
    warmup_events: int = Field(
        10_000,
        ge=0,
        description="Events the model learns from before any of its scores alerts; "
        "the score quantile is calibrated on the second half of them and after.",
    )
    quantile: float = Field(
        0.999,
        gt=0.5,
        lt=1,
        description="A score alerts when above this running quantile of the "
        "category's past scores.",
    )
    min_score: float = Field(
        8.0,
        description="A score alerts only when also at least this high (LODA's "
        "score: the average negative log density of the event's projections; "
        "normal traffic scores about -2).",
    )


class CategoryMonitors(MonitorSection):
    """Thresholds every category has."""

    disabled: frozenset[str] = Field(
        frozenset(), description="Names of detectors not to run for the category."
    )
    warmup_events: int = Field(
        30,
        ge=0,
        description="Events a principal's baseline learns before the detectors "
        "that judge against it (hours, sources, bursts) may alert.",
    )
    warmup_days: int = Field(
        3,
        ge=0,
        description="Distinct days of activity a principal's baseline needs, "
        "besides its events, before those detectors may alert.",
    )
    max_events_per_minute: float = Field(
        120.0, gt=0, description="Rate limit per principal, events per minute."
    )
    token_expiry_grace: timedelta = Field(
        timedelta(seconds=60),
        ge=timedelta(0),
        description="Access this soon after the token's expiry is clock skew, not "
        "use of an expired token.",
    )
    revoke_at: Severity | None = Field(
        None,
        description="Alerts at or above this severity also revoke the offending "
        "session, with cascade; null: alert only.",
    )
    learned: LearnedPolicy = Field(
        default_factory=LearnedPolicy, description="The learned detector."
    )


class UserMonitors(CategoryMonitors):
    """Thresholds of the detectors that judge humans."""

    unusual_hour_share: float = Field(
        0.02,
        ge=0,
        le=1,
        description="A login is at an unusual hour when the person's past logins "
        "in that hour of day (neighbours count half) are below this share.",
    )
    unusual_hour_min_logins: int = Field(
        10,
        ge=1,
        description="Past logins a person needs before login hours are judged.",
    )
    max_travel_kmh: float = Field(
        900.0,
        gt=0,
        description="Speed between successive locations above which travel is "
        "impossible (an airliner cruises at about 900 km/h).",
    )
    new_device_alone: bool = Field(
        False,
        description="Report a device the person has never used even when it "
        "comes from a network (ASN) and country their baseline knows. Off by "
        "default: people add phones and replacement laptops at home and at the "
        "office, while a thief's new device also comes from an unfamiliar network.",
    )
    min_travel_km: float = Field(
        500.0,
        ge=0,
        description="Shorter moves are never impossible travel: country centroids "
        "are coarse, and neighbours' borders lie close together.",
    )
    mfa_failures: int = Field(
        5,
        ge=1,
        le=64,
        description="MFA failures within `mfa_window` that make a burst.",
    )
    mfa_window: timedelta = Field(
        timedelta(minutes=10), gt=timedelta(0), description="See `mfa_failures`."
    )
    principal_failures: int = Field(
        10,
        ge=1,
        le=64,
        description="Failed logins of one person within `failure_window`: brute "
        "force on the account.",
    )
    ip_failures: int = Field(
        20,
        ge=1,
        le=64,
        description="Failed logins from one address within `failure_window`: "
        "brute force or password spraying from it.",
    )
    ip_principals: int = Field(
        5,
        ge=1,
        description="Distinct people those failures must target to count as "
        "spraying from the address.",
    )
    failure_window: timedelta = Field(
        timedelta(minutes=10),
        gt=timedelta(0),
        description="Window of the brute-force counts.",
    )
    allowed_countries: frozenset[str] = Field(
        frozenset(),
        description="ISO codes people may work from; empty: anywhere.",
    )
    require_mfa: bool = Field(True, description="Logins must use MFA.")
    require_device: bool = Field(
        False, description="Logins must come from an identified device."
    )
    machine_hours_per_day: int = Field(
        20,
        ge=1,
        le=24,
        description="Distinct hours of one day with activity that look like a "
        "machine rather than a person.",
    )
    machine_days: int = Field(
        2,
        ge=1,
        description="Days, among the last 14, with that many active hours before "
        "the account counts as around the clock.",
    )
    programmatic_share: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Share of events with a programmatic (non-browser) user agent "
        "that counts as programmatic use.",
    )
    regular_cadence_cv: float = Field(
        0.15,
        gt=0,
        description="Gaps between events whose coefficient of variation is below "
        "this are as regular as a timer.",
    )
    cadence_min_gaps: int = Field(
        30, ge=2, description="Gaps measured before the cadence is judged."
    )


class AgentMonitors(CategoryMonitors):
    """Thresholds of the detectors that judge agents and service accounts."""

    warmup_events: int = Field(
        50,
        ge=0,
        description="Events an agent's baseline learns before the detectors that "
        "judge against it (networks) may alert.",
    )
    warmup_days: int = Field(
        2,
        ge=0,
        description="Distinct days an agent's baseline needs: a fleet shows its "
        "regions and networks over its first day, not its first events.",
    )
    max_events_per_minute: float = Field(
        20_000.0, gt=0, description="Machine-scale rate limit per principal."
    )
    revoke_at: Severity | None = Field(
        Severity.HIGH,
        description="Alerts at or above this severity also revoke the offending "
        "session, with cascade; null: alert only.",
    )
    burst_factor: float = Field(
        5.0,
        gt=1,
        description="A rate bucket holding this many times the principal's usual "
        "busy bucket is a burst.",
    )
    burst_min_events: int = Field(
        200,
        ge=1,
        description="Smaller buckets are never bursts, whatever the baseline.",
    )
    burst_warmup_buckets: int = Field(
        6,
        ge=1,
        description="Busy rate buckets the baseline needs before bursts alert.",
    )
    refresh_storm_factor: float = Field(
        5.0,
        gt=1,
        description="A rate bucket holding this many times the usual refreshes is "
        "a refresh storm.",
    )
    refresh_storm_min: int = Field(
        30, ge=1, description="Fewer refreshes in a bucket are never a storm."
    )
    allowed_cloud_regions: frozenset[str] = Field(
        frozenset(), description="Cloud regions agents may run in; empty: any."
    )
    allowed_asns: frozenset[int] = Field(
        frozenset(), description="Networks (ASNs) agents may come from; empty: any."
    )
    interactive_auth_methods: frozenset[str] = Field(
        frozenset(
            {
                "password",
                "pwd",
                "otp",
                "totp",
                "sms",
                "push",
                "webauthn",
                "passkey",
                "saml",
                "authorization_code",
                "device_code",
                "interactive",
            }
        ),
        description="Auth methods only people use; an agent using one is an "
        "identity mix-up.",
    )


class HybridMonitors(AgentMonitors):
    """Thresholds for agents acting for a user: the agents' ones, and the link's."""

    max_events_per_minute: float = Field(
        2_000.0, gt=0, description="Rate limit per (agent, user) pair."
    )
    subject_gone_grace: timedelta = Field(
        timedelta(seconds=30),
        ge=timedelta(0),
        description="Activity this soon after the user's session ended is requests "
        "already in flight, not acting for a user who is gone.",
    )


class MonitorPolicy(MonitorSection):
    """The monitors' whole section: shared keys and one part per category."""

    rate_bucket: timedelta = Field(
        timedelta(minutes=10),
        gt=timedelta(0),
        description="Length of the rate buckets the burst and storm baselines "
        "count in; changing it restarts those baselines.",
    )
    merge_window: timedelta = Field(
        timedelta(hours=1),
        gt=timedelta(0),
        description="Findings of one detector about one principal this close "
        "together merge into one alert.",
    )
    update_interval: timedelta = Field(
        timedelta(minutes=15),
        ge=timedelta(0),
        description="A merged alert is re-published at most this often, unless "
        "its severity rises.",
    )
    known_values_kept: int = Field(
        64,
        ge=1,
        description="Countries, networks, devices... remembered per principal; the "
        "least recently seen is forgotten first.",
    )
    uniform: bool = Field(
        False,
        description="Judge every session as a person's, the way identity systems "
        "built for humans do: the user detectors, thresholds, response and learned "
        "model for agents and hybrids too. For comparison runs "
        "(benchmarks/eval_detection.py); alerts keep the session's real category.",
    )
    user: UserMonitors = Field(default_factory=UserMonitors)
    agent: AgentMonitors = Field(default_factory=AgentMonitors)
    hybrid: HybridMonitors = Field(default_factory=HybridMonitors)

    def for_category(
        self, category: SessionCategory
    ) -> UserMonitors | AgentMonitors | HybridMonitors:
        """The part of `category`."""
        if category is SessionCategory.USER:
            return self.user
        if category is SessionCategory.AGENT:
            return self.agent
        return self.hybrid


def load_monitor_policy(path: Path | None) -> MonitorPolicy:
    """The `monitors:` section of the policy file at `path`; defaults if absent."""
    if path is None:
        return MonitorPolicy()
    document = read_policy_document(path)
    section = document.get("monitors") or {}
    try:
        return MonitorPolicy.model_validate(section)
    except ValidationError as error:
        raise ConfigurationError(
            f"the monitors section of policy file {path} is refused: "
            f"{describe_refusal(error)}"
        ) from error
