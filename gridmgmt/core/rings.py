"""Ring grids opened: a grid wrapped all around others gives them a way out.

Bisection and the moves after it balance households; the household-free
regions (empty land, road corridors, offices) are carried along wherever
the cuts fall, and a grid can end up as a ring around a whole compound that
became a grid of its own. No office accepts a grid enclosed by another.
:func:`open_rings` finds, for each grid ``A`` that encloses grids (they
touch no other grid and not the outline), the cheapest chain of ``A``'s
household-free regions from an enclosed residential grid ``B`` to a third
grid or the outline, and gives that chain to ``B``. No household changes
grid, so no grid leaves the band; ``A`` stays in one piece (a ring cut once
is an arc) or the chain is not taken.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra

from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.boundary_smoothing import group_labels

#: chains tried per enclosed grid before giving up on it (the cheapest may cut ``A`` apart)
CHAIN_TRIES = 6


def group_contacts(
    label: np.ndarray, graph: AtomGraph, on_outline: np.ndarray
) -> tuple[np.ndarray, int]:
    """Pairs of groups sharing boundary, and the node standing for the outline.

    Parameters
    ----------
    label : ndarray
        The group of each region (-1 for none).
    graph : AtomGraph
        Adjacency of all regions.
    on_outline : ndarray of bool
        Whether each region touches the outline of the area partitioned.

    Returns
    -------
    (ndarray (k, 2), int)
        Each pair once, smaller group first; the outline's node
        (``label.max() + 1``), paired with every group touching it.
    """
    a, b = label[graph.i], label[graph.j]
    keep = (a >= 0) & (b >= 0) & (a != b)
    outer = int(label.max()) + 1
    on_edge = np.unique(label[on_outline & (label >= 0)])
    pairs = np.vstack(
        [
            np.sort(np.column_stack([a[keep], b[keep]]), axis=1),
            np.column_stack([on_edge, np.full(len(on_edge), outer)]),
        ]
    )
    return (np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)), outer


def articulation_points(contacts: np.ndarray) -> set[int]:
    """The groups whose removal leaves the contact graph in more pieces (Hopcroft–Tarjan).

    Parameters
    ----------
    contacts : ndarray (k, 2)
        Pairs of groups, as :func:`group_contacts` gives them.

    Returns
    -------
    set of int
    """
    if len(contacts) == 0:
        return set()
    n = int(contacts.max()) + 1
    ends = np.concatenate([contacts, contacts[:, ::-1]])
    order = np.lexsort((ends[:, 1], ends[:, 0]))
    ends = ends[order]
    start = np.searchsorted(ends[:, 0], np.arange(n + 1))
    nbrs = ends[:, 1].tolist()
    first = start.tolist()
    depth = [-1] * n
    low = [0] * n
    cut: set[int] = set()
    for root in range(n):
        if depth[root] >= 0 or first[root] == first[root + 1]:
            continue
        depth[root] = low[root] = 0
        children = 0
        stack = [(root, -1, first[root])]  # node, parent, next edge to look at
        while stack:
            v, parent, k = stack[-1]
            if k < first[v + 1]:
                stack[-1] = (v, parent, k + 1)
                w = nbrs[k]
                if depth[w] < 0:
                    depth[w] = low[w] = depth[v] + 1
                    stack.append((w, v, first[w]))
                    children += v == root
                elif w != parent:
                    low[v] = min(low[v], depth[w])
                continue
            stack.pop()
            if parent >= 0:
                low[parent] = min(low[parent], low[v])
                if parent != root and low[v] >= depth[parent]:
                    cut.add(parent)
        if children > 1:
            cut.add(root)
    return cut


def enclosed_by(g: int, contacts: np.ndarray, outer: int) -> list[np.ndarray]:
    """The sets of groups ``g`` encloses: those cut off from the outline without ``g``.

    Parameters
    ----------
    g : int
        The group that may be a ring.
    contacts : ndarray (k, 2)
        Pairs of groups from :func:`group_contacts`.
    outer : int
        The outline's node (:func:`group_contacts`).

    Returns
    -------
    list of ndarray
        The groups of each enclosed set (empty when ``g`` is no ring).
    """
    if len(contacts) == 0:
        return []
    touching = np.unique(contacts[(contacts == g).any(axis=1)])
    rest = contacts[(contacts != g).all(axis=1)]
    m = sparse.coo_matrix(
        (np.ones(len(rest)), (rest[:, 0], rest[:, 1])), shape=(outer + 1, outer + 1)
    )
    _, comp = connected_components(m, directed=False)
    held = {int(comp[t]) for t in touching if t != g} - {int(comp[outer])}
    return [np.flatnonzero(comp == k) for k in sorted(held)]


def open_rings(
    groups: list[np.ndarray],
    kinds: list[str],
    households: np.ndarray,
    graph: AtomGraph,
    on_outline: np.ndarray,
    areas: np.ndarray,
) -> list[np.ndarray]:
    """Cut every residential ring grid open by giving a household-free chain to a grid inside it.

    Parameters
    ----------
    groups : list of ndarray
        Region indices per grid.
    kinds : list of str
        ``"residential"`` or ``"unit"`` per group; only residential rings
        give regions, only residential grids inside take them.
    households : ndarray
        Households per region.
    graph : AtomGraph
        Adjacency of all regions (contiguity, not barriers, decides here).
    on_outline : ndarray of bool
        Whether each region touches the outline of the area partitioned.
    areas : ndarray
        Area per region: the chain of least area is taken.

    Returns
    -------
    list of ndarray
        The groups after the chains moved (sorted indices), in the same order;
        ``groups`` itself when no ring was opened.
    """
    label = group_labels(groups, graph.n)
    hh = np.asarray(households)
    changed = False
    contacts, outer = group_contacts(label, graph, on_outline)
    # only a group whose removal cuts the contact graph apart can enclose others
    cut_vertices = articulation_points(contacts)
    for g, kind in enumerate(kinds):
        if kind != "residential" or g not in cut_vertices:
            continue
        for inside in enclosed_by(g, contacts, outer):
            for b in (b for b in inside if kinds[b] == "residential"):
                chain = _cheapest_chain(label, g, b, inside, hh, graph, on_outline, areas)
                if chain is not None:
                    label[chain] = b
                    changed = True
                    contacts, outer = group_contacts(label, graph, on_outline)
                    break
    if not changed:
        return groups
    return [np.flatnonzero(label == g) for g in range(len(groups))]


def _cheapest_chain(label, g, b, inside, hh, graph: AtomGraph, on_outline, areas):
    """Household-free regions of ``g`` leading from ``b`` out of the ring, or None.

    ``inside`` are the groups the ring holds (``b`` among them): the chain ends
    next to another group or on the outline.
    """
    own = np.flatnonzero(label == g)
    free = own[hh[own] == 0]
    if len(free) == 0:
        return None
    is_free = np.zeros(graph.n, bool)
    is_free[free] = True
    rows, cols, _ = graph.incident(free)
    touches_b = np.unique(rows[label[cols] == b])
    other = (label[cols] >= 0) & (label[cols] != g) & ~np.isin(label[cols], inside)
    exits = np.union1d(np.unique(rows[other]), free[on_outline[free]])
    if len(touches_b) == 0 or len(exits) == 0:
        return None
    # entering a region costs its area: the thinnest way out wins (from an extra node
    # ``n`` that enters each region next to ``b``)
    keep = is_free[rows] & is_free[cols]
    n = graph.n
    r = np.concatenate([rows[keep], np.full(len(touches_b), n)])
    c = np.concatenate([cols[keep], touches_b])
    cost = sparse.csr_matrix((areas[c] + 1e-6, (r, c)), shape=(n + 1, n + 1))
    dist, pred = dijkstra(cost, directed=True, indices=n, return_predecessors=True)
    reached = exits[np.isfinite(dist[exits])]
    for end in reached[np.argsort(dist[reached], kind="stable")][:CHAIN_TRIES]:
        chain = [int(end)]
        while pred[chain[-1]] != n:
            chain.append(int(pred[chain[-1]]))
        chain = np.asarray(chain)
        left = np.setdiff1d(own, chain)
        if len(left) and hh[left].sum() > 0 and graph.connected(left):
            return chain
    return None
