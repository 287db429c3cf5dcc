"""Grid codes (DB11/T 2157-2023 style).

A 15-digit grid code is the 6-digit district code (GB/T 2260), the 3-digit
街道 code, the 3-digit 社区 code and a 3-digit sequence within the 社区.
Sequences are numbered west→east, north→south: grids are put in rows from
north to south, a row being a band as tall as a typical grid (the square
root of the median grid area), and numbered west to east within a row.
"""

from __future__ import annotations

import re

import numpy as np

CODE_LENGTH = 15
PREFIX_LENGTH = 12
_CODE = re.compile(r"^\d{15}$")


def validate_prefix(prefix: str) -> str:
    """A 12-digit 社区 code prefix, or ``ValueError``."""
    prefix = str(prefix)
    if not (prefix.isdigit() and len(prefix) == PREFIX_LENGTH):
        raise ValueError(
            f"code prefix must be 12 digits (district 6 + 街道 3 + 社区 3), got {prefix!r}"
        )
    return prefix


def format_code(prefix: str, sequence: int) -> str:
    """``prefix`` + 3-digit ``sequence`` (1..999)."""
    if not 1 <= sequence <= 999:
        raise ValueError(f"grid sequence must be 1..999, got {sequence}")
    return f"{validate_prefix(prefix)}{sequence:03d}"


def parse_code(code: str) -> dict[str, str]:
    """Split a 15-digit code into district, street, community and sequence."""
    if not _CODE.match(str(code)):
        raise ValueError(f"a grid code has 15 digits, got {code!r}")
    return {"district": code[:6], "street": code[:9], "community": code[:12], "sequence": code[12:]}


def reading_order(x: np.ndarray, y: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Indices ordering points north→south by row, west→east within a row.

    ``x``/``y`` are centroids in a metric CRS (y grows northwards); ``areas``
    the grid areas, whose median sets the row height.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) == 0:
        return np.zeros(0, dtype=int)
    band = max(float(np.sqrt(np.median(areas))), 1.0)
    row = np.floor((y.max() - y) / band).astype(int)
    return np.lexsort((x, row))


def assign_codes(prefix: str | None, x, y, areas, *, start: int = 1) -> list[str]:
    """Codes for grids with centroids ``(x, y)``, numbered in :func:`reading_order`.

    With ``prefix=None`` (experiments on areas larger than a 社区, such as
    benchmarks) the codes are bare 6-digit sequence numbers, which the store
    does not accept. A 社区 holds at most 999 grids.
    """
    order = reading_order(x, y, areas)
    if prefix is not None and len(order) + start - 1 > 999:
        raise ValueError(
            f"{len(order)} grids do not fit the 3-digit sequence of one 社区; partition each 社区 separately"
        )
    codes = [""] * len(order)
    for seq, i in enumerate(order, start=start):
        codes[i] = format_code(prefix, seq) if prefix is not None else f"{seq:06d}"
    return codes
