"""Formatting shared by the terminal and HTML renderers: numbers, times, safe text."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from ledger.report.model import CATEGORIES, HourlyCount

CATEGORY_NAMES = {"user": "humans", "agent": "agents", "hybrid": "hybrids"}


def category_name(category: str) -> str:
    """`user` as "humans", and so on; unknown categories as they are."""
    return CATEGORY_NAMES.get(category, category or "(none)")


def printable(value: object, width: int | None = None) -> str:
    """Text with control, format and unassigned characters escaped, on one line.

    Strings from the data may hold terminal escapes or bidirectional overrides;
    shown raw, they could rewrite the screen or reorder what the reader sees.
    """
    text = str(value)
    shown = "".join(
        char
        if unicodedata.category(char)[0] != "C"
        else (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
        for char in text
    )
    if width is not None and len(shown) > width:
        return shown[: width - 1] + "…"
    return shown


def count(value: int | None) -> str:
    """An integer with thousands separators; "unknown" for None."""
    return "unknown" if value is None else f"{value:,}"


def share(value: float | None) -> str:
    """A fraction as a percentage with one decimal; "-" for None."""
    return "-" if value is None else f"{value * 100:.1f} %"


def moment(value: datetime | None) -> str:
    """A UTC time to the minute; "-" for None."""
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def duration(value: timedelta | None) -> str:
    """A duration in the two largest units: "3d 4h", "9h 12m", "45m"."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def hour_of_day_profile(hourly: Iterable[HourlyCount]) -> dict[str, list[int]]:
    """Events per hour of day (0-23, UTC) for each category with any."""
    totals: dict[str, Counter[int]] = {}
    for entry in hourly:
        totals.setdefault(entry.category, Counter())[entry.hour.hour] += entry.events
    ordered = [c for c in CATEGORIES if c in totals] + sorted(
        c for c in totals if c not in CATEGORIES
    )
    return {c: [totals[c][hour] for hour in range(24)] for c in ordered}
