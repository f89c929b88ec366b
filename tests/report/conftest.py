"""Fixtures of the report tests: the sample week in a real embedded (chDB) store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka_fixtures import free_port
from report_samples import (
    DEAD_LETTERS,
    GENERATED_AT,
    HUMAN_RATE,
    records,
    sample_alerts,
    sample_events,
    sample_labels,
    sample_notices,
)

from ledger.report.model import ROW_LIMIT, AssessmentReport, build_report
from ledger.settings import LedgerSettings
from projections.rows import ALERTS, AUTH_EVENTS, REVOCATIONS
from projections.store import AuditStore


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditStore]:
    """A store holding the sample week, written through the audit writer's path.

    One per module, closed at its end: chDB hosts one engine per process, so the
    next module's store (or another package's) can only open once this one is
    closed.
    """
    path = tmp_path_factory.mktemp("report-store")
    settings = LedgerSettings(
        data_dir=path / "data",
        clickhouse_url=f"chdb://{path / 'clickhouse'}",
        web_port=free_port(),
    )
    store = AuditStore(settings)
    for spec, messages, topic in (
        (AUTH_EVENTS, sample_events(), "auth.events"),
        (ALERTS, sample_alerts(), "alerts"),
        (REVOCATIONS, sample_notices(), "session.revocations"),
    ):
        outcome = store.write_records(spec, records(messages, topic))
        assert outcome.inserted == len(messages), outcome
    yield store
    store.close()


@pytest.fixture(scope="module")
def sample_report(sample_store: AuditStore) -> AssessmentReport:
    """The report of the sample week, with its labels and three dead letters."""
    return build_report(
        lambda sql: sample_store.query(sql, limit=ROW_LIMIT),
        generated_at=GENERATED_AT,
        source="the sample store",
        dead_letters=DEAD_LETTERS,
        human_rate_per_minute=HUMAN_RATE,
        labels=sample_labels(),
    )
