"""Dividing a lattice of superblocks into 街道 and 社区: contiguous, compact, any number.

The generator's arterial roads cut the land into an ``nx`` x ``ny`` lattice
of superblocks. :func:`split_cells` cuts a rectangle of that lattice into
rectangles holding given numbers of 社区, halving the list of counts and
cutting across the longer side in proportion, so every piece is a
contiguous rectangle of whole superblocks (its edges follow arterials).
"""

from __future__ import annotations

from math import ceil

Cells = tuple[range, range]  # columns, rows of the lattice


def split_cells(cols: range, rows: range, counts: list[int]) -> list[Cells]:
    """Cut the rectangle ``cols`` x ``rows`` into ``len(counts)`` rectangles, in order.

    Piece ``k`` gets about ``counts[k] / sum(counts)`` of the cells and at
    least ``counts[k]`` of them (so it can be cut further into that many).

    Raises
    ------
    ValueError
        When the rectangle has fewer cells than ``sum(counts)``, or cannot be
        cut so that every piece has enough.
    """
    total = sum(counts)
    if len(cols) * len(rows) < total:
        raise ValueError(
            f"{len(cols) * len(rows)} superblocks cannot hold {total} 社区: raise the households"
        )
    if len(counts) == 1:
        return [(cols, rows)]
    half = len(counts) // 2
    first, second = counts[:half], counts[half:]
    c1, c2 = sum(first), sum(second)
    along_cols = len(cols) >= len(rows)
    for cut_cols in (along_cols, not along_cols):
        length, other = (len(cols), len(rows)) if cut_cols else (len(rows), len(cols))
        lo, hi = ceil(c1 / other), length - ceil(c2 / other)
        if lo > hi or lo < 1 or hi > length - 1:
            continue
        at = min(max(round(length * c1 / total), lo), hi)
        if cut_cols:
            a, b = (cols[:at], rows), (cols[at:], rows)
        else:
            a, b = (cols, rows[:at]), (cols, rows[at:])
        return split_cells(*a, first) + split_cells(*b, second)
    raise ValueError(f"cannot cut {len(cols)} x {len(rows)} superblocks into {total} 社区")


def street_counts(n_communities: int, per_street: int | None) -> list[int]:
    """社区 per 街道: one 街道 for all, or 街道 of ``per_street`` (the last may hold fewer).

    Raises
    ------
    ValueError
        More than 999 社区 in a 街道 or more than 999 街道: the 12-digit
        社区 codes give three digits to each.
    """
    if n_communities < 1:
        raise ValueError("the number of 社区 must be positive")
    per = per_street or n_communities
    if per < 1:
        raise ValueError("社区 per 街道 must be positive")
    counts = [per] * (n_communities // per)
    if n_communities % per:
        counts.append(n_communities % per)
    if max(counts) > 999 or len(counts) > 999:
        raise ValueError(
            f"{n_communities} 社区 need 街道 of at most 999 社区 (and at most 999 街道): "
            "give 社区 per 街道"
        )
    return counts
