"""`ledger ingest`: map existing authentication logs to ledger events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ledger.errors import LedgerError
from ledger.logs.formats import AUTO, FORMATS
from ledger.logs.ingest import FileTally, ingest_file
from ledger.logs.mapping import DEFAULT_SYSLOG_YEAR, IngestOptions
from ledger.logs.sinks import JsonLinesSink, KafkaSink, Sink
from ledger.settings import LedgerSettings

# Counts and errors go to stderr, so that --dry-run's JSON Lines own stdout.
console = Console(stderr=True)

PROGRESS_EVERY = 500
"""Records between two updates of the progress bar."""
REASONS_SHOWN = 3
"""Per file, the commonest rejection reasons printed after the counts."""


@contextlib.contextmanager
def _reporting_errors() -> Iterator[None]:
    """Turn a LedgerError into one line on stderr and exit code 1."""
    try:
        yield
    except LedgerError as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error


def _known_format(name: str) -> str:
    if name != AUTO and name not in FORMATS:
        raise typer.BadParameter(
            f"{name!r} is not one of: {AUTO}, {', '.join(FORMATS)}"
        )
    return name


def ingest(
    files: list[Path] = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        metavar="FILE...",
        help="Log files to read.",
    ),
    log_format: str = typer.Option(
        AUTO,
        "--format",
        "-f",
        callback=_known_format,
        help=f"Format of the files: {', '.join(FORMATS)}; or {AUTO}, per record.",
    ),
    year: int = typer.Option(
        DEFAULT_SYSLOG_YEAR,
        "--year",
        min=1970,
        max=9999,
        help="Year of the first syslog line (syslog writes none).",
    ),
    timezone: str = typer.Option(
        "UTC", "--timezone", help="Zone of times written without an offset."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Write the events to stdout as JSON Lines; send none."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        dir_okay=False,
        help="Write the events to this JSON Lines file; send none.",
    ),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        dir_okay=False,
        help="With --dry-run or --out: write dead letters to this JSON Lines file.",
    ),
    summary: Path | None = typer.Option(
        None,
        "--summary",
        dir_okay=False,
        help="Also write the per-file counts to this JSON file, for scripts.",
    ),
) -> None:
    """Map authentication logs to ledger events and append them.

    Each record becomes zero or more events; a record that cannot be mapped goes
    to the dead-letter topic with its reason (source file:<path>, offset = line
    number or record index). Event ids are deterministic: ingesting a file twice
    appends nothing new for consumers that de-duplicate on event_id. See
    docs/ingest.md for each format's mapping.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise typer.BadParameter(
            f"{timezone!r} is not an IANA time zone", param_hint="--timezone"
        ) from error
    if rejects is not None and not (dry_run or out):
        raise typer.BadParameter(
            "dead letters go to the dead-letter topic unless --dry-run or --out "
            "is given",
            param_hint="--rejects",
        )
    options = IngestOptions(year=year, timezone=zone)
    with _reporting_errors(), contextlib.ExitStack() as files_open:
        if dry_run or out:
            events: BinaryIO = (
                files_open.enter_context(out.open("wb")) if out else sys.stdout.buffer
            )
            letters = files_open.enter_context(rejects.open("wb")) if rejects else None
            tallies = asyncio.run(
                _run(files, log_format, options, JsonLinesSink(events, letters))
            )
        else:
            tallies = asyncio.run(_run_to_kafka(files, log_format, options))
    _print_tallies(tallies)
    if summary is not None:
        summary.write_text(json.dumps(_summary(tallies), indent=2) + "\n")


def _summary(tallies: list[FileTally]) -> dict[str, object]:
    counts = ("records", "events", "rejected", "skipped")
    return {
        "files": [
            {
                "path": str(tally.path),
                "formats": dict(sorted(tally.formats.items())),
                **{name: getattr(tally, name) for name in counts},
                "rejected_by_reason": dict(tally.reasons.most_common()),
            }
            for tally in tallies
        ],
        "total": {
            name: sum(getattr(tally, name) for tally in tallies) for name in counts
        },
    }


async def _run_to_kafka(
    files: list[Path], log_format: str, options: IngestOptions
) -> list[FileTally]:
    sink = KafkaSink(LedgerSettings())
    await sink.start()
    return await _run(files, log_format, options, sink)


async def _run(
    files: list[Path], log_format: str, options: IngestOptions, sink: Sink
) -> list[FileTally]:
    tallies = []
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("records {task.fields[records]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    try:
        with progress:
            for path in files:
                size = path.stat().st_size
                task = progress.add_task(escape(path.name), total=size, records=0)
                tally = FileTally(path)
                for outcome in ingest_file(path, log_format, options):
                    tally.add(outcome)
                    await sink.accept(outcome)
                    # Redrawing costs more than mapping a record: update in steps.
                    if tally.records % PROGRESS_EVERY == 0:
                        progress.update(
                            task,
                            completed=outcome.record.consumed,
                            records=tally.records,
                        )
                progress.update(task, completed=size, records=tally.records)
                tallies.append(tally)
    finally:
        await sink.close()
    return tallies


def _print_tallies(tallies: list[FileTally]) -> None:
    table = Table(
        title="ingested",
        title_justify="left",
        caption="One record can give more than one event (sshd's \"message "
        'repeated N times" is N failed logins), so events, rejected and skipped '
        "can add up to more than the records.",
        caption_justify="left",
    )
    table.add_column("file", overflow="fold")
    table.add_column("format")
    for name in ("records", "events", "rejected", "skipped"):
        table.add_column(name, justify="right")
    for tally in tallies:
        formats = ", ".join(sorted(tally.formats)) or "-"
        table.add_row(
            escape(str(tally.path)),
            formats,
            str(tally.records),
            str(tally.events),
            str(tally.rejected),
            str(tally.skipped),
        )
    if len(tallies) > 1:
        table.add_row(
            "total",
            "",
            *(
                str(sum(getattr(tally, name) for tally in tallies))
                for name in ("records", "events", "rejected", "skipped")
            ),
        )
    console.print(table)
    _print_reasons(tallies)


def _print_reasons(tallies: list[FileTally]) -> None:
    """The commonest reasons each file's records were rejected for."""
    rejected = [tally for tally in tallies if tally.reasons]
    if not rejected:
        return
    table = Table(
        title="rejected, by reason",
        title_justify="left",
    )
    table.add_column("file", overflow="fold")
    table.add_column("reason", overflow="fold")
    table.add_column("records", justify="right")
    for tally in rejected:
        ranked = tally.reasons.most_common()
        for reason, records in ranked[:REASONS_SHOWN]:
            table.add_row(escape(tally.path.name), escape(reason[:200]), str(records))
        if len(ranked) > REASONS_SHOWN:
            others = sum(records for _, records in ranked[REASONS_SHOWN:])
            table.add_row(
                escape(tally.path.name),
                f"{len(ranked) - REASONS_SHOWN} other reasons",
                str(others),
            )
    console.print(table)
