"""What the machine running the tests offers: the repository, real data, CI mode.

Tests that need PostGIS, a browser or ``../shared/realdata`` skip with a
reason on a machine without them; under ``CI=true`` such a skip is a
failure instead (:func:`require`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, reason: str) -> None:
    """Skip the test with ``reason`` unless available; under CI=true, fail."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)
