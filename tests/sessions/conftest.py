"""One story, told to a live worker that restarts at hour 6, then to a replay.

Starting a worker costs 10-20 s here, so the package shares three: the live
worker before and after its restart, and a replay worker with a new app id.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka_fixtures import wait_for
from session_worker import SessionWorker, read_topic, start_worker, worker_env
from story import (
    JOB,
    LAST_MINUTE,
    LEAF,
    LONG_USER,
    RESTART_MINUTE,
    iso,
    play,
)

from schemas import parse_event


@dataclass
class StoryRun:
    """What the live worker did with the story, observed from outside."""

    env: dict[str, str]
    workdir: Path
    live: SessionWorker
    before_stop: dict[str, Any]
    after_restart: dict[str, Any]
    checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    topic: list = field(default_factory=list)

    def appended(self, kind: str, session_id: str) -> list:
        """Events of `kind` for `session_id` on the ledger topic, parsed."""
        found = []
        for record in self.topic:
            if record.headers and any(
                name == "ledger-control" for name, _ in record.headers
            ):
                continue
            event = parse_event(record.value, now=None)
            if event.type == kind and event.session_id == session_id:
                found.append(event)
        return found


def _settled(worker: SessionWorker) -> bool:
    """Whether the last decisions of the story have come back through the fold."""
    dump = worker.records()
    if dump is None:
        return False
    status = {
        record["session_id"]: record.get("status", "active")
        for record in dump["records"]
    }
    return (
        status.get(LONG_USER) == "expired"
        and status.get(JOB) == "ended"
        and status.get(LEAF) == "expired"
    )


@pytest.fixture(scope="package")
def story_run(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StoryRun]:
    """The story told to a live worker, stopped with SIGTERM and restarted at hour 6."""
    workdir = tmp_path_factory.mktemp("sessions")
    names = f"sessions-{uuid.uuid4().hex[:10]}"
    env = worker_env(kafka_bootstrap, names, LEDGER_APP_ID=f"{names}-live")
    topic = env["LEDGER_TOPIC_EVENTS"]
    checkpoints: dict[str, dict[str, Any]] = {}

    # Hours 0-6 on the first worker; a mid-task look at hour 5.
    first = start_worker(env, workdir, "live-1")
    try:
        asyncio.run(play(kafka_bootstrap, topic, 0, 300))
        first.wait_for_watermarks(iso(300))
        checkpoints["job at hour 5"] = first.validity(JOB)
        asyncio.run(play(kafka_bootstrap, topic, 301, RESTART_MINUTE))
        first.wait_for_watermarks(iso(RESTART_MINUTE))
        before_stop = first.records()
    finally:
        # SIGTERM right after the tick that expires RESTART_USER was folded.
        first.stop()

    # A fresh data dir: the table can only come back from its changelog.
    live = start_worker(env, workdir, "live-2")
    try:
        after_restart = live.records()
        asyncio.run(play(kafka_bootstrap, topic, RESTART_MINUTE + 1, 540))
        live.wait_for_watermarks(iso(540))
        checkpoints["job at hour 9"] = live.validity(JOB)
        asyncio.run(play(kafka_bootstrap, topic, 541, LAST_MINUTE))
        live.wait_for_watermarks(iso(LAST_MINUTE))
        wait_for(
            lambda: _settled(live),
            120,
            "the story's last expiries folded",
            on_timeout=live.process.log_tail,
        )
        run = StoryRun(
            env=env,
            workdir=workdir,
            live=live,
            before_stop=before_stop or {},
            after_restart=after_restart or {},
            checkpoints=checkpoints,
            topic=asyncio.run(read_topic(kafka_bootstrap, topic)),
        )
        yield run
    finally:
        live.stop()


@pytest.fixture(scope="package")
def replay(story_run: StoryRun) -> Iterator[SessionWorker]:
    """A worker with a new app id that folds the whole topic and appends nothing."""
    env = {
        **story_run.env,
        "LEDGER_APP_ID": story_run.env["LEDGER_APP_ID"] + "-replay",
        "LEDGER_APPEND_DERIVED": "false",
    }
    worker = start_worker(env, story_run.workdir, "replay")
    try:
        yield worker
    finally:
        worker.stop()
