"""The monitoring pipeline: for each event, judge, then learn, then alert.

`MonitorEngine.observe(event)` takes one event in event-time order and:

1. advances the session's context (or takes the one the caller passes);
2. extracts the event's features against the principal's baseline as it was
   before this event;
3. scores the event with the category's learned model, before the model learns;
4. runs every detector that applies to the category and is not disabled;
5. lets the baselines and the model learn the event;
6. merges the findings into alerts, and turns the findings the policy says so
   into cascade revocations.

It returns a `Verdict`: the alerts to publish (new ones and updates) and the
revocation commands to send. It reads no clock and does no I/O; its state lives
in a `MonitorStore`.

>>> from schemas import SessionCategory
>>> from schemas.examples import started
>>> engine = MonitorEngine()
>>> verdict = engine.observe(started(SessionCategory.AGENT))
>>> verdict.alerts, verdict.revocations
((), ())
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import ConfigurationError
from monitors.alerts import REVOKED_KEPT, AlertBook, AlertFacts
from monitors.baselines import PrincipalBaseline, RateBuckets, SourceBaseline
from monitors.context import (
    LEDGER_APPENDED,
    SessionContext,
    advance,
    principal_key,
)
from monitors.detectors import Detector, Observation, default_detectors
from monitors.detectors.learned import CategoryModel
from monitors.features import extract
from monitors.findings import Finding
from monitors.policy import MonitorPolicy, UserMonitors
from monitors.response import revocation, should_revoke
from monitors.store import MemoryStore, MonitorStore
from schemas import (
    Alert,
    AuthenticationFailed,
    AuthEvent,
    FailureReason,
    HeartbeatReceived,
    RevokeSession,
    SessionCategory,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one event led to."""

    findings: tuple[Finding, ...] = ()
    """Every finding, merged into an alert or not."""
    alerts: tuple[Alert, ...] = ()
    """Alerts to publish: new ones, and updates of open ones."""
    revocations: tuple[RevokeSession, ...] = ()
    """Cascade revocations to send to `session.commands`."""


NOTHING = Verdict()


class MonitorEngine:
    """Judges events against per-category baselines and detectors."""

    def __init__(
        self,
        policy: MonitorPolicy | None = None,
        store: MonitorStore | None = None,
        detectors: tuple[Detector, ...] | None = None,
    ) -> None:
        self.policy = policy or MonitorPolicy()
        self.store: MonitorStore = store if store is not None else MemoryStore()
        self.detectors = detectors if detectors is not None else default_detectors()
        self.book = AlertBook(self.policy.merge_window, self.policy.update_interval)
        self._check_disabled()

    def observe(
        self, event: AuthEvent, context: SessionContext | None = None
    ) -> Verdict:
        """Judge `event`, learn from it, and say what to publish and revoke."""
        if context is None:
            context = self._advance_context(event)
        if isinstance(event, LEDGER_APPENDED):
            return NOTHING  # the ledger's own decisions are nobody's behaviour

        true_category = context.category
        if self.policy.uniform and true_category is not SessionCategory.USER:
            context = context.model_copy(update={"category": SessionCategory.USER})
        category = context.category
        rules = self.policy.for_category(category)
        # Keyed by the real category even when judged as a person's: the worker
        # partitions by it, and a key written from two partitions would diverge.
        key = principal_key(true_category, event.principal.id, context.subject)
        baseline = self._baseline(key, category)
        address = self._failed_login_address(event, category)
        source = None
        if address is not None:
            source = self.store.source(address) or SourceBaseline()

        # 1. Judge against the past only.
        features = extract(event, baseline, source, self.policy)
        model = vector = learned = None
        if rules.learned.enabled and not isinstance(event, HeartbeatReceived):
            model = self.store.model(category) or CategoryModel(
                category,
                rules.learned.quantile,
                calibrate_after=rules.learned.warmup_events // 2,
            )
            vector = features.vector(baseline)
            learned = model.score(vector)
        observation = Observation(
            event, context, features, baseline, self.policy, learned
        )
        findings = tuple(
            finding
            for detector in self.detectors
            if category in detector.categories and detector.name not in rules.disabled
            if (finding := detector.inspect(observation)) is not None
        )

        # 2. Learn.
        at = features.at
        programmatic = (
            None if features.user_agent is None else features.user_agent != "browser"
        )
        place_trusted = not (
            isinstance(rules, UserMonitors) and features.travel_impossible(rules)
        )
        baseline.learn(event, at, programmatic, place_trusted)
        if source is not None and address is not None:
            source.learn(event.principal.id, at)
        if model is not None and vector is not None and learned is not None:
            model.learn(vector, learned.score)
            self.store.save_model(category, model)

        # 3. Alert and respond.
        verdict = self._respond(
            event, context, true_category, key, baseline, source, address, findings
        )
        self.store.save_principal(key, baseline)
        if source is not None and address is not None:
            self.store.save_source(address, source)
        return verdict

    def _check_disabled(self) -> None:
        names = {detector.name for detector in self.detectors}
        for category in SessionCategory:
            unknown = self.policy.for_category(category).disabled - names
            if unknown:
                raise ConfigurationError(
                    f"monitors.{category.value}.disabled names no detector: "
                    f"{', '.join(sorted(unknown))}; the known ones are "
                    f"{', '.join(sorted(names))}"
                )

    def _advance_context(self, event: AuthEvent) -> SessionContext:
        context = advance(self.store.context(event.session_id), event)
        self.store.save_context(event.session_id, context)
        if context.subject_session_id is not None:
            subject = self.store.context(context.subject_session_id)
            context = context.with_subject(subject)
        return context

    def _baseline(self, key: str, category: SessionCategory) -> PrincipalBaseline:
        bucket = self.policy.rate_bucket.total_seconds()
        baseline = self.store.principal(key)
        if baseline is None:
            return PrincipalBaseline.fresh(
                category, bucket, self.policy.known_values_kept
            )
        if baseline.rate.seconds != bucket:
            # Counts per bucket of another length cannot be compared: start over.
            baseline.rate = RateBuckets(seconds=bucket)
        return baseline

    @staticmethod
    def _failed_login_address(
        event: AuthEvent, category: SessionCategory
    ) -> str | None:
        if category is not SessionCategory.USER:
            return None
        if not isinstance(event, AuthenticationFailed):
            return None
        if event.reason is FailureReason.MFA_FAILED or event.source is None:
            return None
        return event.source.ip

    def _respond(
        self,
        event: AuthEvent,
        context: SessionContext,
        true_category: SessionCategory,
        key: str,
        baseline: PrincipalBaseline,
        source: SourceBaseline | None,
        address: str | None,
        findings: tuple[Finding, ...],
    ) -> Verdict:
        if not findings:
            return NOTHING
        at = event.occurred_at.timestamp()
        facts = AlertFacts(true_category, event.principal.id, event.session_id)
        revoke_at = self.policy.for_category(context.category).revoke_at
        alerts: list[Alert] = []
        revocations: list[RevokeSession] = []
        for finding in findings:
            if finding.on_source and source is not None:
                recorded = self.book.record(
                    source.alerts, finding, f"ip:{address}", facts, at
                )
            else:
                recorded = self.book.record(baseline.alerts, finding, key, facts, at)
            if recorded.published is not None:
                alerts.append(recorded.published)
            open_alert = recorded.alert
            if (
                should_revoke(finding, revoke_at)
                and event.session_id not in open_alert.revoked
            ):
                revocations.append(
                    revocation(open_alert.alert_id, event.session_id, finding, at)
                )
                open_alert.revoked.append(event.session_id)
                del open_alert.revoked[:-REVOKED_KEPT]
        return Verdict(findings, tuple(alerts), tuple(revocations))
