"""`ledger report`: the assessment report, on the terminal and as an HTML page.

Statements go through a running worker's `POST /audit/query` (reader credential)
or, when none answers, to the embedded store opened here: the same way as
`ledger query`. The dead-letter count comes from the broker's offsets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from ledger.errors import LedgerError
from ledger.report.dead_letters import count_dead_letters
from ledger.report.html import render_html
from ledger.report.model import build_report
from ledger.report.source import AuditSource
from ledger.report.terminal import render_terminal
from ledger.settings import LedgerSettings
from monitors.policy import load_monitor_policy

logger = logging.getLogger(__name__)


def report(
    labels: Path | None = typer.Option(
        None,
        "--labels",
        help="The simulator's ground truth (`ledger simulate --labels FILE`): list "
        "every labelled incident as caught or missed.",
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write the report as one self-contained HTML page."
    ),
) -> None:
    """Report what the ledger found: activity, alerts, lifetimes, revocations."""
    settings = LedgerSettings()
    truth = _read_labels(labels) if labels is not None else None
    try:
        human_rate = load_monitor_policy(settings.policy_file).user
    except LedgerError as error:
        _fail(str(error), 2)
    status = Console(stderr=True)
    with status.status("counting dead letters…"):
        dead_letters = asyncio.run(
            count_dead_letters(settings.bootstrap_servers, settings.topic_dead_letters)
        )
    try:
        with (
            status.status("computing the report from the audit store…"),
            AuditSource(settings) as source,
        ):
            built = build_report(
                source,
                generated_at=datetime.now(UTC),
                source="",
                dead_letters=dead_letters,
                human_rate_per_minute=human_rate.max_events_per_minute,
                labels=truth,
            )
            # Worker or store: known once the first statement has chosen.
            built = replace(built, source=source.description)
    except ValueError as error:
        _fail(f"--labels {labels}: {error}", 2)
    except LedgerError as error:
        _fail(str(error), 1)
    render_terminal(built, Console(soft_wrap=False))
    if html is not None:
        try:
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(render_html(built), encoding="utf-8")
        except OSError as error:
            _fail(f"cannot write the HTML report to {html}: {error.strerror}", 1)
        typer.echo(f"HTML report written to {html}")


def _read_labels(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        _fail(f"--labels {path} cannot be read: {error.strerror}", 2)
    except ValueError as error:
        _fail(f"--labels {path} is not JSON: {error}", 2)
    if not isinstance(document, dict):
        _fail(f"--labels {path} is not a labels object from `ledger simulate`", 2)
    return document


def _fail(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)
