"""`ledger query` and `ledger verify`: read the ClickHouse audit store.

While a worker runs, it owns the embedded store, so both commands ask it over
HTTP (`POST /audit/query`, `POST /audit/verify`) with the reader credential.
When no worker answers, they open the store themselves, read-only.
"""

from __future__ import annotations

import csv
import json
import sys
import urllib.error
import urllib.request
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ledger.credentials import load_credentials
from ledger.settings import LedgerSettings
from projections.errors import AuditError, QueryRefused
from projections.readonly import REPORTS, QueryResult, report
from projections.verify import VerifyReport

FORMATS = ("table", "json", "csv")
_ANY_ADDRESS = ("", "0.0.0.0", "::")


class WorkerAnswered(Exception):
    """The worker answered with an error; `message` is its explanation."""

    def __init__(self, message: str, status: int) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


def query(
    sql: str | None = typer.Argument(None, help="One read-only SQL statement."),
    report_name: str | None = typer.Option(
        None,
        "--report",
        "-r",
        help=f"Run a canned report instead: {', '.join(sorted(REPORTS))}.",
    ),
    output: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    limit: int = typer.Option(10_000, min=1, help="Most rows to return."),
) -> None:
    """Run one read-only statement (or a canned report) on the audit store."""
    if output not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}, not {output!r}", 2)
    if (sql is None) == (report_name is None):
        _fail("give either a SQL statement or --report NAME", 2)
    settings = LedgerSettings()
    try:
        if report_name is not None:
            report(report_name)
            body: dict[str, Any] = {"report": report_name, "limit": limit}
        else:
            body = {"sql": sql, "limit": limit}
        answer = ask_worker(settings, "/audit/query", body)
        if answer is not None:
            result = QueryResult.from_dict(answer)
        else:
            statement = report(report_name).sql if report_name else str(sql)
            result = _locally(
                settings, lambda store: store.query(statement, limit=limit)
            )
    except QueryRefused as error:
        _fail(str(error), 2)
    except WorkerAnswered as error:
        _fail(error.message, 2 if error.status in (400, 422) else 1)
    except AuditError as error:
        _fail(str(error), 1)
    _print_result(result, output)
    if result.truncated:
        typer.secho(
            f"(only the first {limit} rows; raise --limit for more)",
            err=True,
            fg="yellow",
        )


def verify(
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
) -> None:
    """Recompute the hash chains of the audit store; exit 1 if any row was tampered."""
    settings = LedgerSettings()
    try:
        answer = ask_worker(settings, "/audit/verify", {}, timeout=3600.0)
        if answer is not None:
            verdict = VerifyReport.from_dict(answer)
        else:
            verdict = _locally(settings, lambda store: store.verify())
    except WorkerAnswered as error:
        _fail(error.message, 1)
    except AuditError as error:
        _fail(str(error), 1)
    if as_json:
        typer.echo(json.dumps(verdict.as_dict(), indent=2))
    else:
        _print_verdict(verdict)
    if not verdict.ok:
        raise typer.Exit(1)


def _locally(settings: LedgerSettings, read: Any) -> Any:
    # The embedded store pulls in chDB and the worker: imported only when asked.
    from projections.store import AuditStore

    store = AuditStore(settings)
    try:
        return read(store)
    finally:
        store.close()


def ask_worker(
    settings: LedgerSettings, path: str, body: dict[str, Any], timeout: float = 300.0
) -> dict[str, Any] | None:
    """The worker's JSON answer, or None when no worker serves the audit pages."""
    host = "127.0.0.1" if settings.web_host in _ANY_ADDRESS else settings.web_host
    token = load_credentials(settings, create=False).reader
    request = urllib.request.Request(
        f"http://{host}:{settings.web_port}{path}",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        try:
            message = json.loads(error.read()).get("error", error.reason)
        except ValueError:
            message = error.reason
        raise WorkerAnswered(
            f"the worker at {host}:{settings.web_port} answered {error.code}: "
            f"{message}",
            error.code,
        ) from error
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _print_result(result: QueryResult, output: str) -> None:
    if output == "json":
        records = [dict(zip(result.columns, row, strict=False)) for row in result.rows]
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
    elif output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([_cell(value) for value in row] for row in result.rows)
    else:
        table = Table(*result.columns, show_lines=False)
        for row in result.rows:
            table.add_row(*(_cell(value) for value in row))
        Console(soft_wrap=True).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _print_verdict(verdict: VerifyReport) -> None:
    if not verdict.partitions:
        typer.echo("auth_events is empty: nothing to verify")
        return
    for part in verdict.partitions:
        where = f"{part.topic}[{part.partition}]"
        span = f"{part.rows} rows, offsets {part.first_offset}-{part.last_offset}"
        if part.ok:
            start = "" if part.starts_at_genesis else ", starts mid-way (retention?)"
            head = (part.head_hash or "")[:16]
            typer.secho(f"{where}: ok ({span}{start}, head {head}…)", fg="green")
        else:
            finding = part.first_problem
            assert finding is not None
            typer.secho(
                f"{where}: {finding.problem.upper()} at offset {finding.offset}: "
                f"{finding.detail} ({part.problems} problem(s) in {span})",
                fg="red",
            )
    state = "intact" if verdict.ok else "TAMPERED"
    typer.echo(f"{verdict.rows} rows in {len(verdict.partitions)} chains: {state}")


def _fail(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)
