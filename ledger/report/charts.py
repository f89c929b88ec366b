"""Inline SVG charts drawn in Python: lines, stacked bars and paired bars.

Each function returns an `<svg>` element as text, with every label escaped, no
external reference and no script, for pasting into a self-contained page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 960
HEIGHT = 300
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 48

FALLBACK_COLOUR = "#6b7280"


@dataclass(frozen=True)
class Series:
    """One named, coloured sequence of values, one per bucket."""

    name: str
    colour: str
    values: Sequence[float]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _frame(
    title: str, y_top: float, y_unit: str, plot_width: int, plot_height: int
) -> list[str]:
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}">',
        f"<title>{escape(title)}</title>",
    ]
    for step in range(5):
        value = y_top * step / 4
        y = MARGIN_TOP + plot_height - plot_height * step / 4
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{MARGIN_LEFT + plot_width}" '
            f'y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" class="tick" '
            f'text-anchor="end">{escape(_number(value) + y_unit)}</text>'
        )
    return parts


def _x_labels(
    labels: Sequence[str], plot_width: int, plot_height: int, every: int
) -> list[str]:
    parts = []
    slot = plot_width / max(len(labels), 1)
    for index, label in enumerate(labels):
        if index % every or not label:
            continue
        x = MARGIN_LEFT + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{MARGIN_TOP + plot_height + 18}" class="tick" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    x = MARGIN_LEFT
    y = HEIGHT - 12
    for entry in series:
        parts.append(
            f'<rect x="{x}" y="{y - 9}" width="12" height="12" '
            f'fill="{escape(entry.colour)}"/>'
        )
        parts.append(f'<text x="{x + 18}" y="{y + 1}" class="legend">')
        parts.append(f"{escape(entry.name)}</text>")
        x += 26 + 8 * len(entry.name) + 16
    return parts


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label_every: int = 1,
    y_unit: str = "",
) -> str:
    """Lines over shared buckets, one per series, on a common y axis from zero."""
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    parts = _frame(title, top, y_unit, plot_width, plot_height)
    slot = plot_width / max(len(labels), 1)
    for entry in series:
        points = " ".join(
            f"{MARGIN_LEFT + slot * (i + 0.5):.1f},"
            f"{MARGIN_TOP + plot_height - plot_height * value / top:.1f}"
            for i, value in enumerate(entry.values)
        )
        parts.append(
            f'<polyline fill="none" stroke="{escape(entry.colour)}" '
            f'stroke-width="2" points="{points}"><title>{escape(entry.name)}'
            "</title></polyline>"
        )
    parts += _x_labels(labels, plot_width, plot_height, label_every)
    parts += _legend(series)
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label_every: int = 1,
) -> str:
    """One bar per bucket, its series stacked bottom to top."""
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    parts = _frame(title, top, "", plot_width, plot_height)
    slot = plot_width / max(len(labels), 1)
    bar = max(slot * 0.8, 1.0)
    for index, label in enumerate(labels):
        base = 0.0
        x = MARGIN_LEFT + slot * index + (slot - bar) / 2
        for entry in series:
            value = entry.values[index]
            if value <= 0:
                continue
            height = plot_height * value / top
            y = MARGIN_TOP + plot_height - plot_height * base / top - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{escape(entry.colour)}">'
                f"<title>{escape(f'{label}: {value:g} {entry.name}')}</title></rect>"
            )
            base += value
    parts += _x_labels(labels, plot_width, plot_height, label_every)
    parts += _legend(series)
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(title: str, groups: Sequence[str], series: Sequence[Series]) -> str:
    """Horizontal bars: for each group, one bar per series, on one x axis."""
    row = 22
    gap = 18
    label_width = 120
    height = MARGIN_TOP + len(groups) * (len(series) * row + gap) + 40
    plot_width = WIDTH - label_width - MARGIN_RIGHT - 80
    top = nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}">',
        f"<title>{escape(title)}</title>",
    ]
    y = MARGIN_TOP
    for index, group in enumerate(groups):
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row * len(series) / 2 + 4:.1f}" '
            f'class="legend" text-anchor="end">{escape(group)}</text>'
        )
        for entry in series:
            value = entry.values[index]
            length = plot_width * value / top
            parts.append(
                f'<rect x="{label_width}" y="{y + 2}" width="{max(length, 1):.1f}" '
                f'height="{row - 4}" fill="{escape(entry.colour)}"/>'
            )
            parts.append(
                f'<text x="{label_width + max(length, 1) + 6:.1f}" y="{y + row - 7}" '
                f'class="tick">{escape(f"{value:,.0f} {entry.name}")}</text>'
            )
            y += row
        y += gap
    legend_y = height - 12
    x = label_width
    for entry in series:
        parts.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="12" height="12" '
            f'fill="{escape(entry.colour)}"/>'
            f'<text x="{x + 18}" y="{legend_y + 1}" class="legend">'
            f"{escape(entry.name)}</text>"
        )
        x += 26 + 8 * len(entry.name) + 16
    parts.append("</svg>")
    return "".join(parts)
