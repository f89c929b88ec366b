"""A worker with only the audit projection and the health page.

Run it as a subprocess: `python audit_worker.py`. It is configured from `LEDGER_*`
variables like `ledger worker`. Its consumer session times out after 10 s instead
of Faust's 60 s, so that after a SIGKILL the restarted worker does not wait a
minute for the dead member to leave the consumer group.
"""

from __future__ import annotations

import faust

from ledger.settings import LedgerSettings
from ledger.worker import build_worker, web
from projections import audit


def main() -> None:
    settings = LedgerSettings()
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    worker = build_worker(settings, [audit.install, web.install])
    worker.app.conf.broker_session_timeout = 10.0
    worker.app.conf.broker_heartbeat_interval = 1.0
    faust.Worker(worker.app, loglevel="info").execute_from_commandline()


if __name__ == "__main__":
    main()
