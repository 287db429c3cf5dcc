"""Shared helpers for the benchmark scripts (not part of the package)."""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"
sys.path.insert(0, str(REPO))


def timed(func, *args, **kwargs):
    """(result, seconds) of one call, after a garbage collection (so no method pays for
    the garbage an earlier one left)."""
    gc.collect()
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain text table."""
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines.append("  ".join("-" * widths[c] for c in columns))
    lines.extend("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows)
    return "\n".join(lines)
