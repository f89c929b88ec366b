"""Detection quality through the real pipeline, against a uniform configuration.

    python benchmarks/eval_detection.py [--humans 30] [--agents 15] [--hybrids 5]
        [--days 7] [--seed 3] [--rate 250] [--timeout 3600] [--out .ledger/eval]
        [--check]

One simulated week of an organisation (people, agents, hybrids, labelled
incidents, a few malformed records) is produced twice, to fresh topics, on the
broker LEDGER_KAFKA_BOOTSTRAP names (else one this run starts and stops), and
each copy is read by its own `ledger worker` with every default component and
event-time ticks:

1. **category-aware**: the default policy, baselines, detectors and timeouts
   kept apart for people, agents and hybrids;
2. **uniform**: what identity systems built for people do: `monitors.uniform`
   judges every session with the user detectors, thresholds and learned model,
   and agents and hybrids get the users' lifecycle (idle and absolute
   timeouts) on top of their own.

The records are sent in event-time order while the worker runs, at `--rate`
per second (below what one worker folds on 2 cores), as live traffic comes. A
backlog read all at once would show the monitors each principal's sessions far
out of order: they come through different partitions, and the worker reads
each partition far ahead of the others (see docs/monitors.md).

Once a worker's consumer group has committed everything, the ledger topic
(traffic, expiries, revocations) and the alerts topic are read back and scored
against the simulator's labels by `ledger.report.detection`. The report
(incidents caught and missed; per detector and category: alerts, precision,
false alerts per 1,000 session-days; the uniform run's false alerts on agents
and the agent sessions its timeouts cut; the goals) is printed and written to
`<out>/detection.md`, beside each run's alerts (`<out>/<configuration>-alerts.jsonl`)
and the simulator's labels. `--check` exits 1 when a goal is missed.

A run of the default size takes 10-20 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from bench_pipeline import produce
from rich.console import Console
from run_all import broker
from worker_process import (
    WorkerProcess,
    discard_state,
    drained_at,
    settings_of,
    unique_name,
    worker_env,
)

from ledger.kafka.admin import ensure_topics
from ledger.kafka.tail import tail_topic
from ledger.policy import Policy
from ledger.report.detection import RunQuality, RunTally
from ledger.report.model import incidents_of
from ledger.simulate.scenario import Scenario
from ledger.simulate.simulation import Simulation
from ledger.topics import ledger_topics
from ledger.worker.app import CONTROL_HEADER
from monitors.worker import routed_topic_name
from schemas import Alert, InvalidEvent, parse_event

SIMULATED_START = date(2026, 9, 7)
CATEGORIES = ("user", "agent", "hybrid")
TIMEOUT_CAUSES = ("expired:idle", "expired:absolute")
"""The human timeouts: what the uniform run adds to agents and hybrids."""

GOAL_PRECISION = 0.9
GOAL_AGENT_FALSE_SHARE = 0.01


@dataclass(frozen=True)
class Configuration:
    name: str
    description: str
    policy: dict


def configurations() -> list[Configuration]:
    """The category-aware default, and the uniform one built from its user rules."""
    human_lifecycle = Policy().user.lifecycle.model_dump(
        mode="json", include={"idle_timeout", "absolute_lifetime"}
    )
    return [
        Configuration(
            "category-aware", "the default policy: rules kept apart per category", {}
        ),
        Configuration(
            "uniform",
            "one human-style configuration for every identity: user detectors and "
            "thresholds, user idle and absolute timeouts",
            {
                "monitors": {"uniform": True},
                "agent": {"lifecycle": human_lifecycle},
                "hybrid": {"lifecycle": human_lifecycle},
            },
        ),
    ]


async def read_back(bootstrap: str, events_topic: str, alerts_topic: str) -> RunTally:
    """Every event of the ledger topic and every alert, tallied."""
    run = RunTally()
    unreadable: Counter[str] = Counter()
    now = datetime.now(UTC)

    def event(record) -> None:
        if any(key == CONTROL_HEADER for key, _ in record.headers or ()):
            return
        try:
            run.add_event(parse_event(record.value, now=now))
        except InvalidEvent:
            unreadable["events"] += 1  # the malformed records, dead-lettered

    def alert(record) -> None:
        run.add_alert(Alert.model_validate_json(record.value))

    await tail_topic(
        bootstrap, events_topic, event, from_beginning=True, limit=0, follow=False
    )
    await tail_topic(
        bootstrap, alerts_topic, alert, from_beginning=True, limit=0, follow=False
    )
    print(f"  read back; {unreadable['events']} malformed records skipped", flush=True)
    return run


def run_configuration(
    bootstrap: str,
    configuration: Configuration,
    records: list,
    rate: float,
    timeout: float,
) -> RunTally:
    """Produce `records`, run one worker on them under `configuration`, read back."""
    name = unique_name(f"eval-{configuration.name}")
    work = Path(tempfile.mkdtemp(prefix=f"eval-{configuration.name}-"))
    policy_file = work / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(configuration.policy))
    env = worker_env(
        bootstrap,
        name,
        work / "data",
        LEDGER_WALL_CLOCK_TICKS="false",
        LEDGER_POLICY_FILE=str(policy_file),
    )
    settings = settings_of(env)
    asyncio.run(ensure_topics(bootstrap, ledger_topics(settings)))
    started = time.monotonic()
    worker = WorkerProcess.ledger_worker(env, work / "worker.log")
    try:
        worker.wait_serving(timeout=300)
        sent, ticks = asyncio.run(
            produce(bootstrap, settings.topic_events, records, rate=rate)
        )
        print(
            f"{configuration.name}: {sent:,} records and {ticks:,} ticks sent to "
            f"{settings.topic_events} at up to {rate:,.0f}/s",
            flush=True,
        )
        topics = [
            settings.topic_events,
            settings.topic_dead_letters,
            settings.topic_commands,
            settings.topic_revocations,
            settings.topic_alerts,
            routed_topic_name(settings),
        ]
        asyncio.run(
            drained_at(
                bootstrap,
                settings.app_id,
                topics,
                timeout=max(60.0, timeout - (time.monotonic() - started)),
            )
        )
        worker.check_alive()
    finally:
        worker.stop()
    print(
        f"  worker drained in {time.monotonic() - started:.0f} s "
        f"(load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    run = asyncio.run(
        read_back(bootstrap, settings.topic_events, settings.topic_alerts)
    )
    discard_state(work)
    return run


# --- the report ----------------------------------------------------------------


def ratio(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def incidents_table(aware: RunQuality, uniform: RunQuality) -> list[str]:
    lines = [
        "| incident | kind | category-aware: caught by | uniform: caught by |",
        "|---|---|---|---|",
    ]
    uniform_by_id = {v.incident.id: v for v in uniform.incidents}
    for verdict in aware.incidents:
        other = uniform_by_id.get(verdict.incident.id)
        lines.append(
            f"| {verdict.incident.id} | {verdict.incident.kind} | "
            f"{', '.join(verdict.detectors) if verdict.caught else '**MISSED**'} | "
            f"{', '.join(other.detectors) if other and other.caught else 'missed'} |"
        )
    return lines


def detector_table(quality: RunQuality) -> list[str]:
    lines = [
        "| category | detector | alerts | true | false | precision "
        "| false / 1,000 session-days | incidents caught |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in quality.detectors:
        lines.append(
            f"| {row.category} | {row.detector} | {row.alerts} | {row.true_alerts} "
            f"| {row.false_alerts} | {ratio(row.precision)} "
            f"| {ratio(row.false_per_1000_session_days, 1)} "
            f"| {len(row.incidents)} |"
        )
    for category in CATEGORIES:
        days = quality.session_days.get(category, 0)
        alerts, false = quality.alerts_of(category), quality.false_alerts(category)
        lines.append(
            f"| **{category}** | all ({days:,} session-days) | {alerts} "
            f"| {alerts - false} | {false} "
            f"| {ratio((alerts - false) / alerts if alerts else None)} "
            f"| {ratio(1000 * false / days if days else None, 1)} | |"
        )
    lines.append(
        f"| **all** | | {quality.alerts} | {quality.true_alerts} "
        f"| {quality.alerts - quality.true_alerts} | {ratio(quality.precision)} | | |"
    )
    return lines


def comparison_table(aware: RunQuality, uniform: RunQuality) -> list[str]:
    lines = [
        "| category | configuration | alerts | false alerts "
        "| false / 1,000 session-days | ended by human timeouts "
        "| of them with work going on | any end with work going on |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for category in CATEGORIES:
        for name, quality in (("category-aware", aware), ("uniform", uniform)):
            days = quality.session_days.get(category, 0)
            false = quality.false_alerts(category)
            ends = quality.ends.get(category, Counter())
            timeouts = sum(ends[cause] for cause in TIMEOUT_CAUSES)
            cut = quality.cut_of(category)
            cut_by_timeout = [s for s in cut if s.ended_by in TIMEOUT_CAUSES]
            lines.append(
                f"| {category} | {name} | {quality.alerts_of(category)} | {false} "
                f"| {ratio(1000 * false / days if days else None, 1)} | {timeouts} "
                f"| {len(cut_by_timeout)} | {len(cut)} |"
            )
    return lines


def uniform_agent_detectors(uniform: RunQuality) -> list[str]:
    lines = [
        "| detector (judged as a person's) | false alerts on agents |",
        "|---|---:|",
    ]
    rows = [r for r in uniform.detectors if r.category == "agent" and r.false_alerts]
    for row in sorted(rows, key=lambda r: -r.false_alerts):
        lines.append(f"| {row.detector} | {row.false_alerts} |")
    return lines


def goals(aware: RunQuality, uniform: RunQuality) -> tuple[list[str], bool]:
    kinds = aware.kinds
    kinds_caught = sum(1 for caught, _ in kinds.values() if caught)
    incidents_caught = sum(v.caught for v in aware.incidents)
    false_aware, false_uniform = (
        aware.false_alerts("agent"),
        uniform.false_alerts("agent"),
    )
    share = false_aware / false_uniform if false_uniform else None
    agent_cut = [s for s in aware.cut_of("agent") if s.ended_by.startswith("expired:")]
    checks = [
        (
            "every incident kind caught",
            f"{kinds_caught}/{len(kinds)} kinds, "
            f"{incidents_caught}/{len(aware.incidents)} incidents",
            bool(kinds) and kinds_caught == len(kinds),
        ),
        (
            f"precision ≥ {GOAL_PRECISION}",
            ratio(aware.precision, 3),
            aware.precision is not None and aware.precision >= GOAL_PRECISION,
        ),
        (
            f"false alerts on agents ≤ {GOAL_AGENT_FALSE_SHARE:.0%} of uniform",
            f"{false_aware} against {false_uniform}"
            + (f" ({share:.2%})" if share is not None else ""),
            false_uniform > 0 and false_aware <= GOAL_AGENT_FALSE_SHARE * false_uniform,
        ),
        (
            "no agent work cut by a timeout",
            f"{len(agent_cut)} agent sessions expired while working",
            not agent_cut,
        ),
    ]
    lines = ["| goal | measured | met |", "|---|---|---|"]
    lines += [
        f"| {goal} | {value} | {'yes' if ok else '**no**'} |"
        for goal, value, ok in checks
    ]
    return lines, all(ok for _, _, ok in checks)


def report(
    scenario: Scenario, counts: dict, aware: RunQuality, uniform: RunQuality
) -> tuple[str, bool]:
    goal_lines, met = goals(aware, uniform)
    described = ", ".join(f"{k} {v}" for k, v in counts.items())
    sections = [
        "# Detection quality: category-aware against uniform",
        "",
        f"Simulated: {scenario.humans} people, {scenario.agents} agents, "
        f"{scenario.hybrids} hybrids, {scenario.days} days from {scenario.start} "
        f"(seed {scenario.seed}); events by category: {described}. "
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with "
        f"`python benchmarks/eval_detection.py` through `ledger worker`.",
        "",
        "## Goals",
        "",
        *goal_lines,
        "",
        "## Incidents",
        "",
        *incidents_table(aware, uniform),
        "",
        "## Category-aware: by detector and category",
        "",
        *detector_table(aware),
        "",
        "## Against the uniform configuration, same week",
        "",
        *comparison_table(aware, uniform),
        "",
        "### Uniform: false alerts on agents by detector",
        "",
        *uniform_agent_detectors(uniform),
        "",
        "## Uniform: by detector and category",
        "",
        *detector_table(uniform),
        "",
    ]
    return "\n".join(sections), met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--humans", type=int, default=30)
    parser.add_argument("--agents", type=int, default=15)
    parser.add_argument("--hybrids", type=int, default=5)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--rate",
        type=float,
        default=250.0,
        help="records sent per second, below what the worker folds (see the docstring)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="per run, s")
    parser.add_argument("--out", type=Path, default=Path(".ledger/eval"))
    parser.add_argument("--check", action="store_true", help="exit 1 on a missed goal")
    options = parser.parse_args()

    scenario = Scenario(
        humans=options.humans,
        agents=options.agents,
        hybrids=options.hybrids,
        days=options.days,
        seed=options.seed,
        start=SIMULATED_START,
        bad_input_rate=0.001,
    )
    simulation = Simulation(scenario, now=datetime.now(UTC))
    records = list(simulation.records())
    labels = simulation.labels()
    incidents = incidents_of(labels)
    print(
        f"simulated {len(records):,} records, {len(incidents)} labelled incidents",
        flush=True,
    )
    qualities = {}
    with broker(True, Console()) as bootstrap:
        assert bootstrap is not None
        for configuration in configurations():
            print(f"{configuration.name}: {configuration.description}", flush=True)
            run = run_configuration(
                bootstrap, configuration, records, options.rate, options.timeout
            )
            qualities[configuration.name] = run.score(incidents)
            options.out.mkdir(parents=True, exist_ok=True)
            with (options.out / f"{configuration.name}-alerts.jsonl").open("w") as out:
                for alert in run.alerts:
                    out.write(alert.model_dump_json() + "\n")
    text, met = report(
        scenario,
        labels["counts"]["by_category"],
        qualities["category-aware"],
        qualities["uniform"],
    )
    print(text)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "detection.md").write_text(text)
    (options.out / "labels.json").write_text(json.dumps(labels, indent=1))
    print(f"written to {options.out / 'detection.md'}")
    if options.check and not met:
        raise SystemExit("a detection-quality goal was missed; see the Goals table")


if __name__ == "__main__":
    main()
