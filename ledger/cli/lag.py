"""`ledger lag`: how far the worker trails the ledger topics."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from ledger.errors import LedgerError
from ledger.kafka.lag import PartitionLag, group_lag, wait_until_drained
from ledger.settings import LedgerSettings


def lag(
    wait: bool = typer.Option(
        False, "--wait", help="Block until the worker has caught up, then report."
    ),
    timeout: float = typer.Option(
        900.0, help="With --wait: give up (exit 1) after this many seconds."
    ),
    group: str | None = typer.Option(
        None, help="Consumer group; defaults to the worker's app id."
    ),
) -> None:
    """Show the worker's consumer lag on auth.events and session.commands."""
    settings = LedgerSettings()
    group_id = group or settings.app_id
    topics = [settings.topic_events, settings.topic_commands]
    console = Console()
    try:
        if wait:
            with console.status(f"waiting for {group_id} to catch up"):
                lags = asyncio.run(
                    wait_until_drained(
                        settings.bootstrap_servers, group_id, topics, timeout=timeout
                    )
                )
        else:
            lags = asyncio.run(group_lag(settings.bootstrap_servers, group_id, topics))
    except LedgerError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(1) from error
    console.print(_lag_table(group_id, lags))


def _lag_table(group: str, lags: list[PartitionLag]) -> Table:
    table = Table(title=f"consumer lag of {group}")
    for column in ("topic", "partition", "end offset", "committed", "lag"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for entry in lags:
        committed = "-" if entry.committed is None else str(entry.committed)
        table.add_row(
            entry.topic,
            str(entry.partition),
            str(entry.end_offset),
            committed,
            str(entry.lag),
        )
    total = sum(entry.lag for entry in lags)
    table.caption = f"{total} records behind in all"
    return table
