"""The simulation as files: records as JSON Lines, ground truth as one JSON file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ledger.simulate.simulation import Record


def write_lines(records: Iterable[Record], sink: BinaryIO) -> Iterator[Record]:
    """Write each record's value as one line, passing the records on."""
    for record in records:
        sink.write(record.value)
        sink.write(b"\n")
        yield record


def write_labels(labels: dict[str, Any], path: Path) -> None:
    """Write the labels as indented JSON with a final newline."""
    path.write_text(json.dumps(labels, indent=1, ensure_ascii=False) + "\n")
