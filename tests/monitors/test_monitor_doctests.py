"""The runnable examples in the monitors' docstrings give exactly what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import monitors

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(monitors.__path__, "monitors.")
    if info.name != "monitors.worker"  # Faust wiring: tested on the broker
)


def test_doctests_cover_the_main_detectors() -> None:
    assert {
        "monitors.detectors.human",
        "monitors.detectors.agent",
        "monitors.detectors.hybrid",
        "monitors.detectors.identity",
        "monitors.detectors.learned",
    } <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests_of_module_pass(name: str) -> None:
    results = doctest.testmod(importlib.import_module(name), verbose=False)
    assert results.failed == 0, f"{results.failed} examples of {name} failed"
