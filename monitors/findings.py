"""A finding: what one detector concluded about one event, before it is an alert.

Detectors return findings; `monitors.alerts` merges the findings of one detector
about one principal into a single alert that grows (count, last seen) instead of
repeating, and `monitors.response` decides which findings also revoke a session.

A finding's score says how far past its threshold the event lies: 0.5 at the
threshold, approaching 1 far beyond it (`beyond`), and 1 for a rule that is
simply broken. The learned detector's score is the model's own anomaly score.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas import Evidence, Severity
from schemas.limits import TEXT_MAX


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector's conclusion about one event."""

    detector: str
    severity: Severity
    score: float
    explanation: str
    evidence: tuple[Evidence, ...] = ()
    on_source: bool = False
    """Kept with the source address's open alerts rather than the principal's."""


def beyond(value: float, threshold: float) -> float:
    """How far `value` lies past `threshold`: 0.5 at it, towards 1 far beyond.

    >>> beyond(10, 10), round(beyond(30, 10), 2), round(beyond(990, 10), 2)
    (0.5, 0.75, 0.99)
    """
    if value <= 0:
        return 0.0
    if threshold <= 0:
        return 1.0
    return value / (value + threshold)


def evidence(
    feature: str,
    value: float | str,
    baseline: float | str | None = None,
    detail: str | None = None,
) -> Evidence:
    """One piece of evidence; floats rounded, text cut to what an alert may hold."""
    return Evidence(
        feature=feature,
        value=_fit(value),
        baseline=None if baseline is None else _fit(baseline),
        detail=None if detail is None else _fit(detail),
    )


def _fit(value: float | str) -> float | str:
    if isinstance(value, float):
        return round(value, 4)
    # Resources and scopes are free text of up to 1024 characters each; a joined
    # list of them would not fit the alert.
    return value if len(value) <= TEXT_MAX else value[: TEXT_MAX - 1] + "…"
