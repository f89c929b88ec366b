"""One real ledger worker for the append-path tests, on topics of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from running_ledger import RunningLedger, start_ledger


@pytest.fixture(scope="package")
def running_ledger(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningLedger]:
    """A `ledger worker` subprocess on topics of its own, shared by this package."""
    ledger = start_ledger(kafka_bootstrap, tmp_path_factory.mktemp("ledger"))
    try:
        yield ledger
    finally:
        if ledger.process.alive():
            # A full worker may wait up to a minute for a pending audit batch.
            ledger.process.stop(timeout=30)
        else:
            ledger.process.kill()
