"""The Faust worker: the ledger's stream processors and its web endpoints.

`build_worker(settings)` makes a Faust app and installs every component on it. The
domain rules the components run live in `ledger.domain` and `monitors`; this package
only wires them to Kafka, Faust tables and HTTP.
"""

from ledger.worker.app import LedgerWorker, build_worker

__all__ = ["LedgerWorker", "build_worker"]
