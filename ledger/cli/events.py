"""`ledger emit` appends events from JSON Lines; `ledger dlq tail` shows rejects."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import typer
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from pydantic_core import to_json
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from ledger.client import LedgerClient
from ledger.errors import LedgerError
from ledger.kafka.tail import tail_topic
from ledger.settings import LedgerSettings
from schemas import AuthEvent, DeadLetter, InvalidEvent, parse_event, serialize

# Input is shown verbatim: no markup, emoji codes or highlighting are interpreted.
errors = Console(stderr=True, markup=False, emoji=False, highlight=False)

PROGRESS_MIN_BYTES = 1024 * 1024
"""Files at least this large show a progress bar."""

dlq_app = typer.Typer(
    help="Input that failed validation, kept on the dead-letter topic.",
    no_args_is_help=True,
)


@contextlib.contextmanager
def _reporting_errors() -> Iterator[None]:
    """Turn a LedgerError into one line on stderr and exit code 1."""
    try:
        yield
    except LedgerError as error:
        errors.print(f"error: {error}", soft_wrap=True)
        raise typer.Exit(1) from error


@dataclass
class EmitCount:
    """What `ledger emit` did with the lines it read."""

    lines: int = 0
    appended: int = 0
    rejected: int = 0


def emit(
    source: str = typer.Argument(
        ..., metavar="FILE|-", help="JSON Lines file of events; - reads stdin."
    ),
    batch_size: int = typer.Option(
        500, "--batch-size", min=1, help="Events appended per round trip."
    ),
) -> None:
    """Append the events of a JSON Lines file, one event per line.

    Each line is validated as the worker validates it. Valid lines are appended in
    order; each rejected line is reported on stderr with its number and reason, and
    the valid lines around it are still appended. Blank lines are skipped.

    Exit code 1 if any line was rejected, or if the broker failed.
    """
    settings = LedgerSettings()
    with _reporting_errors():
        if source == "-":
            count = asyncio.run(_emit(settings, sys.stdin.buffer, None, batch_size))
        else:
            path = Path(source)
            try:
                handle = path.open("rb")
            except OSError as error:
                raise typer.BadParameter(f"cannot read {path}: {error}") from error
            with handle:
                count = asyncio.run(
                    _emit(settings, handle, path.stat().st_size, batch_size)
                )
    typer.echo(
        f"appended {count.appended} events to {settings.topic_events}; "
        f"rejected {count.rejected} of {count.lines} lines"
    )
    if count.rejected:
        raise typer.Exit(1)


async def _emit(
    settings: LedgerSettings, lines: BinaryIO, size: int | None, batch_size: int
) -> EmitCount:
    count = EmitCount()
    skew = timedelta(seconds=settings.max_future_skew_seconds)
    pending: list[AuthEvent] = []
    progress = Progress(
        TextColumn("emitting"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=size is None or size < PROGRESS_MIN_BYTES,
    )
    task = progress.add_task("emit", total=size)
    async with LedgerClient(settings) as client:
        with progress:
            for number, line in enumerate(lines, start=1):
                progress.advance(task, len(line))
                if not line.strip():
                    continue
                count.lines += 1
                try:
                    pending.append(
                        parse_event(
                            line,
                            now=datetime.now(UTC),
                            max_future_skew=skew,
                            max_bytes=settings.max_event_bytes,
                        )
                    )
                except InvalidEvent as invalid:
                    count.rejected += 1
                    errors.print(f"line {number}: {invalid}", soft_wrap=True)
                if len(pending) >= batch_size:
                    count.appended += len(await client.append_many(pending))
                    pending.clear()
            if pending:
                count.appended += len(await client.append_many(pending))
    return count


@dlq_app.command("tail")
def tail(
    from_beginning: bool = typer.Option(
        False, "--from-beginning", help="Start at the oldest dead letter kept."
    ),
    limit: int = typer.Option(
        20,
        "--limit",
        "-n",
        min=0,
        help="Show at most N dead letters (0: no limit). Without --from-beginning, "
        "start N before the end of each partition.",
    ),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep showing new dead letters until Ctrl-C."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="One dead letter per line, as JSON (original in base64)."
    ),
) -> None:
    """Show rejected input: reason, source partition and offset, original bytes."""
    settings = LedgerSettings()
    show = _print_json if as_json else _print_letter
    with _reporting_errors(), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_tail(settings, show, from_beginning, limit, follow))


async def _tail(
    settings: LedgerSettings,
    show: Callable[[ConsumerRecord], None],
    from_beginning: bool,
    limit: int,
    follow: bool,
) -> None:
    topic = settings.topic_dead_letters
    await tail_topic(
        settings.bootstrap_servers,
        topic,
        show,
        from_beginning=from_beginning,
        limit=limit,
        follow=follow,
        on_follow=lambda: errors.print(
            f"following {topic}; Ctrl-C stops", soft_wrap=True
        ),
    )


def preview(raw: bytes, width: int = 160) -> str:
    """Bytes as one safe line: control, format and invalid characters escaped."""
    text = raw.decode("utf-8", errors="backslashreplace")
    shown: list[str] = []
    length = 0
    for char in text:
        piece = char if char.isprintable() else _escape(char)
        length += len(piece)
        if length > width:
            shown.append("…")
            break
        shown.append(piece)
    return "".join(shown)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _read_letter(record: ConsumerRecord) -> DeadLetter | str:
    try:
        return DeadLetter.model_validate_json(record.value or b"")
    except ValidationError as error:
        return f"not a dead letter ({error.error_count()} errors)"


def _print_letter(record: ConsumerRecord) -> None:
    letter = _read_letter(record)
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    if isinstance(letter, str):
        typer.echo(f"{where}  {letter}: {preview(record.value or b'')}")
        return
    if letter.partition is not None:
        source = (
            f"{letter.source_topic} partition {letter.partition} offset {letter.offset}"
        )
    else:
        source = letter.source_topic
    size = f"{len(letter.original)} bytes" + (", truncated" if letter.truncated else "")
    lines = [
        f"{where}  {letter.received_at.isoformat()}  from {source}",
        f"  reason: {preview(letter.reason.encode(), 1000)}",
    ]
    if letter.event_id or letter.key is not None:
        key = preview(letter.key, 80) if letter.key is not None else "-"
        lines.append(f"  event:  {letter.event_id or '-'}  key: {key}")
    lines.append(f"  bytes:  {preview(letter.original)}  ({size})")
    typer.echo("\n".join(lines))


def _print_json(record: ConsumerRecord) -> None:
    letter = _read_letter(record)
    if isinstance(letter, str):
        document = {
            "error": letter,
            "dlq_partition": record.partition,
            "dlq_offset": record.offset,
        }
        typer.echo(to_json(document).decode())
        return
    typer.echo(serialize(letter).decode())
