"""`ledger worker`: run the stream processors and the web endpoints."""

from __future__ import annotations

import asyncio
import logging

import typer

from ledger.errors import LedgerError
from ledger.settings import LedgerSettings

logger = logging.getLogger(__name__)


def run_worker(
    log_level: str = typer.Option("info", help="Worker log level."),
) -> None:
    """Run the ledger worker until interrupted (SIGINT or SIGTERM)."""
    # Faust, river and chDB take seconds to import; every other command skips them.
    import faust

    from ledger.kafka.admin import ensure_topics
    from ledger.topics import ledger_topics
    from ledger.worker import build_worker
    from ledger.worker.app import changelog_topics
    from monitors.worker import monitor_topics

    settings = LedgerSettings()
    # Faust creates its data dir without parents; a fresh data dir has none yet.
    (settings.data_dir / "worker").mkdir(parents=True, exist_ok=True)
    worker = build_worker(settings)
    try:
        topics = [
            *ledger_topics(settings),
            *monitor_topics(settings),
            *changelog_topics(worker),
        ]
        warnings = asyncio.run(ensure_topics(settings.bootstrap_servers, topics))
    except LedgerError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(1) from error
    for warning in warnings:
        typer.secho(f"warning: {warning}", fg="yellow", err=True)
    logger.info(
        "worker %s starting on %s with %s",
        settings.app_id,
        settings.bootstrap_servers,
        ", ".join(worker.components),
    )
    runner = faust.Worker(worker.app, loglevel=log_level)
    # Faust's terminal spinner, on at WARNING and above, sets the root logger to
    # DEBUG so that it can spin on every record: every library's debug call then
    # builds a record, about 5 % of the worker's CPU time under load.
    runner.spinner = None
    runner.execute_from_commandline()
