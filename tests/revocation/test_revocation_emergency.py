"""An emergency revocation of agents, on a worker of its own: users stay, the
floor cuts off late-folded agents at once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from kafka_fixtures import wait_for
from revocation_story import ALICE, BOB, DOC_BOT, PARTITIONS, hybrid, started
from revocation_worker import (
    ADMIN_TOKEN,
    Story,
    revocation_env,
    start_revocation_worker,
)
from typer.testing import CliRunner

from ledger.cli import app

pytestmark = pytest.mark.broker

AGENTS = [f"fleet-agent-{n}" for n in range(12)]
USERS = [f"staff-user-{n}" for n in range(4)]
AGENT_UNDER_USER = "agent-under-user"
USER_UNDER_AGENT = "user-under-agent"
COPILOT = "copilot-for-staff"
LATE_AGENT, NEW_AGENT = "agent-folded-late", "agent-started-after"
AFTER_RESTART = "agent-folded-after-restart"
# Revoked by the same emergency, by later tests.
LATE_FOLDED = {LATE_AGENT, AFTER_RESTART}


def _opening(t0: datetime) -> list:
    at = t0 + timedelta(minutes=1)
    return [
        *(started(s, at, DOC_BOT) for s in AGENTS),
        *(started(s, at, ALICE) for s in USERS),
        started(AGENT_UNDER_USER, at, DOC_BOT, parent_session_id=USERS[1]),
        started(USER_UNDER_AGENT, at, BOB, parent_session_id=AGENTS[0]),
        hybrid(COPILOT, USERS[0], ALICE, at),
    ]


@pytest.fixture(scope="module")
def emergency(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    """A worker whose agents were all revoked by `ledger revoke emergency --yes`."""
    workdir = tmp_path_factory.mktemp("emergency")
    env = revocation_env(kafka_bootstrap, workdir, "emergency")
    worker = start_revocation_worker(env, workdir, "worker")
    story = Story(worker, datetime.now(UTC) - timedelta(minutes=10))
    try:
        opening = _opening(story.t0)
        story.produce(opening)
        worker.wait_for_status([event.session_id for event in opening], "active")

        result = CliRunner().invoke(
            app,
            ["revoke", "emergency", "--reason", "agent platform breached", "--yes"],
            env={"LEDGER_WORKER_URL": worker.url, "LEDGER_ADMIN_TOKEN": ADMIN_TOKEN},
        )
        assert result.exit_code == 0, result.output
        assert f"{len(AGENTS) + 1} active sessions" in result.output
        wait_for(
            lambda: worker.engine()["commands"].get("revoke.emergency") == PARTITIONS,
            120,
            "the emergency handled on every partition",
            on_timeout=worker.process.log_tail,
        )
        worker.wait_for_status([*AGENTS, AGENT_UNDER_USER], "revoked")
        yield story
    finally:
        # The restart test swaps in a worker of its own.
        story.worker.stop()


def test_emergency_of_agents_revokes_every_agent_and_no_user(emergency) -> None:
    worker = emergency.worker

    revoked = [
        e
        for e in worker.ledger_events("session.revoked")
        if e.session_id not in LATE_FOLDED
    ]

    assert sorted(e.session_id for e in revoked) == sorted([*AGENTS, AGENT_UNDER_USER])
    assert {e.cause for e in revoked} == {"emergency"}
    for session in (*USERS, USER_UNDER_AGENT, COPILOT):
        assert worker.validity(session)["active"] is True, session


def test_emergency_notices_are_one_per_agent_in_ledger_format(emergency) -> None:
    worker = emergency.worker

    records = [
        record
        for record in worker.topic("LEDGER_TOPIC_REVOCATIONS")
        if record.key.decode() not in LATE_FOLDED
    ]

    counted = Counter(record.key.decode() for record in records)
    assert counted == Counter({s: 1 for s in [*AGENTS, AGENT_UNDER_USER]})
    assert {dict(r.headers)["ledger-notice-format"] for r in records} == {b"ledger"}


def test_floor_cuts_off_agent_folded_after_the_sweep(emergency) -> None:
    worker = emergency.worker
    floor = datetime.fromisoformat(worker.engine()["floors"]["agent"])
    answers: list[dict] = []

    def revoked() -> bool:
        answers.append(worker.validity(LATE_AGENT))
        return worker.status_of(LATE_AGENT) == "revoked"

    emergency.produce(
        [
            started(LATE_AGENT, emergency.t0 + timedelta(minutes=2), DOC_BOT),
            started(NEW_AGENT, datetime.now(UTC), DOC_BOT),
        ]
    )
    wait_for(revoked, 120, f"{LATE_AGENT} revoked", interval=0.05)
    worker.wait_for_status([NEW_AGENT], "active")

    assert emergency.t0 < floor <= datetime.now(UTC)
    known = [answer for answer in answers if "status" in answer]
    assert known and not any(answer["active"] for answer in known)
    assert worker.record(LATE_AGENT)["revocation"]["cause"] == "emergency"
    assert worker.validity(NEW_AGENT)["active"] is True


def test_restarted_worker_recovers_floor_and_revokes_late_agent(
    emergency, tmp_path
) -> None:
    floors = emergency.worker.engine()["floors"]
    emergency.worker.stop()

    # A fresh data dir: the floor can only come back from the changelog.
    emergency.worker = start_revocation_worker(
        emergency.worker.env, tmp_path, "restarted"
    )
    emergency.produce(
        [started(AFTER_RESTART, emergency.t0 + timedelta(minutes=3), DOC_BOT)]
    )
    emergency.worker.wait_for_status([AFTER_RESTART], "revoked")

    assert emergency.worker.engine()["floors"] == floors
    assert emergency.worker.validity(AGENTS[0])["active"] is False
    assert emergency.worker.validity(USERS[0])["active"] is True
