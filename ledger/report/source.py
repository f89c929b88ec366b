"""Where the report's statements run: the worker while one runs, else the store.

The same mechanism as `ledger query`: a running worker owns the embedded store,
so statements go to its `POST /audit/query` with the reader credential; when no
worker serves the audit pages, the store is opened here, read-only. The first
statement decides, and every later one goes the same way.
"""

from __future__ import annotations

from types import TracebackType

from ledger.cli.audit import WorkerAnswered, ask_worker
from ledger.report.model import ROW_LIMIT
from ledger.settings import LedgerSettings
from projections.clickhouse.connection import describe
from projections.errors import AuditError
from projections.readonly import QueryResult
from projections.store import AuditStore


class AuditSource:
    """Runs report statements through the worker or on the store; a context manager.

    Errors are `AuditError`s: a refusal by the worker becomes one with its message.
    """

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self._store: AuditStore | None = None
        self._through_worker: bool | None = None

    @property
    def description(self) -> str:
        """Where the answers come from, for the report's header."""
        if self._through_worker:
            return f"the worker at {self.settings.web_host}:{self.settings.web_port}"
        return f"the audit store {describe(self.settings.clickhouse_dsn)}"

    def __call__(self, sql: str) -> QueryResult:
        if self._through_worker is not False:
            try:
                answer = ask_worker(
                    self.settings, "/audit/query", {"sql": sql, "limit": ROW_LIMIT}
                )
            except WorkerAnswered as error:
                raise AuditError(error.message) from error
            if answer is not None:
                self._through_worker = True
                return QueryResult.from_dict(answer)
            if self._through_worker:
                raise AuditError(
                    "the worker stopped answering while the report was being "
                    "computed; run `ledger report` again"
                )
            self._through_worker = False
        if self._store is None:
            self._store = AuditStore(self.settings)
        return self._store.query(sql, limit=ROW_LIMIT)

    def close(self) -> None:
        """Close the store if it was opened here."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> AuditSource:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
