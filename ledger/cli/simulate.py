"""`ledger simulate`: a mixed human and agent organisation, with labelled incidents."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.errors import LedgerError
from ledger.settings import LedgerSettings
from ledger.simulate import DEFAULT_START, IncidentCounts, Scenario, Simulation
from ledger.simulate.clock import iso
from ledger.simulate.jsonl import write_labels, write_lines
from ledger.simulate.simulation import Record

# Progress and the summary go to stderr, so that `--out -` owns stdout.
console = Console(stderr=True)

PROGRESS_EVERY = 4096


@contextlib.contextmanager
def _reporting_errors() -> Iterator[None]:
    """Turn a LedgerError into one line on stderr and exit code 1."""
    try:
        yield
    except LedgerError as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error


def simulate(
    humans: int = typer.Option(200, min=1, help="People, in several time zones."),
    agents: int = typer.Option(100, min=0, help="Agents and service accounts."),
    hybrids: int = typer.Option(
        30, min=0, help="Assistants, each acting for one person in that person's hours."
    ),
    days: int = typer.Option(7, min=1, max=366, help="Length of the period in days."),
    seed: int = typer.Option(1, help="Same seed and options, same bytes."),
    start: datetime = typer.Option(
        datetime.combine(DEFAULT_START, datetime.min.time()),
        formats=["%Y-%m-%d"],
        help="First day (UTC midnight); the default is a fixed past Monday.",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the records as JSON Lines; - is stdout."
    ),
    kafka: bool = typer.Option(
        False, "--kafka", help="Send the records to the ledger topic, raw."
    ),
    ticks: bool = typer.Option(
        True,
        "--ticks/--no-ticks",
        help="With --kafka, send event-time ticks every 5 simulated minutes; run "
        "the worker with LEDGER_WALL_CLOCK_TICKS=false.",
    ),
    rate: float = typer.Option(
        0.0,
        min=0,
        help="With --kafka: records sent per second at most, as live traffic "
        "comes; 0 sends as fast as the broker takes them. Below what the worker "
        "folds, the monitors see every principal's events in time order.",
    ),
    labels: Path | None = typer.Option(
        None, "--labels", help="Write the ground truth (incidents, sessions) as JSON."
    ),
    bad_input_rate: float = typer.Option(
        0.0,
        "--bad-input-rate",
        min=0.0,
        max=0.5,
        help="Fraction of malformed records mixed in, for the dead-letter path.",
    ),
    stolen_tokens: int = typer.Option(
        2, "--stolen-tokens", min=0, help="Agent tokens replayed from elsewhere."
    ),
    compromised_agents: int = typer.Option(
        2, "--compromised-agents", min=0, help="Agents reading out of scope, 10x."
    ),
    account_takeovers: int = typer.Option(
        2, "--account-takeovers", min=0, help="3 a.m. logins with impossible travel."
    ),
    brute_force: int = typer.Option(
        3, "--brute-force", min=0, help="Runs of failed logins on one account."
    ),
    token_reuse: int = typer.Option(
        2, "--token-reuse", min=0, help="Tokens used after their session ended."
    ),
    hybrid_overruns: int = typer.Option(
        2, "--hybrid-overruns", min=0, help="Assistants acting after their user left."
    ),
    scripted_humans: int = typer.Option(
        1, "--scripted-humans", min=0, help="Human accounts run by a script 24/7."
    ),
    no_incidents: bool = typer.Option(
        False, "--no-incidents", help="Normal traffic only."
    ),
) -> None:
    """Simulate authentication traffic in event time, with the ground truth.

    Humans work 8-12 hour days in their own time zones; agents run overnight
    batches, polls, ETL and fleets around the clock; assistants act for their
    users inside the users' sessions. Incidents are injected on top and listed,
    event by event, in the labels file. Output is in event-time order, and the same
    seed and options give byte-identical files.
    """
    if out is None and not kafka:
        raise typer.BadParameter("say where the records go: --out FILE, or --kafka")
    incidents = IncidentCounts(
        stolen_agent_token=stolen_tokens,
        compromised_agent=compromised_agents,
        account_takeover=account_takeovers,
        brute_force=brute_force,
        token_reuse=token_reuse,
        hybrid_after_logout=hybrid_overruns,
        scripted_human=scripted_humans,
    )
    scenario = Scenario(
        humans=humans,
        agents=agents,
        hybrids=hybrids,
        days=days,
        seed=seed,
        start=start.date(),
        incidents=IncidentCounts.none() if no_incidents else incidents,
        bad_input_rate=bad_input_rate,
    )
    began = time.perf_counter()
    with _reporting_errors():
        simulation = Simulation(scenario)
        _run(simulation, out, kafka, ticks, rate)
        if labels is not None:
            write_labels(simulation.labels(), labels)
    _summarise(simulation, out, kafka, labels, time.perf_counter() - began)


def _run(
    simulation: Simulation, out: Path | None, kafka: bool, ticks: bool, rate: float
) -> None:
    progress = Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.fields[day]}"),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} h"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    span_hours = (simulation.end - simulation.start) / 3_600_000
    task = progress.add_task("simulate", total=span_hours, day="")

    def tracked(records: Iterable[Record]) -> Iterator[Record]:
        for count, record in enumerate(records):
            if count % PROGRESS_EVERY == 0:
                progress.update(
                    task,
                    completed=(record.at - simulation.start) / 3_600_000,
                    day=iso(record.at)[:10],
                )
            yield record
        progress.update(task, completed=span_hours)

    def send(records: Iterable[Record]) -> None:
        # Imported here: the Kafka adapter pulls in Faust, which files do not need.
        from ledger.simulate.kafka import send_records

        sent = asyncio.run(
            send_records(
                LedgerSettings(),
                records,
                until=simulation.end,
                ticks=ticks,
                rate=rate or None,
            )
        )
        if sent.ticks:
            console.print(
                f"{sent.ticks:,} ticks sent with the records", highlight=False
            )

    with progress:
        records = tracked(simulation.records())
        if out is None:
            send(records)
            return
        with contextlib.ExitStack() as stack:
            if str(out) == "-":
                sink: BinaryIO = sys.stdout.buffer
            else:
                sink = stack.enter_context(out.open("wb"))
            written = write_lines(records, sink)
            if kafka:
                send(written)
            else:
                for _ in written:
                    pass
            sink.flush()


def _summarise(
    simulation: Simulation,
    out: Path | None,
    kafka: bool,
    labels: Path | None,
    seconds: float,
) -> None:
    events = sum(simulation.by_type.values())
    places = [str(out)] if out is not None else []
    if kafka:
        places.append(LedgerSettings().topic_events)
    console.print(
        f"{simulation.records_written:,} records ({events:,} events, "
        f"{len(simulation.bad_input):,} malformed) to {' and '.join(places)} "
        f"in {seconds:.1f} s ({events / max(seconds, 1e-9):,.0f} events/s); "
        f"{len(simulation.incidents)} incidents"
        + (f", labels in {labels}" if labels is not None else ""),
        soft_wrap=True,
        highlight=False,
    )
    for skipped in simulation.skipped:
        console.print(
            f"[yellow]warning:[/] no {skipped['kind']} incident: "
            f"{escape(skipped['reason'])}",
            soft_wrap=True,
        )
