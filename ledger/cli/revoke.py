"""`ledger revoke session|select|emergency`: revocation commands through a worker.

Each command is sent to `POST /revocations` of a worker (`LEDGER_WORKER_URL`, else
the configured web host and port) with the security-admin credential
(`LEDGER_ADMIN_TOKEN`, else `<data_dir>/credentials.json`). `select` and
`emergency` first ask `POST /revocations/preview` how many active sessions match
and act only with `--yes`. The preview counts the sessions of the worker asked;
with several workers it is a lower bound, while the command itself reaches every
partition.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer

from ledger.credentials import load_credentials
from ledger.settings import LedgerSettings
from schemas import SessionCategory

app = typer.Typer(
    help="Revoke sessions: one with its cascade, by selector, or a whole category.",
    no_args_is_help=True,
)

REASON = typer.Option(..., "--reason", help="Why; kept in the ledger and notices.")


@app.command("session")
def revoke_session(
    session_id: str = typer.Argument(..., help="The session to revoke."),
    cascade: bool = typer.Option(
        True,
        "--cascade/--no-cascade",
        help="Also revoke the sessions started below it (its hybrids always go).",
    ),
    reason: str = REASON,
) -> None:
    """Revoke one session, and by default everything that hangs from it."""
    settings = LedgerSettings()
    command = {
        "type": "revoke.session",
        "session_id": session_id,
        "cascade": cascade,
        "reason": reason,
    }
    body = _post(settings, "/revocations", command)
    below = "with its cascade" if cascade else "without cascade"
    typer.echo(f"revocation {body['command_id']} sent: {session_id} {below}")


@app.command("select")
def revoke_select(
    category: SessionCategory | None = typer.Option(None, help="user, agent, hybrid."),
    agent_type: str | None = typer.Option(None, help="The principal's agent type."),
    role: str | None = typer.Option(None, help="A role the principal holds."),
    principal: str | None = typer.Option(None, help="A principal id."),
    label: list[str] = typer.Option(
        [], "--label", help="key=value the session's labels hold; repeatable."
    ),
    started_before: str | None = typer.Option(
        None, help="ISO 8601 time with zone, e.g. 2025-06-02T08:00:00Z."
    ),
    reason: str = REASON,
    yes: bool = typer.Option(False, "--yes", help="Revoke; without it, only count."),
) -> None:
    """Revoke the active sessions matching every criterion given."""
    settings = LedgerSettings()
    selector: dict[str, Any] = {
        name: value
        for name, value in (
            ("category", category.value if category else None),
            ("agent_type", agent_type),
            ("role", role),
            ("principal_id", principal),
            ("started_before", _aware(started_before)),
        )
        if value is not None
    }
    if label:
        selector["labels"] = _labels(label)
    if not selector:
        _fail(
            "name at least one criterion; to revoke a whole category, use "
            "`ledger revoke emergency`",
            2,
        )
    command = _command({"type": "revoke.selector", "selector": selector}, reason)
    _preview_then_send(settings, command, yes, "match the selector")


@app.command("emergency")
def revoke_emergency(
    category: SessionCategory = typer.Option(
        SessionCategory.AGENT, help="The category cut off: agent by default."
    ),
    reason: str = REASON,
    yes: bool = typer.Option(False, "--yes", help="Revoke; without it, only count."),
) -> None:
    """Revoke every active session of a category and invalidate older ones at once."""
    settings = LedgerSettings()
    command = _command({"type": "revoke.emergency", "category": category.value}, reason)
    _preview_then_send(
        settings,
        command,
        yes,
        f"are {category.value} sessions; every {category.value} session started "
        "until now becomes invalid at once",
    )


def _command(fields: dict[str, Any], reason: str) -> dict[str, Any]:
    # Id and time fixed here, so that the preview and the act are one command.
    return {
        **fields,
        "command_id": str(uuid.uuid4()),
        "issued_at": datetime.now(UTC).isoformat(),
        "reason": reason,
    }


def _preview_then_send(
    settings: LedgerSettings, command: dict[str, Any], yes: bool, what: str
) -> None:
    preview = _post(settings, "/revocations/preview", command)
    partitions = ", ".join(str(p) for p in preview["partitions"]) or "none"
    typer.echo(
        f"{preview['matching']} active sessions on partitions {partitions} of "
        f"{settings.worker_base_url} {what}"
    )
    for category, count in preview["by_category"].items():
        typer.echo(f"  {category}: {count}")
    if preview["sample"]:
        typer.echo(f"  e.g. {', '.join(preview['sample'])}")
    if not yes:
        typer.echo("nothing revoked; run again with --yes to revoke them")
        return
    body = _post(settings, "/revocations", command)
    typer.echo(
        f"revocation {body['command_id']} sent to partitions "
        f"{', '.join(str(p) for p in body['partitions'])}"
    )


def _aware(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as error:
        _fail(f"--started-before {text!r} is not an ISO 8601 time: {error}", 2)
    if at.tzinfo is None:
        _fail(
            f"--started-before {text!r} has no time zone; add one, e.g. "
            f"{text}Z for UTC",
            2,
        )
    return at.isoformat()


def _labels(pairs: list[str]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--label {pair!r} is not key=value", 2)
        labels[key] = value
    return labels


def _post(settings: LedgerSettings, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The worker's JSON answer to a POST; exits with the reason on failure."""
    url = settings.worker_base_url + path
    token = load_credentials(settings, create=False).admin
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        if error.code in (401, 403):
            _fail(
                f"the worker at {settings.worker_base_url} refused the admin "
                "credential; set LEDGER_ADMIN_TOKEN, or LEDGER_DATA_DIR to the "
                "worker's data dir (credentials.json); nothing revoked",
                1,
            )
        _fail(
            f"the worker at {settings.worker_base_url} answered {error.code}: "
            f"{_explanation(raw, error.reason)}; nothing revoked",
            1,
        )
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        _fail(
            f"no worker answers at {settings.worker_base_url} ({reason}); start one "
            "with `ledger worker`, or set LEDGER_WORKER_URL; nothing revoked",
            1,
        )


def _explanation(raw: bytes, fallback: str) -> str:
    try:
        return str(json.loads(raw).get("error", fallback))
    except (ValueError, AttributeError):
        return fallback


def _fail(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)
