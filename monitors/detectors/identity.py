"""Identity mix-ups: a person's account used like a machine, an agent like a person.

Both are how shared credentials and hijacked accounts show: a script running on
someone's login, or a person logging in interactively with a service account.

- `user_machine_like` weighs three signals: activity in at least
  `machine_hours_per_day` distinct hours of a day on `machine_days` of the last
  14 days (around the clock); a programmatic user agent on at least
  `programmatic_share` of the events; gaps between events as regular as a timer
  (coefficient of variation below `regular_cadence_cv`). Two signals make a
  medium alert, three a high one.
- `agent_interactive` weighs three others: a browser user agent, MFA (a prompt
  passed or failed), an interactive auth method. One makes a medium alert, two
  or more a high one.

A person's account that a cron job runs every 15 minutes, day and night:

>>> from datetime import timedelta
>>> from monitors.engine import MonitorEngine
>>> from schemas import AccessRecorded, SessionCategory, Source
>>> from schemas.examples import EXAMPLE_TIME, example, started
>>> engine = MonitorEngine()
>>> verdict = engine.observe(started(SessionCategory.USER))
>>> script = Source(ip="203.0.113.9", country="DE", user_agent="python-requests/2.32")
>>> alerts = []
>>> for quarter in range(3 * 96):
...     verdict = engine.observe(example(
...         AccessRecorded, session_id="sess-user-7f3a", category="user",
...         principal=started("user").principal, parent_session_id=None,
...         event_id=f"00000000-0000-4000-8000-{quarter:012d}", source=script,
...         occurred_at=EXAMPLE_TIME + timedelta(minutes=15 * quarter)))
...     alerts.extend(verdict.alerts)
>>> first, last = alerts[0], alerts[-1]
>>> first.detector, first.severity.value, last.severity.value, last.count
('user_machine_like', 'medium', 'high', 256)

"""

from __future__ import annotations

from monitors.detectors.observation import MACHINES, USER, Observation
from monitors.findings import Finding, evidence
from schemas import (
    AuthenticationFailed,
    Evidence,
    FailureReason,
    SessionStarted,
    Severity,
)


def _around_the_clock_days(observation: Observation, hours_per_day: int) -> int:
    baseline = observation.baseline
    today = int(observation.features.at // 86_400)
    days = sum(
        1
        for day, mask in baseline.hours_by_day.items()
        if day != today and mask.bit_count() >= hours_per_day
    )
    return days + int(observation.features.active_hours_today >= hours_per_day)


class HumanLikeMachine:
    """A person's account active around the clock, programmatically, on a timer."""

    name = "user_machine_like"
    categories = USER

    def inspect(self, observation: Observation) -> Finding | None:
        rules = observation.user_rules
        baseline = observation.baseline
        signals: list[Evidence] = []

        days = _around_the_clock_days(observation, rules.machine_hours_per_day)
        if days >= rules.machine_days:
            signals.append(
                evidence(
                    "around_the_clock_days",
                    float(days),
                    float(rules.machine_days),
                    f"days with activity in {rules.machine_hours_per_day}+ hours",
                )
            )
        programmatic = baseline.programmatic
        if (
            programmatic.count >= rules.warmup_events
            and programmatic.mean >= rules.programmatic_share
        ):
            signals.append(
                evidence(
                    "programmatic_share",
                    programmatic.mean,
                    rules.programmatic_share,
                    "share of events with a non-browser user agent",
                )
            )
        gaps = baseline.gaps
        if gaps.count >= rules.cadence_min_gaps and gaps.mean > 0:
            variation = gaps.std / gaps.mean
            if variation < rules.regular_cadence_cv:
                signals.append(
                    evidence(
                        "gap_variation",
                        variation,
                        rules.regular_cadence_cv,
                        f"events every {gaps.mean:.0f} s, as regular as a timer",
                    )
                )
        if len(signals) < 2:
            return None
        what = ", ".join(signal.feature.replace("_", " ") for signal in signals)
        return Finding(
            detector=self.name,
            severity=Severity.HIGH if len(signals) == 3 else Severity.MEDIUM,
            score=len(signals) / 3,
            explanation=(
                f"the account of {observation.event.principal.id} behaves like a "
                f"program ({what}): shared credentials or a script on a person's "
                "login"
            ),
            evidence=tuple(signals),
        )


class AgentActingHuman:
    """An agent using a browser, MFA or an interactive login."""

    name = "agent_interactive"
    categories = MACHINES

    def inspect(self, observation: Observation) -> Finding | None:
        event = observation.event
        rules = observation.machine_rules
        signals: list[Evidence] = []
        if observation.features.user_agent == "browser":
            agent = event.source.user_agent if event.source else None
            signals.append(evidence("user_agent", agent or "?", detail="a browser"))
        if isinstance(event, SessionStarted):
            if event.mfa:
                signals.append(evidence("mfa", "passed", detail="an MFA prompt"))
            method = event.auth_method
            if method and method.lower() in rules.interactive_auth_methods:
                signals.append(
                    evidence("auth_method", method, detail="an interactive login")
                )
        if (
            isinstance(event, AuthenticationFailed)
            and event.reason is FailureReason.MFA_FAILED
        ):
            signals.append(evidence("mfa", "failed", detail="an MFA prompt"))
        if not signals:
            return None
        what = ", ".join(f"{signal.feature} {signal.value}" for signal in signals)
        return Finding(
            detector=self.name,
            severity=Severity.HIGH if len(signals) >= 2 else Severity.MEDIUM,
            score=min(len(signals) / 3, 1.0),
            explanation=(
                f"agent {event.principal.id} did what only people do ({what}): "
                "someone may be logging in with its credentials"
            ),
            evidence=tuple(signals),
        )


DETECTORS = (HumanLikeMachine(), AgentActingHuman())
