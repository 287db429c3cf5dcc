"""Regions no grid took: household-free voids and slivers, given to a neighbouring grid.

Grouping cuts the residential atoms into grids; what holds no households
(empty blocks, road corridors, leftovers of unit enclosures) is then
attached to the grid it borders most (:func:`attach_voids`, along the atom
graph). A sliver whose every contact is shorter than the graph's minimum
(a triangle of a few decimetres where cut shares almost meet) has no edge
in that graph; :func:`attach_strays` gives it to the grid it touches most,
by geometry, so the grids still tile the area without a hole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.boundary_smoothing import group_labels


def attach_voids(voids, groups, graph: AtomGraph) -> None:
    """Give regions without households to the neighbouring grid with the longest shared boundary.

    Parameters
    ----------
    voids : iterable of ndarray
        Parts of regions without households that no group holds yet.
    groups : list of ndarray
        Region indices per grid; extended in place.
    graph : AtomGraph
        Region adjacency weighted by shared length; voids reached only through
        other voids are placed in later rounds.
    """
    label = group_labels(groups, graph.n)
    pending = [int(v) for part in voids for v in part if label[v] < 0]
    for _ in range(len(pending) + 1):
        if not pending:
            break
        still = []
        for v in pending:
            e = (graph.i == v) | (graph.j == v)
            other = np.where(graph.i[e] == v, graph.j[e], graph.i[e])
            lengths = graph.w[e]
            ok = label[other] >= 0
            if ok.any():
                by_grid = pd.Series(lengths[ok]).groupby(label[other][ok]).sum()
                label[v] = int(by_grid.idxmax())
            else:
                still.append(v)
        if len(still) == len(pending):
            break
        pending = still
    for g in range(len(groups)):
        groups[g] = np.flatnonzero(label == g)


def attach_strays(groups: list[np.ndarray], regions: np.ndarray) -> None:
    """Give each region in no group to the group it shares most boundary with (in place).

    Parameters
    ----------
    groups : list of ndarray
        Region indices per grid; extended in place.
    regions : ndarray of Polygon
        All regions (metric CRS).
    """
    regions = np.asarray(regions, dtype=object)
    label = group_labels(groups, len(regions))
    stray = np.flatnonzero((label < 0) & (shapely.area(regions) > 0))
    if len(stray) == 0:
        return
    tree = shapely.STRtree(regions)
    for _ in range(len(stray)):  # a stray may touch only strays until they are placed
        left = []
        for v in stray:
            near = tree.query(regions[v], predicate="intersects")
            near = near[label[near] >= 0]
            if len(near) == 0:
                left.append(v)
                continue
            shared = shapely.length(
                shapely.intersection(shapely.boundary(regions[near]), regions[v].boundary)
            )
            label[v] = label[near[int(np.argmax(shared))]]
        if len(left) in (0, len(stray)):
            break
        stray = np.asarray(left)
    for g in range(len(groups)):
        groups[g] = np.flatnonzero(label == g)
