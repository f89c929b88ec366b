"""One simulated week, generated once for the package."""

from __future__ import annotations

import pytest
from simulated_week import Week, generate_week


@pytest.fixture(scope="package")
def week() -> Week:
    """The WEEK scenario generated in-process, its valid records parsed back."""
    return generate_week()
