"""`ledger sessions show|list`: sessions as a worker's projection holds them.

Both ask the worker's HTTP API (`LEDGER_WORKER_URL`, else the configured web host
and port) with the reader credential. `list` shows the sessions of the worker
asked; with several workers, ask each, since each serves its own partitions.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ledger.credentials import load_credentials
from ledger.settings import LedgerSettings
from schemas import SessionCategory, SessionStatus

app = typer.Typer(
    help="Show and list sessions: status, deadlines, violations.",
    no_args_is_help=True,
)

_STATUS_STYLE = {
    "active": "green",
    "ended": "cyan",
    "expired": "yellow",
    "revoked": "red",
}


@app.command()
def show(
    session_id: str = typer.Argument(..., help="The session id."),
    as_json: bool = typer.Option(False, "--json", help="Print the raw JSON answer."),
) -> None:
    """One session: its validity now, grant, deadlines, children and violations."""
    settings = LedgerSettings()
    path = f"/sessions/{urllib.parse.quote(session_id, safe='')}/state"
    status, body = _get(settings, path)
    if status == 404:
        _fail(f"session {session_id!r} is unknown to the ledger", 1)
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    _print_session(body["session"], body["validity"])


@app.command("list")
def list_sessions(
    category: SessionCategory | None = typer.Option(None, help="user, agent, hybrid."),
    status: SessionStatus | None = typer.Option(
        None, help="active, ended, expired, revoked."
    ),
    principal: str | None = typer.Option(None, help="A principal id."),
    limit: int = typer.Option(100, min=1, help="Most sessions to show."),
    as_json: bool = typer.Option(False, "--json", help="Print the raw JSON answer."),
) -> None:
    """Sessions on the worker's partitions, newest start first."""
    settings = LedgerSettings()
    query: dict[str, str] = {"limit": str(limit)}
    if category is not None:
        query["category"] = category.value
    if status is not None:
        query["status"] = status.value
    if principal is not None:
        query["principal"] = principal
    _, body = _get(settings, f"/sessions?{urllib.parse.urlencode(query)}")
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    _print_list(body)


def _get(settings: LedgerSettings, path: str) -> tuple[int, dict[str, Any]]:
    """The worker's status and JSON answer; exits with a reason on failure."""
    url = settings.worker_base_url + path
    token = load_credentials(settings, create=False).reader
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        if error.code == 404:
            return 404, json.loads(raw or b"{}")
        if error.code in (401, 403):
            _fail(
                f"the worker at {settings.worker_base_url} refused the reader "
                "credential; set LEDGER_READER_TOKEN, or LEDGER_DATA_DIR to the "
                "worker's data dir (credentials.json)",
                1,
            )
        _fail(
            f"the worker at {settings.worker_base_url} answered {error.code}: "
            f"{_explanation(raw, error.reason)}",
            1,
        )
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        _fail(
            f"no worker answers at {settings.worker_base_url} ({reason}); start one "
            "with `ledger worker`, or set LEDGER_WORKER_URL",
            1,
        )


def _explanation(raw: bytes, fallback: str) -> str:
    try:
        return str(json.loads(raw).get("error", fallback))
    except (ValueError, AttributeError):
        return fallback


def _status_text(status: str | None, reason: str | None) -> str:
    style = _STATUS_STYLE.get(status or "", "white")
    text = f"[{style}]{status or 'unknown'}[/{style}]"
    return f"{text} ({reason})" if reason and status != "active" else text


def _print_session(session: dict[str, Any], validity: dict[str, Any]) -> None:
    table = Table(title=f"session {session['session_id']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    valid = "[green]yes[/green]" if validity["active"] else "[red]no[/red]"
    if not validity["active"] and validity.get("reason"):
        valid += f" ({validity['reason']})"
    principal = session["principal"]
    rows = [
        ("valid now", valid),
        ("status", _status_text(session["status"], session.get("status_reason"))),
        ("category", session["category"]),
        ("principal", f"{principal['id']} ({principal['kind']})"),
        ("acts for", _acts_for(session.get("delegation"))),
        ("parent", session.get("parent_session_id")),
        ("children", ", ".join(session.get("children", ()))),
        ("task", session.get("task_id")),
        ("scopes", _scopes(session.get("scopes", ()))),
        ("started", session["started_at"]),
        ("ended", session.get("ended_at")),
        ("last activity", session.get("last_activity_at")),
        ("last heartbeat", _heartbeat(session)),
        ("idle deadline", session.get("idle_deadline")),
        ("absolute deadline", session.get("absolute_deadline")),
        ("heartbeat deadline", session.get("heartbeat_deadline")),
        ("expires at", validity.get("expires_at")),
        ("refresh after", validity.get("refresh_after")),
        ("token refreshes", str(session.get("refresh_count", 0))),
        ("checked at", validity["checked_at"]),
    ]
    for name, value in rows:
        if value:
            table.add_row(name, value)
    console = Console()
    console.print(table)
    violations = session.get("violations", ())
    if violations:
        listed = Table(title="violations")
        for column in ("kind", "at", "detail"):
            listed.add_column(column)
        for violation in violations:
            listed.add_row(
                violation["kind"], violation["at"], violation.get("detail") or ""
            )
        console.print(listed)


def _print_list(body: dict[str, Any]) -> None:
    partitions = ", ".join(str(p) for p in body.get("partitions", ()))
    table = Table(title=f"sessions on partitions {partitions or 'none'}")
    for column in ("session", "category", "principal", "status", "started", "last"):
        table.add_column(column)
    for session in body["sessions"]:
        table.add_row(
            session["session_id"],
            session["category"],
            session["principal"]["id"],
            _status_text(session["status"], session.get("status_reason")),
            session["started_at"],
            session.get("ended_at") or session.get("last_activity_at") or "",
        )
    console = Console()
    console.print(table)
    if body.get("truncated"):
        console.print("[yellow]more sessions match; raise --limit[/yellow]")


def _acts_for(delegation: dict[str, Any] | None) -> str | None:
    if not delegation:
        return None
    actors = " → ".join(actor["id"] for actor in delegation["actors"])
    return (
        f"{delegation['subject']} (session {delegation['subject_session_id']}) "
        f"via {actors}"
    )


def _scopes(scopes: Any) -> str:
    return "\n".join(
        f"{'/'.join(scope['operations'])} on {scope['resource']}" for scope in scopes
    )


def _heartbeat(session: dict[str, Any]) -> str | None:
    last = session.get("last_heartbeat_at")
    if last is None:
        return None
    health = session.get("health")
    return f"{last} ({health})" if health else last


def _fail(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)
