"""`ledger alerts tail`: the security alerts the monitors and the ledger raised."""

from __future__ import annotations

import asyncio
import contextlib

import typer
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from ledger.errors import LedgerError
from ledger.kafka.tail import tail_topic
from ledger.settings import LedgerSettings
from schemas import Alert, serialize

app = typer.Typer(help="Security alerts on the alerts topic.", no_args_is_help=True)

SEVERITY_COLOURS = {
    "info": "white",
    "low": "cyan",
    "medium": "yellow",
    "high": "red",
    "critical": "magenta",
}


@app.command("tail")
def tail(
    from_beginning: bool = typer.Option(
        False, "--from-beginning", help="Start at the oldest alert kept."
    ),
    limit: int = typer.Option(
        20,
        "--limit",
        "-n",
        min=0,
        help="Show at most N alerts (0: no limit). Without --from-beginning, start "
        "N before the end of each partition.",
    ),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep showing new alerts until Ctrl-C."
    ),
    as_json: bool = typer.Option(False, "--json", help="One alert per line, as JSON."),
) -> None:
    """Show alerts: detector, severity, principal, explanation and evidence.

    An alert that merged repeats is published again with the same alert id and a
    larger count, so the same id can appear more than once.
    """
    settings = LedgerSettings()
    show = show_json if as_json else show_alert
    topic = settings.topic_alerts
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                tail_topic(
                    settings.bootstrap_servers,
                    topic,
                    show,
                    from_beginning=from_beginning,
                    limit=limit,
                    follow=follow,
                    on_follow=lambda: typer.echo(
                        f"following {topic}; Ctrl-C stops", err=True
                    ),
                )
            )
    except LedgerError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(1) from error


def read_alert(record: ConsumerRecord) -> Alert | None:
    """The alert a record holds, or None when it holds something else."""
    try:
        return Alert.model_validate_json(record.value or b"")
    except ValidationError:
        return None


def show_alert(record: ConsumerRecord) -> None:
    """Print one alert for people."""
    alert = read_alert(record)
    if alert is None:
        typer.echo(f"{record.partition}@{record.offset}  not an alert")
        return
    severity = typer.style(
        alert.severity.value.upper(),
        fg=SEVERITY_COLOURS.get(alert.severity.value, "white"),
        bold=True,
    )
    lines = [
        f"{alert.last_seen.isoformat()}  {severity}  {alert.detector}  "
        f"{alert.category.value} {alert.principal_id}  "
        f"session {alert.session_id or '-'}  x{alert.count}  score {alert.score:.2f}",
        f"  {alert.explanation}",
    ]
    for evidence in alert.evidence:
        baseline = (
            f" (baseline {evidence.baseline})" if evidence.baseline is not None else ""
        )
        lines.append(f"  - {evidence.feature}: {evidence.value}{baseline}")
    typer.echo("\n".join(lines))


def show_json(record: ConsumerRecord) -> None:
    """Print one alert as a JSON line."""
    alert = read_alert(record)
    if alert is None:
        typer.echo('{"error": "not an alert"}')
        return
    typer.echo(serialize(alert).decode())
