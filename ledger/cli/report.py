"""`ledger report`: the assessment report, on the terminal and as an HTML page.

Statements go through a running worker's `POST /audit/query` (reader credential)
or, when none answers, to the embedded store opened here: the same mechanism as
`ledger query` (`ledger.cli.audit.ask_worker`). The first statement decides, and
every later one goes the same way. The dead-letter count comes from the broker's
offsets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from ledger.cli.audit import WorkerAnswered, ask_worker
from ledger.errors import LedgerError
from ledger.report.dead_letters import break_down_dead_letters
from ledger.report.html import render_html
from ledger.report.model import ROW_LIMIT, build_report
from ledger.report.terminal import render_terminal
from ledger.settings import LedgerSettings
from monitors.policy import load_monitor_policy
from projections.clickhouse.connection import describe
from projections.errors import AuditError
from projections.readonly import QueryResult

if TYPE_CHECKING:
    from projections.store import AuditStore

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
    with status.status("reading the dead letters…"):
        breakdown = asyncio.run(
            break_down_dead_letters(
                settings.bootstrap_servers, settings.topic_dead_letters
            )
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
                dead_letters=breakdown.held if breakdown is not None else None,
                dead_letter_breakdown=breakdown,
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


class AuditSource:
    """Runs report statements through the worker or on the store; a context manager.

    Errors are `AuditError`s: a refusal by the worker becomes one with its message.
    """

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self._store: AuditStore | None = None
        self._through_worker: bool | None = None

    @property
    def description(self) -> str:
        """Where the answers come from, for the report's header."""
        if self._through_worker:
            return f"the worker at {self.settings.web_host}:{self.settings.web_port}"
        return f"the audit store {describe(self.settings.clickhouse_dsn)}"

    def __call__(self, sql: str) -> QueryResult:
        if self._through_worker is not False:
            try:
                answer = ask_worker(
                    self.settings, "/audit/query", {"sql": sql, "limit": ROW_LIMIT}
                )
            except WorkerAnswered as error:
                raise AuditError(error.message) from error
            if answer is not None:
                self._through_worker = True
                return QueryResult.from_dict(answer)
            if self._through_worker:
                raise AuditError(
                    "the worker stopped answering while the report was being "
                    "computed; run `ledger report` again"
                )
            self._through_worker = False
        if self._store is None:
            from projections.store import AuditStore

            self._store = AuditStore(self.settings)
        return self._store.query(sql, limit=ROW_LIMIT)

    def close(self) -> None:
        """Close the store if it was opened here."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> AuditSource:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
