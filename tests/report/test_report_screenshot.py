"""The HTML report renders in a real browser: a headless Chromium screenshot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from png_pixels import read_png

from ledger.report.html import COLOURS, render_html
from ledger.report.model import AssessmentReport

WIDTH, HEIGHT = 1280, 2000


def chromium() -> str:
    """The browser, or a failed test naming the package to install."""
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "chromium is not installed: `apt-get install chromium` (Debian's "
            "package); scripts/run-tests installs it when run as root",
            pytrace=False,
        )
    return found


def screenshot(page: Path, shot: Path, profile: Path) -> None:
    """Render `page` to `shot` with a fresh profile and no network."""
    finished = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            f"--window-size={WIDTH},{HEIGHT}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert shot.exists(), (
        f"chromium exited {finished.returncode} without a screenshot:\n"
        + finished.stderr.decode(errors="replace")[-2000:]
    )


def test_report_html_screenshot_shows_the_charts(
    sample_report: AssessmentReport, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_report), encoding="utf-8")
    shot = tmp_path / "report.png"

    screenshot(page, shot, tmp_path / "profile")

    pixels = read_png(shot)
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 100, "the page looks blank: too few distinct colours"
    not_white = np.any(pixels < 240, axis=2).mean()
    assert not_white > 0.02, f"only {not_white:.1%} of the page is not white"
    # Each category's chart colour was painted, so the inline SVG rendered.
    for category, hex_colour in COLOURS.items():
        rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
        painted = np.all(pixels == rgb, axis=2).sum()
        assert painted > 50, f"{category}'s colour {hex_colour} is not on the page"
