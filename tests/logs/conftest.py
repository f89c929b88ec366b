"""Fixtures of the ingest tests: the real sample logs, and one-record files."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from ledger.logs.ingest import Outcome, ingest_file
from ledger.logs.mapping import IngestOptions

REALDATA_ENV = "LEDGER_REALDATA_DIR"
# CI clones the repository beside a copy of shared/: <repo>/../shared/realdata.
DEFAULT_REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The directory of real sample logs, read in place."""
    root = Path(os.environ.get(REALDATA_ENV) or DEFAULT_REALDATA).resolve()
    if not (root / "SOURCES.md").is_file():
        pytest.fail(
            f"no sample logs at {root}: the ingest tests read shared/realdata beside "
            f"the repository, or the directory named by {REALDATA_ENV}",
            pytrace=False,
        )
    return root


MapRecords = Callable[..., list[Outcome]]


@pytest.fixture
def map_records(tmp_path: Path) -> MapRecords:
    """Write records to a file (JSON lines, or text lines) and ingest it."""

    def ingest(
        log_format: str,
        records: Sequence[dict | str],
        *,
        options: IngestOptions | None = None,
        name: str = "records.log",
    ) -> list[Outcome]:
        path = tmp_path / name
        lines = [
            record if isinstance(record, str) else json.dumps(record)
            for record in records
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return list(ingest_file(path, log_format, options or IngestOptions()))

    return ingest
