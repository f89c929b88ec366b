"""`ledger revoke` against the shared worker: previews, confirmation, refusals."""

from __future__ import annotations

import pytest
from revocation_story import CLI_SELECTED, CLI_SESSION
from revocation_worker import ADMIN_TOKEN
from typer.testing import CliRunner

from ledger.cli import app

pytestmark = pytest.mark.broker


def run(worker, *args: str, token: str = ADMIN_TOKEN):
    env = {
        "LEDGER_WORKER_URL": worker.url,
        "LEDGER_ADMIN_TOKEN": token,
        "COLUMNS": "200",
    }
    return CliRunner().invoke(app, ["revoke", *args], env=env)


def test_cli_select_without_yes_shows_count_and_sends_nothing(story) -> None:
    worker = story.worker
    commands = worker.topic_size("LEDGER_TOPIC_COMMANDS")

    result = run(worker, "select", "--label", "batch=cli", "--reason", "rotation")

    assert result.exit_code == 0, result.output
    assert "2 active sessions" in result.output
    assert "nothing revoked" in result.output
    assert worker.topic_size("LEDGER_TOPIC_COMMANDS") == commands
    assert all(worker.validity(s)["active"] for s in CLI_SELECTED)


def test_cli_select_with_yes_revokes_the_matching_sessions(story) -> None:
    worker = story.worker

    result = run(
        worker,
        "select",
        "--category",
        "agent",
        "--label",
        "batch=cli",
        "--reason",
        "rotation",
        "--yes",
    )
    worker.wait_for_status(CLI_SELECTED, "revoked")

    assert result.exit_code == 0, result.output
    assert "sent to partitions 0, 1, 2, 3" in result.output


def test_cli_session_without_cascade_revokes_it(story) -> None:
    worker = story.worker

    result = run(worker, "session", CLI_SESSION, "--no-cascade", "--reason", "leak")
    worker.wait_for_status([CLI_SESSION], "revoked")

    assert result.exit_code == 0, result.output
    assert "without cascade" in result.output
    assert worker.record(CLI_SESSION)["revocation"]["cascade"] is False


def test_cli_emergency_without_yes_sends_nothing(story) -> None:
    worker = story.worker
    commands = worker.topic_size("LEDGER_TOPIC_COMMANDS")

    result = run(worker, "emergency", "--reason", "drill")

    assert result.exit_code == 0, result.output
    assert "agent sessions" in result.output and "nothing revoked" in result.output
    assert worker.topic_size("LEDGER_TOPIC_COMMANDS") == commands


def test_cli_refusals_exit_with_reason(story) -> None:
    worker = story.worker

    empty = run(worker, "select", "--reason", "x", "--yes")
    naive = run(
        worker, "select", "--started-before", "2025-01-01T00:00", "--reason", "x"
    )
    wrong = run(worker, "session", CLI_SESSION, "--reason", "x", token="nope")

    assert empty.exit_code == 2 and "at least one criterion" in empty.output
    assert naive.exit_code == 2 and "time zone" in naive.output
    assert wrong.exit_code == 1 and "refused the admin credential" in wrong.output
