"""Barriers: the roads, railways and rivers a grid should not straddle.

Trunk and primary roads, motorways, railways and rivers or canals are where
a resident expects a grid to end (a grid across one is hard to patrol
daily). Atoms never span one (they bound street blocks); grouping cuts the
contacts between atoms that run along one, and re-joins them only where a
part of the 社区 between barriers holds too few households for a grid of its
own; such a grid is flagged ``crosses_major_road`` with the length crossed.

Secondary roads are preferred boundaries, not hard ones: grouping weighs a
contact along one at :data:`PREFERRED_WEIGHT` of its length where it chooses
cuts (:func:`preferred_lines`).
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
#: road classes grids should rather end at than cross (preferred boundaries)
PREFERRED_BOUNDARY_CLASSES = frozenset({"secondary", "secondary_link"})
#: a contact along a preferred boundary counts this share of its length when
#: grouping weighs where to cut: a cut along a secondary road is that much cheaper
PREFERRED_WEIGHT = 0.4
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


def preferred_lines(roads_geom, road_class) -> np.ndarray:
    """The lines of ``roads_geom`` whose class is a preferred boundary (secondary roads)."""
    if roads_geom is None or road_class is None or len(roads_geom) == 0:
        return np.zeros(0, dtype=object)
    keep = np.isin(np.asarray(road_class, dtype=object), list(PREFERRED_BOUNDARY_CLASSES))
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


#: how far (m) on each side of a barrier a grid must hold land for it to straddle the barrier
STRADDLE_DEPTH_M = 50.0
#: share of that depth, on both sides, that the grid must hold
STRADDLE_SHARE = 0.7
#: length (m) of the pieces a barrier is measured in
STRADDLE_STEP_M = 10.0


def straddled_length(
    polygons,
    lines,
    *,
    depth: float = STRADDLE_DEPTH_M,
    share: float = STRADDLE_SHARE,
    step: float = STRADDLE_STEP_M,
    inset: float = 1.0,
    outline=None,
    buildings=None,
) -> np.ndarray:
    """Length (m) of barrier lines along which each polygon holds land on both sides.

    A grid that holds the median of a dual carriageway, an island of an
    interchange or the strip between a road and the 社区 outline has a
    barrier line inside it, but does not straddle the road: nobody lives
    across it. The barrier lines more than ``inset`` m inside a polygon are
    cut into pieces of ``step`` m; a piece counts when the polygon holds at
    least ``share`` of the ``depth`` m wide strip on either side of it.
    Strips of up to ``share * depth`` (35 m) beyond a barrier do not count;
    given the ``outline`` of the area partitioned, neither do the islands
    between barriers and the outline a grid holds, however wide, where none
    of ``buildings`` (points) lies.

    Parameters
    ----------
    polygons : array of Polygon
        Grids (metric CRS).
    lines : array of LineString
        Barrier centre lines (metric CRS).
    outline : LineString, optional
        The boundary of the area the polygons tile.
    buildings : array of Point, optional
        A point on each building; an island holding one is land.

    Returns
    -------
    ndarray of float
    """
    polygons = np.asarray(polygons, dtype=object)
    out = np.zeros(len(polygons))
    if lines is None or len(lines) == 0 or len(polygons) == 0:
        return out
    pieces = np.asarray(lines, dtype=object)
    lines = shapely.union_all(pieces)
    out = _straddled(polygons, lines, depth, share, step, inset)
    if outline is None or not (out > 0).any():
        return out
    # without the islands between barriers (and the outline) it holds, does the grid still?
    # (the lines buffered one by one: buffering their noded union is five times slower)
    rim = shapely.union_all(shapely.buffer(np.append(pieces, outline), BARRIER_TOLERANCE))
    shapely.prepare(rim)
    some = np.flatnonzero(out > 0)
    points = np.asarray([] if buildings is None else buildings, dtype=object)
    tree = shapely.STRtree(points) if len(points) else None
    for k in some:
        land, sides = _without_islands(polygons[k], lines, rim, tree)
        if sides < 2:  # land on one side of every barrier it cuts: only around a barrier's end
            land = np.asarray([land], dtype=object)
            out[k] = _straddled(land, lines, depth, share, step, inset)[0]
    return out


def occupied_sides(polygons, lines, buildings, inset: float = 1.0) -> np.ndarray:
    """How many of the faces each polygon is cut into by ``lines`` hold a point of ``buildings``.

    Two or more: the grid holds buildings on both sides of a barrier.
    """
    polygons = np.asarray(polygons, dtype=object)
    out = np.ones(len(polygons), dtype=int)
    points = np.asarray([] if buildings is None else buildings, dtype=object)
    if lines is None or len(points) == 0 or len(polygons) == 0:
        return out
    lines = shapely.union_all(np.asarray(lines, dtype=object))
    if lines.is_empty:
        return out
    entered = shapely.length(shapely.intersection(shapely.buffer(polygons, -inset), lines)) > 0
    tree = shapely.STRtree(points)
    for k in np.flatnonzero(entered):
        polygon = polygons[k]
        cut = shapely.intersection(polygon, lines)
        faces = shapely.get_parts(
            shapely.polygonize(shapely.get_parts(shapely.union_all([polygon.boundary, cut])))
        )
        out[k] = len(np.unique(tree.query(faces, predicate="contains")[0]))
    return out


def side_households(polygon, lines, points, households) -> list[int]:
    """Households of ``points`` (building points) in each face of ``polygon`` cut by ``lines``.

    Only faces holding a building are listed (a face of buildings without
    households gives 0).
    """
    points = np.asarray(points, dtype=object)
    households = np.asarray(households)
    cut = shapely.intersection(polygon, lines)
    faces = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.union_all([polygon.boundary, cut])))
    )
    fi, pi = shapely.STRtree(points).query(faces, predicate="contains")
    return [int(households[pi[fi == f]].sum()) for f in np.unique(fi)]


#: why a grid crosses a barrier, by what it holds on each side
CROSSING_REASONS = {
    "unit_enclosure": "a 单位 enclosure spans the barrier",
    "joins_part_below_min": "households across it are too few for a grid of their own",
    "land_only": "it holds land or buildings without households across it",
    "band": "households on both sides: the band or the rebalancer joined them",
}


def crossing_reason(kind: str, sides: list[int], lo: int) -> str:
    """The :data:`CROSSING_REASONS` code of a grid crossing a barrier.

    ``sides`` are the households on each side holding buildings
    (:func:`side_households`), ``lo`` the band's minimum.
    """
    housed = [h for h in sides if h > 0]
    if kind == "unit":
        return "unit_enclosure"
    if len(housed) < 2:
        return "land_only"
    return "joins_part_below_min" if min(housed) < lo else "band"


def _without_islands(polygon, lines, rim, points=None):
    """``polygon`` less its faces between barriers, and how many faces are left.

    ``polygon`` is cut by ``lines``; a face counts as an island (a road
    median, an interchange island, a strip between a road and the 社区
    outline) when at least 90% of its outline lies in ``rim`` (the barrier
    lines and the outline of the area partitioned, buffered by
    :data:`BARRIER_TOLERANCE`, prepared) and
    no point of ``points`` (an STRtree of building points, or None) lies in it.
    """
    cut = shapely.intersection(polygon, lines)
    faces = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.union_all([polygon.boundary, cut])))
    )
    faces = faces[shapely.within(shapely.point_on_surface(faces), polygon)]
    if len(faces) < 2:
        return polygon, len(faces)
    bounds = shapely.boundary(faces)
    along = shapely.length(shapely.intersection(bounds, rim)) / np.maximum(
        shapely.length(bounds), 1e-9
    )
    islands = along >= 0.9
    if points is not None and islands.any():
        occupied = np.unique(points.query(faces, predicate="contains")[0])
        islands[occupied] = False
    if not islands.any() or islands.all():
        return polygon, len(faces)
    return shapely.union_all(faces[~islands]), int((~islands).sum())


def _straddled(polygons, lines, depth, share, step, inset) -> np.ndarray:
    """:func:`straddled_length` of polygons as given (islands included)."""
    out = np.zeros(len(polygons))
    inner = shapely.intersection(shapely.buffer(polygons, -inset), lines)
    holding = np.flatnonzero(shapely.length(inner) > 0)
    if len(holding) == 0:
        return out
    parts, owner = shapely.get_parts(inner[holding], return_index=True)
    lined = shapely.length(parts) > 0  # points where a line only touches
    parts, owner = shapely.segmentize(parts[lined], step), owner[lined]
    coords, which = shapely.get_coordinates(parts, return_index=True)
    same = which[1:] == which[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    grid = holding[owner[which[:-1][same]]]
    length = np.hypot(*(b - a).T)
    ok = length > 0
    a, b, grid, length = a[ok], b[ok], grid[ok], length[ok]
    if len(a) == 0:
        return out
    normal = np.column_stack([-(b - a)[:, 1], (b - a)[:, 0]]) / length[:, None] * depth
    owners = polygons[grid]
    shapely.prepare(owners)
    held = []
    for side in (1.0, -1.0):
        far_a, far_b = a + side * normal, b + side * normal
        rings = np.stack([a, b, far_b, far_a, a], axis=1)
        strips = shapely.polygons(rings)
        # most strips lie wholly inside their grid (a prepared test); the rest are clipped
        share_held = shapely.contains(owners, strips).astype(float)
        edge = np.flatnonzero(share_held == 0.0)
        share_held[edge] = shapely.area(shapely.intersection(strips[edge], owners[edge])) / (
            length[edge] * depth
        )
        held.append(share_held)
    both = (held[0] >= share) & (held[1] >= share)
    np.add.at(out, grid[both], length[both])
    return out
