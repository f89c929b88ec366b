"""A full `ledger worker` subprocess for the metrics tests, and scraping it."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from kafka_fixtures import WorkerProcess, free_port, wait_for
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from ledger.settings import LedgerSettings

LEDGER_WORKER = Path(__file__).parent.parent / "apps" / "ledger_worker.py"
PARTITIONS = 4
METRICS_TOKEN = "metrics-test-token"


@dataclass
class MetricsWorker:
    """A worker on topics of its own, with /metrics behind a token."""

    settings: LedgerSettings
    variables: dict[str, str]
    process: WorkerProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}"

    def get(self, path: str, token: str | None) -> tuple[int, str, str]:
        """Status, content type and body of a GET."""
        request = urllib.request.Request(f"{self.url}{path}")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return (
                    reply.status,
                    reply.headers["Content-Type"],
                    reply.read().decode(),
                )
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read().decode()
        except OSError:
            return 0, "", ""

    def scrape(self) -> dict[str, Metric]:
        """The metric families of /metrics, by name."""
        status, _, body = self.get("/metrics", METRICS_TOKEN)
        assert status == 200, f"/metrics answered {status}: {body[:500]}"
        return {family.name: family for family in text_string_to_metric_families(body)}


def start_metrics_worker(bootstrap: str, workdir: Path) -> MetricsWorker:
    """Start a worker with every default component; return once /health is 200."""
    suffix = uuid.uuid4().hex[:10]
    variables = {
        "LEDGER_KAFKA_BOOTSTRAP": bootstrap,
        "LEDGER_DATA_DIR": str(workdir),
        "LEDGER_APP_ID": f"ledger-metrics-{suffix}",
        "LEDGER_PARTITIONS": str(PARTITIONS),
        "LEDGER_TOPIC_EVENTS": f"metrics-{suffix}.auth.events",
        "LEDGER_TOPIC_DEAD_LETTERS": f"metrics-{suffix}.auth.events.dlq",
        "LEDGER_TOPIC_COMMANDS": f"metrics-{suffix}.session.commands",
        "LEDGER_TOPIC_REVOCATIONS": f"metrics-{suffix}.session.revocations",
        "LEDGER_TOPIC_ALERTS": f"metrics-{suffix}.alerts",
        "LEDGER_WEB_PORT": str(free_port()),
        "LEDGER_METRICS_TOKEN": METRICS_TOKEN,
        # Event time only: no wall-clock tick expires the test's sessions.
        "LEDGER_WALL_CLOCK_TICKS": "false",
    }
    return run_worker(variables, workdir)


def restart_metrics_worker(worker: MetricsWorker) -> MetricsWorker:
    """Stop the worker and start it again on the same topics, state and port."""
    assert worker.process.stop(timeout=120) == 0, worker.process.log_tail()
    return run_worker(worker.variables, worker.settings.data_dir)


def run_worker(variables: dict[str, str], workdir: Path) -> MetricsWorker:
    """Run the worker with these variables; return once /health is 200."""
    settings = LedgerSettings(
        **{
            name.removeprefix("LEDGER_").lower(): value
            for name, value in variables.items()
        }
    )
    process = WorkerProcess(
        [sys.executable, str(LEDGER_WORKER)],
        {**os.environ, **variables},
        workdir / "worker.log",
    )
    worker = MetricsWorker(settings, variables, process)
    wait_for(
        lambda: not process.alive() or worker.get("/health", None)[0] == 200,
        300,
        "ledger worker /health 200",
        interval=1.0,
        on_timeout=process.log_tail,
    )
    assert process.alive(), f"the worker exited:\n{process.log_tail()}"
    return worker


def value_of(family: Metric, **labels: str) -> float | None:
    """The value of the family's sample with exactly these labels, else None."""
    for sample in family.samples:
        if not sample.name.endswith("_created") and sample.labels == labels:
            return sample.value
    return None
