"""The session projection with the revocation engine: `python revocation_app.py`.

Configured from `LEDGER_*` variables like `ledger worker`. It creates the ledger's
topics and serves the projection, its clock, health, the session endpoints and
the revocation engine, and nothing else (no monitors that might revoke too).
"""

from __future__ import annotations

import asyncio

import faust

from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.topics import ledger_topics
from ledger.worker import build_worker, clock, projection, revocation, sessions_api, web


def main() -> None:
    """Create the topics, then run the worker until SIGTERM."""
    settings = LedgerSettings()
    asyncio.run(ensure_topics(settings.bootstrap_servers, ledger_topics(settings)))
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    components = [
        projection.install,
        clock.install,
        web.install,
        sessions_api.install,
        revocation.install,
    ]
    worker = build_worker(settings, components)
    faust.Worker(worker.app, loglevel="info").execute_from_commandline()


if __name__ == "__main__":
    main()
