"""Errors of the audit projection.

LedgerError
 +-- AuditError                the audit projection could not do what was asked
      +-- StoreUnavailable     ClickHouse cannot be reached or opened; try again later
      |    +-- StoreBusy       the embedded store is held by another process
      +-- MigrationError        a migration could not be applied
      +-- QueryRefused         an analyst statement that is not a single read
"""

from __future__ import annotations

from ledger.errors import LedgerError


class AuditError(LedgerError):
    """The audit projection could not do what was asked."""


class StoreUnavailable(AuditError):
    """ClickHouse cannot be reached or opened; the same call may work later."""


class StoreBusy(StoreUnavailable):
    """The embedded (chDB) store is held by another process, such as a worker."""


class MigrationError(AuditError):
    """A migration could not be applied; names the migration and the statement."""


class QueryRefused(AuditError):
    """An analyst statement refused before it ran; `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"query refused: {reason}")
