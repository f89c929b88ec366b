"""Reading log files into records, whatever their shape.

One reader serves every format, because the shape of a file says little about its
source: Okta, Auth0 and CloudTrail all arrive as JSON arrays, JSON lines or single
documents. `read_records` sniffs the file and yields `SourceRecord`s:

- EVTX (magic `ElfFile`): one record per Windows event, as the JSON the `evtx`
  parser gives (the same shape `evtx_dump -o json` writes);
- JSON: a document holding one object, an array of objects, or CloudTrail's
  `{"Records": [...]}`; or JSON lines, one object a line;
- CSV (by suffix): one record per row, a dict keyed by the header;
- Windows events rendered as text (Splunk's `WinEventLog` export): one record per
  block starting with a `MM/DD/YYYY HH:MM:SS AM` line;
- anything else: one record per non-blank line.

Every record carries an identity: a digest of its canonical content plus how many
identical records came before it in the same file. Re-reading a file yields the
same identities, the same record in two files (or two exports of one file) yields
the same one, and genuine repeats inside a file stay apart.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError

RecordBody = dict[str, Any] | str
"""A record as read: a JSON object or CSV row, or a line or block of text."""

EVTX_MAGIC = b"ElfFile\x00"
UTF8_BOM = b"\xef\xbb\xbf"
_RENDERED_EVENT_START = re.compile(r"^\d{2}/\d{2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M$")
_MAX_DEFECT_ORIGINAL = 512 * 1024


class RecordRejected(LedgerError):
    """A record that cannot be mapped to ledger events; `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record read from a log file, before any format maps it."""

    path: Path
    position: int
    """1-based line number in line-oriented text, else the 0-based record index."""
    body: RecordBody
    original: bytes
    """The line's bytes for text; the record re-serialized as JSON otherwise."""
    identity: str
    """Digest of the canonical content, then `#` and its occurrence in the file."""
    consumed: int
    """Bytes of the file read up to this record, for progress."""
    defect: str | None = None
    """Why the record could not even be read (broken JSON); None when it could."""


def read_records(path: Path) -> Iterator[SourceRecord]:
    """Every record of the file at `path`, in file order."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    identities = _Identities()
    if head.startswith(EVTX_MAGIC):
        yield from _evtx_records(path, identities)
    elif path.suffix.lower() == ".csv":
        yield from _csv_records(path, identities)
    elif head.removeprefix(UTF8_BOM).lstrip()[:1] in (b"{", b"["):
        yield from _json_records(path, identities)
    elif _starts_rendered_event(head):
        yield from _rendered_event_records(path, identities)
    else:
        yield from _line_records(path, identities)


def canonical_json(body: Any) -> bytes:
    """Compact JSON with sorted keys: equal records give equal bytes."""
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


class _Identities:
    """Content digests, numbered by occurrence within one file."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def of(self, canonical: bytes) -> str:
        digest = hashlib.sha256(canonical).hexdigest()[:32]
        occurrence = self._seen[digest]
        self._seen[digest] += 1
        return f"{digest}#{occurrence}"


def _evtx_records(path: Path, identities: _Identities) -> Iterator[SourceRecord]:
    # Imported here: the compiled parser is only needed for EVTX input.
    from evtx import PyEvtxParser

    size = path.stat().st_size
    records = iter(PyEvtxParser(str(path)).records_json())
    for index in count():
        try:
            raw = next(records)
        except StopIteration:
            return
        except (RuntimeError, OSError, ValueError) as error:
            # A corrupt chunk ends the parser's iteration; say so and stop.
            yield SourceRecord(
                path,
                index,
                "",
                b"",
                identities.of(f"{path.name}:{index}:unreadable".encode()),
                size,
                defect=f"EVTX record unreadable: {error}",
            )
            return
        original = raw["data"].encode("utf-8")
        try:
            body = json.loads(original)
        except ValueError as error:
            yield _defective(path, index, original, identities, size, error)
            continue
        canonical = canonical_json(body)
        yield SourceRecord(path, index, body, canonical, identities.of(canonical), size)


def _csv_records(path: Path, identities: _Identities) -> Iterator[SourceRecord]:
    consumed = [0]
    with path.open("rb") as handle:
        lines = _counted_lines(handle, consumed)
        for index, row in enumerate(csv.DictReader(lines)):
            body = {name: value for name, value in row.items() if name is not None}
            canonical = canonical_json(body)
            yield SourceRecord(
                path, index, body, canonical, identities.of(canonical), consumed[0]
            )


def _counted_lines(handle: Iterable[bytes], consumed: list[int]) -> Iterator[str]:
    # csv wants text lines; counting the raw bytes keeps progress exact.
    for number, raw in enumerate(handle):
        consumed[0] += len(raw)
        text = raw.decode("utf-8", errors="replace")
        yield text.removeprefix("\ufeff") if number == 0 else text


def _json_records(path: Path, identities: _Identities) -> Iterator[SourceRecord]:
    with path.open("rb") as handle:
        first = handle.readline().removeprefix(UTF8_BOM)
        more = any(line.strip() for line in _peek(handle))
    if more and _parses(first):
        yield from _json_line_records(path, identities)
        return

    text = path.read_bytes().removeprefix(UTF8_BOM)
    size = len(text)
    try:
        document = json.loads(text)
    except ValueError as error:
        # Not JSON lines and not one document: the file is one broken record.
        yield _defective(path, 0, text, identities, size, error)
        return
    items = _json_items(document)
    for index, item in enumerate(items):
        consumed = size * (index + 1) // len(items)
        canonical = canonical_json(item)
        if not isinstance(item, dict):
            yield SourceRecord(
                path,
                index,
                "",
                canonical,
                identities.of(canonical),
                consumed,
                defect=f"not a JSON object but {type(item).__name__}",
            )
            continue
        yield SourceRecord(
            path, index, item, canonical, identities.of(canonical), consumed
        )


def _peek(handle: Iterable[bytes], lines: int = 50) -> Iterator[bytes]:
    for seen, line in enumerate(handle):
        if seen >= lines:
            return
        yield line


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _json_items(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        # CloudTrail's delivery format: {"Records": [event, ...]}.
        return document["Records"]
    return [document]


def _json_line_records(path: Path, identities: _Identities) -> Iterator[SourceRecord]:
    consumed = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            consumed += len(raw)
            line = raw.rstrip(b"\r\n")
            if number == 1:
                line = line.removeprefix(UTF8_BOM)
            if not line.strip():
                continue
            try:
                body = json.loads(line)
            except ValueError as error:
                yield _defective(path, number, line, identities, consumed, error)
                continue
            canonical = canonical_json(body)
            if not isinstance(body, dict):
                yield SourceRecord(
                    path,
                    number,
                    "",
                    line,
                    identities.of(canonical),
                    consumed,
                    defect=f"not a JSON object but {type(body).__name__}",
                )
                continue
            yield SourceRecord(
                path, number, body, line, identities.of(canonical), consumed
            )


def _starts_rendered_event(head: bytes) -> bool:
    lines = head.decode("utf-8", errors="replace").lstrip().splitlines()
    return (
        len(lines) > 1
        and bool(_RENDERED_EVENT_START.match(lines[0].strip()))
        and lines[1].startswith("LogName=")
    )


def _rendered_event_records(
    path: Path, identities: _Identities
) -> Iterator[SourceRecord]:
    block: list[bytes] = []
    consumed = 0
    index = 0

    def record() -> SourceRecord:
        original = b"".join(block).rstrip()
        text = original.decode("utf-8", errors="replace")
        canonical = text.replace("\r\n", "\n").encode("utf-8")
        return SourceRecord(
            path, index, text, original, identities.of(canonical), consumed
        )

    with path.open("rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", errors="replace").strip()
            if _RENDERED_EVENT_START.match(line) and block:
                yield record()
                index += 1
                block = []
            block.append(raw)
            consumed += len(raw)
    if b"".join(block).strip():
        yield record()


def _line_records(path: Path, identities: _Identities) -> Iterator[SourceRecord]:
    consumed = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            consumed += len(raw)
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            text = line.decode("utf-8", errors="replace")
            canonical = text.rstrip().encode("utf-8")
            yield SourceRecord(
                path, number, text, line, identities.of(canonical), consumed
            )


def _defective(
    path: Path,
    position: int,
    original: bytes,
    identities: _Identities,
    consumed: int,
    error: Exception,
) -> SourceRecord:
    return SourceRecord(
        path,
        position,
        "",
        original[:_MAX_DEFECT_ORIGINAL],
        identities.of(original),
        consumed,
        defect=f"not valid JSON: {error}",
    )
