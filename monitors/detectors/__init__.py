"""Detectors: rules and models that judge one event, each for the categories it fits.

A detector has a `name` (the alert's `detector`), the `categories` it applies to,
and `inspect(observation)`, which returns a `Finding` or None. It reads the event,
the session's context, the features and the principal's baseline *before* the
baseline learns the event, and its thresholds from the category's part of the
`MonitorPolicy`. Detectors keep no state of their own: everything they remember
lives in baselines (and, for the learned detector, in its category model), so
that it survives restarts with them.

The families, one module each:

- `human`: unusual login hour, impossible travel, new country or device, MFA
  failure bursts, brute force by person and by address (users);
- `agent`: bursts beyond the agent's own baseline, access outside its scopes,
  new network or cloud region, use after end, refresh storms (agents, hybrids);
- `hybrid`: acting while the user's session is over, scope beyond the user's;
- `identity`: a person behaving like a machine, an agent behaving like a person;
- `policy`: the category's hard rules (rate limit, places, networks, MFA, device);
- `learned`: a river anomaly model per category.

`default_detectors()` lists them all, in the order their alerts are produced.
"""

from __future__ import annotations

from monitors.detectors import agent, human, hybrid, identity, learned, policy
from monitors.detectors.observation import Detector, LearnedScore, Observation


def default_detectors() -> tuple[Detector, ...]:
    """Every detector, in the order their alerts are produced."""
    return (
        *policy.DETECTORS,
        *hybrid.DETECTORS,
        *agent.DETECTORS,
        *human.DETECTORS,
        *identity.DETECTORS,
        *learned.DETECTORS,
    )


__all__ = ["Detector", "LearnedScore", "Observation", "default_detectors"]
