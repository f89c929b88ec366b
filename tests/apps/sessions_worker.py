"""The session projection alone, for broker tests: `python sessions_worker.py`.

Configured from `LEDGER_*` variables like `ledger worker`. It creates the ledger's
topics and serves only the projection, its clock, health and session endpoints,
so that the tests measure those and nothing else.
"""

from __future__ import annotations

import asyncio

import faust

from ledger.kafka.admin import ensure_topics
from ledger.settings import LedgerSettings
from ledger.topics import ledger_topics
from ledger.worker import build_worker, clock, projection, sessions_api, web


def main() -> None:
    """Create the topics, then run the worker until SIGTERM."""
    settings = LedgerSettings()
    asyncio.run(ensure_topics(settings.bootstrap_servers, ledger_topics(settings)))
    # Faust creates its data dir without parents.
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    worker = build_worker(
        settings, [projection.install, clock.install, web.install, sessions_api.install]
    )
    faust.Worker(worker.app, loglevel="info").execute_from_commandline()


if __name__ == "__main__":
    main()
