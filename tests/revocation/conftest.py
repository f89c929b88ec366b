"""One revocation worker for the package, with every session of the story started.

Starting a worker costs 10-30 s on a busy machine, so the tests share it and
each acts on its own sessions (see `revocation_story`). It publishes notices in
both formats, so that one run checks the ledger's and the CAEP shape.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from revocation_story import SESSIONS, opening, story_start
from revocation_worker import RevocationWorker, produce, start_revocation_worker
from sessions.session_worker import worker_env


@dataclass
class Story:
    """The shared worker and the time its story started."""

    worker: RevocationWorker
    t0: datetime

    def produce(self, events) -> None:
        env = self.worker.env
        asyncio.run(
            produce(env["LEDGER_KAFKA_BOOTSTRAP"], env["LEDGER_TOPIC_EVENTS"], events)
        )


def patient_policy(workdir: Path) -> Path:
    """A policy whose users idle for a day, so that no test outlives a user
    session it expects active."""
    path = workdir / "policy.yaml"
    path.write_text("user:\n  lifecycle:\n    idle_timeout: 86400\n")
    return path


@pytest.fixture(scope="package")
def story(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    """The revocation worker with every session of the story active."""
    workdir = tmp_path_factory.mktemp("revocation")
    names = f"revocation-{uuid.uuid4().hex[:10]}"
    env = worker_env(
        kafka_bootstrap,
        names,
        LEDGER_APP_ID=names,
        LEDGER_POLICY_FILE=str(patient_policy(workdir)),
        LEDGER_REVOCATION_NOTICE_FORMAT="both",
        LEDGER_REVOCATION_CAEP_ISSUER="urn:test-ledger",
    )
    worker = start_revocation_worker(env, workdir, "worker")
    try:
        t0 = story_start()
        shared = Story(worker, t0)
        shared.produce(opening(t0))
        worker.wait_for_status(SESSIONS, "active")
        yield shared
    finally:
        worker.stop()
