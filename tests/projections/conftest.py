"""Fixtures of the audit projection tests: a real chDB store in a temporary dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka_fixtures import free_port

from ledger.settings import LedgerSettings
from projections.store import AuditStore


@pytest.fixture
def audit_settings(tmp_path: Path) -> LedgerSettings:
    """Settings with a fresh embedded store and no worker listening on the web port."""
    return LedgerSettings(
        data_dir=tmp_path / "data",
        clickhouse_url=f"chdb://{tmp_path / 'clickhouse'}",
        web_port=free_port(),
        reader_token="test-reader-token",
    )


@pytest.fixture
def store(audit_settings: LedgerSettings) -> Iterator[AuditStore]:
    """An audit store with its migrations applied; closed after the test.

    chDB hosts one engine per process, so every client on the path is closed
    before the next test opens its own path.
    """
    opened = AuditStore(audit_settings)
    opened.open_writer()
    yield opened
    opened.close()
