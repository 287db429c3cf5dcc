"""Grid flags: why a grid needs a supervisor's look, as comma-separated codes.

A grid may carry several (``out_of_band,crosses_major_road``); these helpers
join, test and count them so no caller compares the whole string.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

#: flags saying why a residential grid may lie outside the band: a change of
#: households does not add ``out_of_band`` to them
BAND_EXEMPT = frozenset({"indivisible_building", "part_below_min", "community_below_min"})


def split_flags(flag) -> list[str]:
    """The codes in one flag value (None, NaN and "" hold none)."""
    if not isinstance(flag, str) or not flag:
        return []
    return [code for code in flag.split(",") if code]


def join_flags(*flags) -> str | None:
    """One flag value holding every code of ``flags`` once, in order; None if there is none."""
    codes: list[str] = []
    for flag in flags:
        codes.extend(code for code in split_flags(flag) if code not in codes)
    return ",".join(codes) or None


def has_flag(flag, code: str) -> bool:
    """Whether the flag value carries ``code``."""
    return code in split_flags(flag)


def count_flags(flags: Iterable) -> dict[str, int]:
    """How many grids carry each code."""
    return dict(Counter(code for flag in flags for code in split_flags(flag)))
