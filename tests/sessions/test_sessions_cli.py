"""`ledger sessions show|list` against the real worker of the story."""

from __future__ import annotations

import json

import pytest
from kafka_fixtures import free_port
from session_worker import READER_TOKEN
from story import JOB, STALLED
from typer.testing import CliRunner

from ledger.cli import app


def run(url: str, *args: str):
    env = {
        "LEDGER_WORKER_URL": url,
        "LEDGER_READER_TOKEN": READER_TOKEN,
        "COLUMNS": "200",
    }
    return CliRunner().invoke(app, ["sessions", *args], env=env)


@pytest.mark.broker
def test_cli_show_prints_status_reason_and_deadlines(story_run) -> None:
    result = run(story_run.live.url, "show", JOB)

    assert result.exit_code == 0, result.output
    assert "completed" in result.output
    assert "heartbeat deadline" in result.output


@pytest.mark.broker
def test_cli_show_json_is_the_api_answer(story_run) -> None:
    result = run(story_run.live.url, "show", STALLED, "--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["session"]["status_reason"] == "heartbeat"
    assert body["validity"]["active"] is False


@pytest.mark.broker
def test_cli_list_filters_and_prints_table(story_run) -> None:
    result = run(
        story_run.live.url, "list", "--category", "agent", "--status", "expired"
    )

    assert result.exit_code == 0, result.output
    assert STALLED in result.output
    assert JOB not in result.output


@pytest.mark.broker
def test_cli_show_unknown_session_exits_1(story_run) -> None:
    result = run(story_run.live.url, "show", "never-seen")

    assert result.exit_code == 1
    assert "unknown to the ledger" in result.output


def test_cli_without_worker_exits_1_naming_the_address() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = run(url, "list")

    assert result.exit_code == 1
    assert f"no worker answers at {url}" in result.output
