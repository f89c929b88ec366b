"""The full ledger worker for broker tests: `python ledger_worker.py`.

Configured from `LEDGER_*` variables exactly like `ledger worker`, which it runs:
it creates the ledger's topics, then serves every default component.
"""

from __future__ import annotations

from ledger.cli.worker import run_worker

if __name__ == "__main__":
    run_worker(log_level="info")
