"""Every benchmark in one run, against a real broker, printed as one table.

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--out .ledger/bench]

`make bench` runs this through `scripts/run-benchmarks`. Each benchmark runs as
a subprocess with bounded sizes and a time limit; its output goes to
`<out>/logs/<name>.log` and its RESULT lines (`benchmarks/results.py`) become
the rows of the table, which is also written as Markdown to `<out>/results.md`.
A benchmark that fails, times out or prints no result is a failed row, and the
run exits non-zero at the end.

The broker is the one LEDGER_KAFKA_BOOTSTRAP names; otherwise one is started
with the local launcher into a temporary data dir and stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results import parse_line
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger.kafka.launcher import LocalBroker
from ledger.settings import LedgerSettings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script, its arguments in each mode, and its time limit."""

    name: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    limit_minutes: float
    quick_limit_minutes: float
    broker: bool = True


BENCHMARKS = (
    Benchmark(
        "audit writer",
        "bench_audit_writer.py",
        full=(),
        quick=("--events", "10000"),
        limit_minutes=20,
        quick_limit_minutes=10,
        broker=False,
    ),
    Benchmark(
        "monitors",
        "bench_monitors.py",
        full=(),
        quick=("--days", "3"),
        limit_minutes=20,
        quick_limit_minutes=10,
        broker=False,
    ),
    Benchmark(
        "append",
        "bench_append.py",
        full=(),
        quick=("--events", "10000"),
        limit_minutes=30,
        quick_limit_minutes=15,
    ),
    Benchmark(
        "projection",
        "bench_projection.py",
        full=(),
        quick=("--events", "10000", "--memory-sessions", "20000"),
        limit_minutes=40,
        quick_limit_minutes=20,
    ),
    Benchmark(
        "pipeline",
        "bench_pipeline.py",
        full=(),
        quick=("--events", "20000"),
        limit_minutes=90,
        quick_limit_minutes=30,
    ),
    Benchmark(
        "alert latency",
        "bench_alert_latency.py",
        full=(),
        quick=("--seconds", "30"),
        limit_minutes=40,
        quick_limit_minutes=20,
    ),
    Benchmark(
        "revocation",
        "bench_revocation.py",
        full=("--timeout", "3600"),
        quick=("--sessions", "10000", "--timeout", "1500"),
        limit_minutes=65,
        quick_limit_minutes=30,
    ),
    Benchmark(
        "recovery",
        "bench_recovery.py",
        full=("--timeout", "14000"),
        quick=("--sessions", "100000", "--timeout", "3000"),
        limit_minutes=240,
        quick_limit_minutes=55,
    ),
)


@dataclass
class Outcome:
    """What one benchmark run gave: its results, or why it failed."""

    benchmark: Benchmark
    results: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None
    seconds: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0


def run(
    benchmark: Benchmark, quick: bool, env: dict[str, str], logs: Path, console: Console
) -> Outcome:
    """Run one benchmark in its own process group; kill the group at its limit."""
    args = benchmark.quick if quick else benchmark.full
    limit = 60 * (benchmark.quick_limit_minutes if quick else benchmark.limit_minutes)
    log = logs / f"{benchmark.name.replace(' ', '-')}.log"
    outcome = Outcome(benchmark, load_before=os.getloadavg()[0])
    command = [sys.executable, str(HERE / benchmark.script), *args]
    started = time.monotonic()
    lines: queue.Queue[str | None] = queue.Queue()
    with log.open("w") as output:
        output.write(f"$ {' '.join(command)}\n")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            # Its own group, so that a time-out also stops the workers it started.
            start_new_session=True,
        )
        reader = threading.Thread(target=_pump, args=(process, lines), daemon=True)
        reader.start()
        last = ""
        with console.status(f"{benchmark.name} ...") as status:
            while True:
                try:
                    line = lines.get(timeout=1.0)
                except queue.Empty:
                    line = ""
                if line is None:
                    break
                if line:
                    output.write(line)
                    output.flush()
                    found = parse_line(line)
                    if found is not None:
                        outcome.results.append(found)
                    elif line.strip():
                        last = line.strip()
                elapsed = time.monotonic() - started
                status.update(
                    f"[bold]{escape(benchmark.name)}[/] {elapsed / 60:4.1f} min  "
                    f"[dim]{escape(last[:90])}[/]"
                )
                if elapsed > limit:
                    _stop_group(process)
                    outcome.failure = f"timed out after {limit / 60:.0f} min"
                    break
        code = process.wait()
        reader.join(5)
        output.write(f"\n[exit code {code}]\n")
    outcome.seconds = time.monotonic() - started
    outcome.load_after = os.getloadavg()[0]
    if outcome.failure is None and code != 0:
        outcome.failure = f"exit code {code}: {last[:160]}"
    if outcome.failure is None and not outcome.results:
        outcome.failure = "printed no RESULT line"
    state = "[red]failed[/]" if outcome.failure else "[green]done[/]"
    console.print(
        f"{state} {escape(benchmark.name)} in {outcome.seconds / 60:.1f} min "
        f"[dim]({log.relative_to(ROOT) if log.is_relative_to(ROOT) else log})[/]"
    )
    return outcome


def _pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put(None)


def _stop_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM the benchmark's process group, SIGKILL it a minute later."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def broker(needed: bool, console: Console) -> Iterator[str | None]:
    """The bootstrap to use: the environment's, else a broker of this run's own."""
    named = os.environ.get("LEDGER_KAFKA_BOOTSTRAP")
    if named or not needed:
        yield named
        return
    home = Path(tempfile.mkdtemp(prefix="ledger-bench-broker-"))
    local = LocalBroker(LedgerSettings(data_dir=home), port=0, controller_port=0)
    with console.status("starting a Kafka broker for this run ..."):
        status = local.up(timeout=300)
    console.print(f"broker {status.bootstrap} (data in {home})")
    try:
        yield status.bootstrap
    finally:
        with console.status("stopping the broker ..."):
            local.down()
        shutil.rmtree(home, ignore_errors=True)


def number(value: float | None) -> str:
    if value is None:
        return "—"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def rows(outcomes: list[Outcome]) -> list[dict[str, str]]:
    """One dict of cells per result, and one per failed benchmark."""
    found = []
    for outcome in outcomes:
        load = f"{outcome.load_before:.1f}→{outcome.load_after:.1f}"
        for result in outcome.results:
            unit = result.get("unit") or ""
            ratio = result.get("ratio")
            better = "↑" if result.get("better", "higher") == "higher" else "↓"
            found.append(
                {
                    "benchmark": result["benchmark"],
                    "metric": result["metric"],
                    "value": f"{number(result['value'])} {unit}".strip(),
                    "baseline": f"{number(result.get('baseline'))} {unit}".strip()
                    + (
                        f" ({result['baseline_label']})"
                        if result.get("baseline_label")
                        else ""
                    ),
                    "ratio": "—" if ratio is None else f"{number(ratio)}x {better}",
                    "note": result.get("note") or "",
                    "load": load,
                }
            )
        if outcome.failure:
            found.append(
                {
                    "benchmark": outcome.benchmark.name,
                    "metric": "FAILED",
                    "value": outcome.failure,
                    "baseline": "",
                    "ratio": "",
                    "note": f"see {outcome.benchmark.name.replace(' ', '-')}.log",
                    "load": load,
                }
            )
    return found


COLUMNS = ("benchmark", "metric", "value", "baseline", "ratio", "load", "note")


def caption(quick: bool, began: datetime, loads: tuple[float, float, float]) -> str:
    return (
        f"{began:%Y-%m-%d %H:%M} UTC, {'quick' if quick else 'full'} run on "
        f"{platform.node()} ({os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}); load average (1/5/15 min) at the end "
        f"{loads[0]:.1f}/{loads[1]:.1f}/{loads[2]:.1f}. Ratio = value / baseline, "
        "both measured in the same run; ↑ higher is better, ↓ lower is better. "
        "The load column is the 1-min load average before→after each benchmark."
    )


def print_table(table_rows: list[dict[str, str]], text: str, console: Console) -> None:
    """The table on the terminal: notes under the metric, labels under baselines."""
    table = Table(title="session-ledger benchmarks", caption=text, show_lines=True)
    for column in ("benchmark", "metric", "value", "baseline", "ratio", "load"):
        table.add_column(column, overflow="fold")
    for row in table_rows:
        failed = row["metric"] == "FAILED"
        metric = escape(row["metric"])
        if row["note"]:
            metric += f"\n[dim]{escape(row['note'])}[/]"
        baseline = escape(row["baseline"]).replace(" (", "\n[dim](", 1)
        if "[dim]" in baseline:
            baseline += "[/]"
        table.add_row(
            escape(row["benchmark"]),
            metric,
            escape(row["value"]),
            baseline,
            row["ratio"],
            row["load"],
            style="red" if failed else None,
        )
    console.print(table)


def markdown(table_rows: list[dict[str, str]], text: str) -> str:
    def cell(value: str) -> str:
        return value.replace("|", "\\|")

    lines = [
        "# session-ledger benchmarks",
        "",
        text,
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += [
        "| " + " | ".join(cell(row[column]) for column in COLUMNS) + " |"
        for row in table_rows
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes: minutes, not hours"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=[b.name.replace(" ", "-") for b in BENCHMARKS],
        help="run only these benchmarks",
    )
    parser.add_argument("--out", type=Path, default=ROOT / ".ledger" / "bench")
    args = parser.parse_args()

    # A pipe (make bench | tee) would otherwise get 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 150)
    chosen = [
        b for b in BENCHMARKS if not args.only or b.name.replace(" ", "-") in args.only
    ]
    began = datetime.now(UTC)
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    with broker(any(b.broker for b in chosen), console) as bootstrap:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if bootstrap:
            env["LEDGER_KAFKA_BOOTSTRAP"] = bootstrap
        for benchmark in chosen:
            outcomes.append(run(benchmark, args.quick, env, logs, console))

    table_rows = rows(outcomes)
    text = caption(args.quick, began, os.getloadavg())
    print_table(table_rows, text, console)
    written = args.out / "results.md"
    written.write_text(markdown(table_rows, text))
    console.print(f"written to {written}")
    failed = [o.benchmark.name for o in outcomes if o.failure]
    if failed:
        console.print(f"[red]failed:[/] {', '.join(failed)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
