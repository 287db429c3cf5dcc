"""Shorter grid boundaries for free: regions without households go to the grid nearest to them.

Bisection balances households; regions holding none (offices, shops, empty
blocks, road corridors) are carried along wherever the cut falls, and a
grid can end up wrapping around a campus through a chain of them. Moving
such a region to the neighbouring grid with which it shares the longest
boundary changes no household count, so no grid leaves the band, and
shortens the total boundary between grids by the difference: repeated until
no move is left, it ends. A move that would split the grid it leaves is not
made, and only residential grids take part (a 单位网格 keeps its enclosure).

Local moves cannot undo a chain of such regions (each borders its own grid
most); :func:`regrow_household_free` first hands every household-free
region to the grid whose households are nearest along the adjacency, and
is kept only where every grid stays in one piece.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from gridmgmt.core.atom_graph import AtomGraph

#: a move must shorten the boundary by at least this many metres
MIN_GAIN_M = 1.0


def smooth_boundaries(
    groups: list[np.ndarray],
    kinds: list[str],
    households: np.ndarray,
    graph: AtomGraph,
    *,
    max_rounds: int = 20,
) -> list[np.ndarray]:
    """Move household-free regions between residential grids to shorten their boundaries.

    Parameters
    ----------
    groups : list of ndarray
        Region indices per grid (a partition of the graph's nodes that are
        in some group).
    kinds : list of str
        ``"residential"`` or ``"unit"`` per group; only residential groups
        give or take regions.
    households : ndarray
        Households per region.
    graph : AtomGraph
        Region adjacency weighted by the length of the shared boundary; pass
        a graph without the contacts a grid must not use (along barriers).
    max_rounds : int
        Upper bound on sweeps over the candidate regions.

    Returns
    -------
    list of ndarray
        The groups after the moves (sorted indices), in the same order.
    """
    label = np.full(graph.n, -1)
    for g, nodes in enumerate(groups):
        label[nodes] = g
    movable_group = np.asarray([k == "residential" for k in kinds] + [False], dtype=bool)
    candidates = np.flatnonzero((np.asarray(households) == 0) & (label >= 0))
    candidates = candidates[movable_group[label[candidates]]]
    indptr, indices, weights = graph.csr.indptr, graph.csr.indices, graph.csr.data
    members = [set(map(int, nodes)) for nodes in groups]
    for _ in range(max_rounds):
        moved = 0
        for v in candidates:
            own = label[v]
            nbrs = indices[indptr[v] : indptr[v + 1]]
            w = weights[indptr[v] : indptr[v + 1]]
            theirs = label[nbrs]
            ok = theirs >= 0
            if not ok.any():
                continue
            shared = np.bincount(theirs[ok], weights=w[ok], minlength=len(groups))
            shared[~movable_group[: len(groups)]] = 0.0
            best = int(np.argmax(shared))
            if best == own or shared[best] < shared[own] + MIN_GAIN_M:
                continue
            rest = np.fromiter(members[own] - {int(v)}, dtype=int)
            if len(rest) == 0 or households[rest].sum() == 0 or not graph.connected(rest):
                continue
            members[own].discard(int(v))
            members[best].add(int(v))
            label[v] = best
            moved += 1
        if not moved:
            break
    return [np.asarray(sorted(m), dtype=int) for m in members]


def regrow_household_free(
    groups: list[np.ndarray],
    kinds: list[str],
    households: np.ndarray,
    graph: AtomGraph,
    xy: np.ndarray,
) -> list[np.ndarray]:
    """Give every household-free region of the residential grids to the nearest grid's households.

    Each residential grid keeps its regions with households; the others go
    to the grid whose households are nearest, measured along the adjacency
    (distances between region centres), so each lies on a shortest path to
    its grid and the grid stays in one piece. A grid whose households are
    not connected without its household-free regions keeps them all.
    Household counts do not change.

    Parameters
    ----------
    groups, kinds, households, graph
        As for :func:`smooth_boundaries`.
    xy : ndarray (n, 2)
        A centre per region.

    Returns
    -------
    list of ndarray
        The regrown groups, or ``groups`` unchanged when regrowing would
        leave some grid in pieces or some region unreached.
    """
    residential = [g for g, k in enumerate(kinds) if k == "residential"]
    if len(residential) < 2:
        return groups
    hh = np.asarray(households)
    label = np.full(graph.n, -1)
    for g in residential:
        label[groups[g]] = g
    free = (label >= 0) & (hh == 0)
    # a grid whose households are not connected by themselves keeps its
    # household-free regions (some of them join its parts)
    for g in residential:
        cores_g = groups[g][hh[groups[g]] > 0]
        if not graph.connected(cores_g):
            free[groups[g]] = False
    sources = np.flatnonzero((label >= 0) & ~free)
    if not free.any() or not len(sources):
        return groups
    inside = label >= 0
    keep = inside[graph.i] & inside[graph.j]
    i, j = graph.i[keep], graph.j[keep]
    length = np.hypot(*(xy[i] - xy[j]).T) + 1e-6
    csgraph = sparse.csr_matrix((length, (i, j)), shape=(graph.n, graph.n))
    _, _, nearest = dijkstra(
        csgraph, directed=False, indices=sources, min_only=True, return_predecessors=True
    )
    new_label = label.copy()
    reached = free & (nearest >= 0)  # the others stay where they are
    new_label[reached] = label[nearest[reached]]
    regrown = list(groups)
    for g in residential:
        nodes = np.flatnonzero(new_label == g)
        if not graph.connected(nodes):  # ties in distance can break the tree; keep what was
            return groups
        regrown[g] = nodes
    return regrown


def group_labels(groups: list[np.ndarray], n: int) -> np.ndarray:
    """The group of each of ``n`` regions (-1 for none)."""
    label = np.full(n, -1)
    for g, nodes in enumerate(groups):
        label[nodes] = g
    return label


def cut_length(groups: list[np.ndarray], graph: AtomGraph) -> float:
    """Total length of boundary shared by regions of different groups."""
    label = group_labels(groups, graph.n)
    return float(graph.w[label[graph.i] != label[graph.j]].sum())


def enclosed_count(groups: list[np.ndarray], graph: AtomGraph, on_outline: np.ndarray) -> int:
    """How many groups touch only one other group and not the outline: islands inside a ring.

    Parameters
    ----------
    groups : list of ndarray
    graph : AtomGraph
        Adjacency of all regions.
    on_outline : ndarray of bool
        Whether each region touches the outline of the area partitioned.
    """
    label = group_labels(groups, graph.n)
    count = 0
    for g, nodes in enumerate(groups):
        if len(nodes) == 0 or on_outline[nodes].any():
            continue
        rows, cols, _ = graph.incident(np.asarray(nodes))
        around = set(label[cols][label[cols] != g].tolist())
        count += len(around) == 1
    return count
