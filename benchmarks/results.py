"""The one machine-readable line a benchmark prints per figure, for `make bench`.

A benchmark keeps its own readable output and adds, for every figure worth a row
in the table, one line:

    RESULT {"benchmark": "pipeline", "metric": "events folded end to end",
            "value": 2100.0, "unit": "events/s", "baseline": 21000.0,
            "baseline_label": "plain aiokafka consumer", "ratio": 0.1,
            "better": "higher", "note": "100,000 simulated events"}

`ratio` is always value / baseline (None without a baseline); `better` says
which direction is good, since for durations and latencies it is the lower.
`benchmarks/run_all.py` collects these lines with `parse_line`.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

PREFIX = "RESULT "

Better = Literal["higher", "lower"]


def emit(
    benchmark: str,
    metric: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    baseline_label: str | None = None,
    better: Better = "higher",
    note: str | None = None,
) -> dict[str, Any]:
    """Print one RESULT line and return what it holds."""
    if not math.isfinite(value):
        raise ValueError(f"{benchmark} / {metric}: value {value!r} is not finite")
    ratio = None
    if baseline:
        ratio = value / baseline
    result = {
        "benchmark": benchmark,
        "metric": metric,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_label": baseline_label,
        "ratio": ratio,
        "better": better,
        "note": note,
    }
    print(PREFIX + json.dumps(result), flush=True)
    return result


def parse_line(line: str) -> dict[str, Any] | None:
    """The result a RESULT line holds, or None for any other line."""
    if not line.startswith(PREFIX):
        return None
    try:
        found = json.loads(line[len(PREFIX) :])
    except ValueError:
        return None
    if not isinstance(found, dict) or not {"benchmark", "metric", "value"} <= set(
        found
    ):
        return None
    return found
