"""`ledger kafka`: run a local single-node Kafka broker for development and tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.markup import escape

from ledger.errors import LedgerError
from ledger.kafka.launcher import BrokerStatus, LocalBroker
from ledger.settings import LedgerSettings

app = typer.Typer(
    help=(
        "A real single-node Apache Kafka broker (KRaft) on 127.0.0.1, for machines "
        "without Docker. Needs Java 17+ and Maven."
    ),
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)


@contextlib.contextmanager
def _reporting_errors() -> Iterator[None]:
    """Turn a LedgerError into one line on stderr and exit code 1."""
    try:
        yield
    except LedgerError as error:
        errors.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error


@app.command()
def up(
    port: int | None = typer.Option(
        None, help="Broker port. Default: 9092 if free, else any free port; 0: any."
    ),
    controller_port: int | None = typer.Option(
        None, help="Controller port. Default: 9093 if free, else any free port."
    ),
    timeout: float = typer.Option(120.0, help="Seconds to wait for the broker."),
) -> None:
    """Start the broker in the background (or report the one already running)."""
    with _reporting_errors():
        broker = LocalBroker(
            LedgerSettings(), port=port, controller_port=controller_port
        )
        with console.status("Starting Kafka broker..."):
            status = broker.up(timeout=timeout)
    _print_status(status)


@app.command()
def down(
    timeout: float = typer.Option(
        60.0, help="Seconds to wait for a clean shutdown before killing the broker."
    ),
) -> None:
    """Stop the broker and wait until its process is gone."""
    with _reporting_errors():
        broker = LocalBroker(LedgerSettings())
        with console.status("Stopping Kafka broker..."):
            stopped = broker.down(timeout=timeout)
    console.print(
        "Kafka broker stopped." if stopped else "No Kafka broker was running."
    )


@app.command()
def status(
    bootstrap: bool = typer.Option(
        False, "--bootstrap", help="Print only the broker address (for scripts)."
    ),
) -> None:
    """Show whether the broker runs and answers. Exit code 1 when none runs."""
    with _reporting_errors():
        current = LocalBroker(LedgerSettings()).status()
    if bootstrap:
        if current.running and current.bootstrap:
            typer.echo(current.bootstrap)
            return
        raise typer.Exit(1)
    _print_status(current)
    if not current.running:
        raise typer.Exit(1)


def _print_status(status: BrokerStatus) -> None:
    if not status.running:
        console.print("Kafka broker: [bold]not running[/]")
        return
    health = "[green]answering[/]" if status.answering else "[red]not answering[/]"
    console.print(
        f"Kafka broker: [bold green]running[/] at [bold]{status.bootstrap}[/] "
        f"(pid {status.pid}, Kafka {status.kafka_version}, since "
        f"{status.started_at}), {health}"
    )
