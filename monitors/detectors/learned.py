"""The learned detector: one river anomaly model per category.

Each category has its own `CategoryModel`: river's `HalfSpaceTrees` behind a
`MinMaxScaler`, fed the numbers of `Features.vector()` (time of day, rate against
the principal's own baseline, failures, novelty of place, network and device,
user agent kind, gap since the last event). Keeping the models apart matters: in
one shared model, the agents' round-the-clock traffic would make a person's
3 a.m. login look normal, and the people's office hours would make every agent
batch look odd.

Every event is scored *before* the model learns it. The score alerts when it is
above a running quantile of the category's past scores (river's `stats.Quantile`,
`learned.quantile` in the policy) and at least `learned.min_score`, and never
during the first `learned.warmup_events` events of the category. Its alerts are
low severity: a model's surprise is a lead for a person to look at, never a
reason to revoke on its own.

The model is serialized with pickle, here and nowhere else. River's models keep
their state in private attributes, so there is no public way to write them out
field by field. A pickle runs code when it is read: the changelog topic that
stores these bytes must be writable by the ledger's worker alone (Kafka ACLs).

>>> model = CategoryModel(SessionCategory.AGENT, quantile=0.99)
>>> for step in range(500):
...     calm = {"rate": 0.4 + (step % 5) * 0.05, "hour": (step % 24) / 24}
...     verdict = model.score(calm)
...     model.learn(calm, verdict.score)
>>> calm, odd = {"rate": 0.5, "hour": 0.5}, {"rate": 3.0, "hour": 0.5}
>>> model.score(odd).score > model.score(calm).score
True
>>> CategoryModel.from_bytes(model.to_bytes()).score(odd) == model.score(odd)
True
"""

from __future__ import annotations

import pickle
from typing import Any

from river import anomaly, compose, preprocessing, stats

from monitors.baselines import BaselineUnreadable
from monitors.detectors.observation import EVERYONE, LearnedScore, Observation
from monitors.findings import Finding, evidence
from schemas import SessionCategory, Severity

MODEL_VERSION = 1
TREES = 10
HEIGHT = 6
WINDOW = 250
"""Half-space trees: 10 trees of height 6 keep a pickle near 50 kB (river's
defaults, 25 trees of height 15, pickle to tens of megabytes) and score an event
in about 70 µs."""


class CategoryModel:
    """An anomaly model and the running quantile of its scores, for one category."""

    def __init__(
        self, category: SessionCategory, quantile: float, seed: int = 42
    ) -> None:
        self.category = category
        self.pipeline = compose.Pipeline(
            preprocessing.MinMaxScaler(),
            anomaly.HalfSpaceTrees(
                n_trees=TREES, height=HEIGHT, window_size=WINDOW, seed=seed
            ),
        )
        self.scores = stats.Quantile(quantile)
        self.quantile = quantile
        self.seen = 0

    def score(self, vector: dict[str, float]) -> LearnedScore:
        """How anomalous `vector` is, before the model learns it."""
        score = float(self.pipeline.score_one(vector))
        threshold = self.scores.get() if self.seen else None
        return LearnedScore(
            score=score,
            threshold=float(threshold) if threshold is not None else 1.0,
            seen=self.seen,
        )

    def learn(self, vector: dict[str, float], score: float) -> None:
        """Learn `vector`, and the score it was given, after it was judged."""
        self.pipeline.learn_one(vector)
        self.scores.update(score)
        self.seen += 1

    def to_bytes(self) -> bytes:
        """The model as a pickle (see the module's note on trusting it)."""
        state: dict[str, Any] = {
            "version": MODEL_VERSION,
            "category": self.category.value,
            "quantile": self.quantile,
            "seen": self.seen,
            "pipeline": self.pipeline,
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
            model = cls(SessionCategory(state["category"]), state["quantile"])
            model.seen = int(state["seen"])
            model.pipeline = state["pipeline"]
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
        vector = observation.features.vector(observation.baseline)
        notable = sorted(vector.items(), key=lambda item: -abs(item[1]))[:6]
        return Finding(
            detector=self.name,
            severity=Severity.LOW,
            score=learned.score,
            explanation=(
                f"the {observation.category.value} model scores this "
                f"{observation.event.type} of {observation.event.principal.id} at "
                f"{learned.score:.2f}, above {rules.quantile:.1%} of the "
                f"{learned.seen} events it has seen ({learned.threshold:.2f})"
            ),
            evidence=(
                evidence("anomaly_score", learned.score, learned.threshold),
                *(evidence(name, value) for name, value in notable),
            ),
        )


DETECTORS = (LearnedAnomaly(),)
