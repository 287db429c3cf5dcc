"""Barrier moves: atoms go back to their side of a major road where the household band allows.

Grouping cuts the contacts along motorways, trunk and primary roads,
railways and rivers, but a part between barriers is often connected around
the end of one (a primary road that stops at a junction, a railway leaving
the map): bisection may then cut the part so that a grid reaches around the
end and holds atoms on both sides of the road. :func:`pull_back` moves such
atoms, one at a time, to a neighbouring grid on their own side (a contact
not along a barrier), when

- it shortens the barrier contact inside grids (the length of barrier with
  the same grid on both sides),
- both grids stay in the band (or a grid out of band comes no further
  from it), and
- the grid left stays in one piece and keeps households.

Only residential grids give or take atoms; a 单位网格 keeps its enclosure.
"""

from __future__ import annotations

import numpy as np

from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.boundary_smoothing import group_labels


def _distance(total: float, lo: int, hi: int) -> float:
    """How far a household total lies outside the band (0 inside)."""
    return max(0.0, lo - total, total - hi)


def pull_back(
    groups: list[np.ndarray],
    kinds: list[str],
    households: np.ndarray,
    graph: AtomGraph,
    across: np.ndarray,
    same_side: np.ndarray,
    band: tuple[int, int],
    *,
    max_rounds: int = 10,
) -> list[np.ndarray]:
    """Move atoms off grids that hold them across a barrier (see the module docstring).

    Parameters
    ----------
    groups : list of ndarray
        Atom (region) indices per grid.
    kinds : list of str
        ``"residential"`` or ``"unit"`` per grid.
    households : ndarray
        Households per atom.
    graph : AtomGraph
        Adjacency of all atoms; grids must stay connected in it.
    across : ndarray of float
        Per edge of ``graph``: the length of the contact that runs along a
        barrier (0 for the others).
    same_side : ndarray of bool
        Per edge of ``graph``: whether an atom may join the grid at the
        other end through it (not along a barrier, not across a zone).
    band : (int, int)
        The household band (inclusive).

    Returns
    -------
    list of ndarray
        The groups after the moves (sorted), in the same order.
    """
    lo, hi = band
    hh = np.asarray(households)
    label = group_labels(groups, graph.n)
    movable = np.asarray([k == "residential" for k in kinds] + [False], dtype=bool)
    total = np.asarray([hh[g].sum() for g in groups] + [0], dtype=float)
    barrier = across > 0
    bi, bj, blen = graph.i[barrier], graph.j[barrier], across[barrier]
    if len(bi) == 0:
        return groups
    si, sj, sw = graph.i[same_side], graph.j[same_side], graph.w[same_side]
    for _ in range(max_rounds):
        inside = (label[bi] == label[bj]) & (label[bi] >= 0) & movable[label[bi]]
        candidates = np.unique(np.concatenate([bi[inside], bj[inside]]))
        moved = 0
        for a in candidates.tolist():
            g = label[a]
            touching = (bi == a) | (bj == a)
            other = np.where(bi[touching] == a, bj[touching], bi[touching])
            lengths = blen[touching]
            held = lengths[label[other] == g].sum()
            if held <= 0:
                continue
            near = (si == a) | (sj == a)
            nbr = np.where(si[near] == a, sj[near], si[near])
            theirs = label[nbr]
            ok = (theirs >= 0) & (theirs != g)
            ok[ok] = movable[theirs[ok]]
            if not ok.any():
                continue
            shared = np.bincount(theirs[ok], weights=sw[near][ok], minlength=len(groups))
            for h in np.argsort(-shared, kind="stable").tolist():
                if shared[h] <= 0:
                    break
                if lengths[label[other] == h].sum() >= held:
                    continue  # no shorter barrier contact inside grids
                if not _band_allows(total[g], total[h], hh[a], lo, hi):
                    continue
                rest = np.flatnonzero(label == g)
                rest = rest[rest != a]
                if len(rest) == 0 or hh[rest].sum() == 0 or not graph.connected(rest):
                    continue
                label[a] = h
                total[g] -= hh[a]
                total[h] += hh[a]
                moved += 1
                break
        if not moved:
            break
    return [np.flatnonzero(label == g) for g in range(len(groups))]


def _band_allows(giver: float, taker: float, moved: float, lo: int, hi: int) -> bool:
    """Whether moving ``moved`` households leaves neither grid further from the band."""
    return _distance(giver - moved, lo, hi) <= _distance(giver, lo, hi) and _distance(
        taker + moved, lo, hi
    ) <= _distance(taker, lo, hi)
