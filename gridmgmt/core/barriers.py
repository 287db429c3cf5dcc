"""Barriers: the roads, railways and rivers a grid should not straddle.

Trunk and primary roads, motorways, railways and rivers or canals are where
a resident expects a grid to end (a grid across one is hard to patrol
daily). Atoms never span one (they bound street blocks); grouping cuts the
contacts between atoms that run along one, and re-joins them only where a
part of the 社区 between barriers holds too few households for a grid of its
own; such a grid is flagged ``crosses_major_road`` with the length crossed.
"""

from __future__ import annotations

import numpy as np
import shapely

#: road classes that are hard boundaries between grids
HARD_BARRIER_CLASSES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "railway",
        "river",
        "canal",
        "water",
    }
)
#: how far (m) from a barrier's centre line a shared boundary still runs along it
BARRIER_TOLERANCE = 3.0
#: a contact runs along a barrier when at least this share of it does
ALONG_SHARE = 0.5


def hard_barriers(roads_geom, road_class) -> np.ndarray:
    """The lines of ``roads_geom`` whose class is a hard barrier."""
    if roads_geom is None or road_class is None or len(roads_geom) == 0:
        return np.zeros(0, dtype=object)
    keep = np.isin(np.asarray(road_class, dtype=object), list(HARD_BARRIER_CLASSES))
    return np.asarray(roads_geom, dtype=object)[keep]


def barrier_contact(regions, i, j, lines, tolerance: float = BARRIER_TOLERANCE) -> np.ndarray:
    """Length (m) of the boundary shared by regions ``i[k]`` and ``j[k]`` that runs along ``lines``.

    ``regions`` are a clean coverage (neighbours share identical edges).
    Only pairs of regions that both touch a barrier are measured.
    """
    out = np.zeros(len(i))
    if lines is None or len(lines) == 0 or len(i) == 0:
        return out
    regions = np.asarray(regions, dtype=object)
    zone = shapely.union_all(shapely.buffer(np.asarray(lines, dtype=object), tolerance))
    touching = np.zeros(len(regions), bool)
    touching[shapely.STRtree(regions).query(zone, predicate="intersects")] = True
    cand = np.flatnonzero(touching[i] & touching[j])
    if len(cand) == 0:
        return out
    bounds = shapely.boundary(regions)
    shared = shapely.intersection(bounds[i[cand]], bounds[j[cand]])
    shapely.prepare(zone)
    out[cand] = shapely.length(shapely.intersection(shared, zone))
    return out


def cut_at_barriers(n, i, j, w, keep, along, households, nodes, lo):
    """Contacts kept once those along barriers are cut, and the ones re-joined.

    A part of ``nodes`` between barriers with households but fewer than
    ``lo`` is re-joined, smallest first, to the neighbouring part it shares
    most barrier with: the 社区 leaves no other way to give it a grid.

    Returns
    -------
    (ndarray of bool, ndarray of bool)
        Per contact: kept, and re-joined across a barrier.
    """
    from gridmgmt.core.atom_graph import AtomGraph

    crossing = keep & (along > 0) & (along >= ALONG_SHARE * w)
    kept = keep & ~crossing
    rejoined = np.zeros(len(i), bool)
    if not crossing.any():
        return kept, rejoined
    hh = np.asarray(households)
    for _ in range(len(nodes)):
        parts = AtomGraph(n, i[kept], j[kept], w[kept]).components(nodes)
        label = np.full(n, -1)
        for k, p in enumerate(parts):
            label[p] = k
        totals = np.asarray([hh[p].sum() for p in parts])
        joined = False
        for k in np.argsort(totals, kind="stable"):
            if not 0 < totals[k] < lo:
                continue
            li, lj = label[i], label[j]
            edge = crossing & ~kept & (li >= 0) & (lj >= 0) & ((li == k) != (lj == k))
            if not edge.any():
                continue
            other = np.where(li[edge] == k, lj[edge], li[edge])
            best = int(np.argmax(np.bincount(other, weights=along[edge])))
            add = np.zeros(len(i), bool)
            add[np.flatnonzero(edge)[other == best]] = True
            kept |= add
            rejoined |= add
            joined = True
            break
        if not joined:
            break
    return kept, rejoined


def crossed_length(polygons, lines, inset: float = 5.0) -> np.ndarray:
    """Length (m) of barrier lines running through each polygon, more than ``inset`` m inside it."""
    polygons = np.asarray(polygons, dtype=object)
    if lines is None or len(lines) == 0 or len(polygons) == 0:
        return np.zeros(len(polygons))
    lines = shapely.union_all(np.asarray(lines, dtype=object))
    inner = shapely.buffer(polygons, -inset)
    return shapely.length(shapely.intersection(inner, lines))
