"""One revocation worker for the package, with every session of the story started.

Starting a worker costs 10-30 s on a busy machine, so the tests share it and
each acts on its own sessions (see `revocation_story`). It publishes notices in
both formats, so that one run checks the ledger's and the CAEP shape.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from revocation_story import SESSIONS, opening, story_start
from revocation_worker import Story, revocation_env, start_revocation_worker


@pytest.fixture(scope="package")
def story(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    """The revocation worker with every session of the story active."""
    workdir = tmp_path_factory.mktemp("revocation")
    env = revocation_env(
        kafka_bootstrap,
        workdir,
        "revocation",
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
