"""The learned detector: one river anomaly model per category.

Each category has its own `CategoryModel`: river's `LODA` (an ensemble of
histograms over sparse random projections), fed the numbers of
`Features.vector()` (time of day, rate against the principal's own baseline,
failures, novelty of place, network and device, user agent kind, gap since the
last event), each scaled into [0, 1] by fixed limits. Its score is the average
negative log density of the event's projections: about -2 for the bulk of the
traffic, above 10 for combinations the category has never shown.

LODA, not river's `HalfSpaceTrees`: half-space trees judge an event against the
mass of their last window only (250 events by default, minutes of an agent
category's traffic), and on simulated agent nights they gave a normal read and a
stolen-token read nearly the same score (0.985 against 0.991), where LODA gave
2.2 against 13.1 (see docs/monitors.md). Keeping the models apart per category
matters as much: in one shared model, the agents' round-the-clock traffic would
make a person's 3 a.m. login look normal, and people's office hours would make
every agent batch look odd.

Every event but heartbeats (liveness pings, whose rate the rules already watch)
is scored *before* the model learns it. The score alerts when it is
above a running quantile of the category's past scores (river's `stats.Quantile`,
`learned.quantile` in the policy) and at least `learned.min_score`, and never
during the first `learned.warmup_events` events of the category. Its alerts are
low severity: a model's surprise is a lead for a person to look at, never a
reason to revoke on its own.

The model is serialized with pickle, here and nowhere else. River's models keep
their state in private attributes, so there is no public way to write them out
field by field. A pickle runs code when it is read: the changelog topic that
stores these bytes must be writable by the ledger's worker alone (Kafka ACLs).

>>> model = CategoryModel(SessionCategory.AGENT, quantile=0.99, calibrate_after=100)
>>> for step in range(500):
...     calm = {"rate_ratio": 0.4 + (step % 5) * 0.05, "failure": 0.0}
...     verdict = model.score(calm)
...     model.learn(calm, verdict.score)
>>> calm = {"rate_ratio": 0.5, "failure": 0.0}
>>> odd = {"rate_ratio": 0.9, "failure": 1.0}
>>> round(model.score(calm).score, 1), round(model.score(odd).score, 1)
(-0.4, 27.6)
>>> CategoryModel.from_bytes(model.to_bytes()).score(odd) == model.score(odd)
True
"""

from __future__ import annotations

import pickle
from typing import Any

from river import anomaly, stats

from monitors.baselines import BaselineUnreadable
from monitors.detectors.observation import EVERYONE, LearnedScore, Observation
from monitors.findings import Finding, evidence
from schemas import SessionCategory, Severity

MODEL_VERSION = 1
BINS = 20
PROJECTIONS = 10
"""LODA's size: 10 projections of 20 bins pickle to about 11 kB."""


class CategoryModel:
    """An anomaly model and the running quantile of its scores, for one category."""

    def __init__(
        self,
        category: SessionCategory,
        quantile: float,
        calibrate_after: int = 0,
        seed: int = 42,
    ) -> None:
        self.category = category
        self.calibrate_after = calibrate_after
        self.detector = anomaly.LODA(n_bins=BINS, n_random_cuts=PROJECTIONS, seed=seed)
        self.scores = stats.Quantile(quantile)
        self.quantile = quantile
        self.seen = 0

    def score(self, vector: dict[str, float]) -> LearnedScore:
        """How anomalous `vector` is, before the model learns it."""
        score = float(self.detector.score_one(vector))
        threshold = self.scores.get() if self.seen > self.calibrate_after else None
        return LearnedScore(
            score=score,
            threshold=float(threshold) if threshold is not None else 1.0,
            seen=self.seen,
        )

    def learn(self, vector: dict[str, float], score: float) -> None:
        """Learn `vector`, and the score it was given, after it was judged."""
        self.detector.learn_one(vector)
        # The first scores come from nearly empty histograms: they would set the
        # threshold far too high for good.
        if self.seen >= self.calibrate_after:
            self.scores.update(score)
        self.seen += 1

    def to_bytes(self) -> bytes:
        """The model as a pickle (see the module's note on trusting it)."""
        state: dict[str, Any] = {
            "version": MODEL_VERSION,
            "category": self.category.value,
            "quantile": self.quantile,
            "calibrate_after": self.calibrate_after,
            "seen": self.seen,
            "detector": self.detector,
            "scores": self.scores,
        }
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, raw: bytes) -> CategoryModel:
        """The model `to_bytes` wrote; BaselineUnreadable if it cannot be."""
        try:
            state = pickle.loads(raw)
            if state["version"] != MODEL_VERSION:
                raise ValueError(f"version {state['version']}, not {MODEL_VERSION}")
            model = cls(
                SessionCategory(state["category"]),
                state["quantile"],
                state["calibrate_after"],
            )
            model.seen = int(state["seen"])
            model.detector = state["detector"]
            model.scores = state["scores"]
        except (pickle.UnpicklingError, KeyError, TypeError, ValueError) as error:
            raise BaselineUnreadable(
                f"a stored category model ({len(raw)} bytes) cannot be read: {error}"
            ) from error
        return model


class LearnedAnomaly:
    """An event the category's model finds more surprising than almost any other."""

    name = "learned_anomaly"
    categories = EVERYONE

    def inspect(self, observation: Observation) -> Finding | None:
        learned = observation.learned
        rules = observation.rules.learned
        if learned is None or not rules.enabled:
            return None
        if learned.seen < rules.warmup_events:
            return None
        if learned.score <= learned.threshold or learned.score < rules.min_score:
            return None
        features = observation.features
        usual = observation.baseline.rate.busy
        flags = [
            name
            for name, on in (
                ("failure", features.failure),
                ("denied", features.denied),
                ("new_network", features.new_asn or features.new_cloud_region),
                ("new_place", features.new_country or features.new_region),
                ("new_device", features.new_device),
                ("programmatic", features.user_agent == "programmatic"),
            )
            if on
        ]
        return Finding(
            detector=self.name,
            severity=Severity.LOW,
            score=learned.score,
            explanation=(
                f"the {observation.category.value} model scores this "
                f"{observation.event.type} of {observation.event.principal.id} at "
                f"{learned.score:.1f}, above {rules.quantile:.1%} of the "
                f"{learned.seen} events it has seen ({learned.threshold:.1f})"
            ),
            evidence=(
                evidence("anomaly_score", learned.score, learned.threshold),
                evidence("hour_utc", float(features.hour_of_day)),
                evidence(
                    "bucket_events",
                    float(features.bucket_events),
                    usual.mean if usual.count else None,
                ),
                evidence("gap_seconds", features.gap_seconds or 0.0),
                evidence("flags", ", ".join(flags) or "none"),
            ),
        )


DETECTORS = (LearnedAnomaly(),)
