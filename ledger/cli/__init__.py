"""The `ledger` command line.

Each command group lives in its own module and is registered here.
"""

from __future__ import annotations

import logging

import typer

from ledger.cli import (
    alerts,
    audit,
    events,
    ingest,
    kafka,
    lag,
    report,
    revoke,
    schemas,
    sessions,
    simulate,
    worker,
)

app = typer.Typer(
    name="ledger",
    help="Event-sourced ledger of authentication sessions.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(kafka.app, name="kafka")
app.add_typer(schemas.app, name="schemas")
app.command("emit")(events.emit)
app.add_typer(events.dlq_app, name="dlq")
app.command("query")(audit.query)
app.command("verify")(audit.verify)
app.command("ingest")(ingest.ingest)
app.add_typer(sessions.app, name="sessions")
app.add_typer(revoke.app, name="revoke")
app.command("worker")(worker.run_worker)
app.command("lag")(lag.lag)
app.add_typer(alerts.app, name="alerts")
app.command("simulate")(simulate.simulate)
app.command("report")(report.report)


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    """Entry point of the `ledger` console script."""
    app()
