"""Tiling a 社区 polygon: street blocks from road centre lines, Voronoi shares within blocks.

Everything here works in a metric CRS on shapely geometry arrays.
"""

from __future__ import annotations

import numpy as np
import shapely

#: road classes that bound street blocks; others (service, footway, path...) run inside them
BLOCK_ROAD_CLASSES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "road",
    }
)


#: a road ending this close (m) to the boundary is extended across it
END_SNAP_M = 0.05
#: faces of the road network smaller than this (m²) are rounding slivers, not blocks
SLIVER_M2 = 1e-4


def street_blocks(boundary, road_lines) -> np.ndarray:
    """Faces of the road network clipped to ``boundary`` (a polygon): they tile it.

    Road centre lines are noded with the boundary's rings and polygonised;
    faces outside the boundary (in holes, or beyond it) are dropped. A road
    clipped to the boundary ends on its ring only up to rounding, so each
    end within :data:`END_SNAP_M` of a ring is pushed across it: else the
    road would not be noded with the ring, it would dangle, polygonising
    would drop it and the blocks on both sides of it would stay one.
    """
    rings = (
        [boundary.exterior, *boundary.interiors]
        if boundary.geom_type == "Polygon"
        else [r for p in boundary.geoms for r in (p.exterior, *p.interiors)]
    )
    lines = list(rings)
    if road_lines is not None and len(road_lines):
        clipped = shapely.intersection(np.asarray(road_lines, dtype=object), boundary)
        roads = [
            g for g in shapely.get_parts(clipped) if g.geom_type in ("LineString", "LinearRing")
        ]
        lines.extend(_across_rings(np.asarray(roads, dtype=object), rings))
    noded = shapely.union_all(lines)
    faces = np.asarray(
        shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))), dtype=object
    )
    if len(faces) == 0:
        return np.asarray([boundary], dtype=object)
    # inside the boundary, and not a sliver of rounding between a road's end and the ring
    inside = shapely.contains(boundary, shapely.point_on_surface(faces))
    faces = faces[inside & (shapely.area(faces) > SLIVER_M2)]
    return faces if len(faces) else np.asarray([boundary], dtype=object)


def _across_rings(roads: np.ndarray, rings: list) -> list:
    """The roads with each end lying within :data:`END_SNAP_M` of a ring pushed 10 cm past it."""
    if len(roads) == 0:
        return []
    rim = shapely.union_all(rings)
    first = shapely.get_point(roads, 0)
    last = shapely.get_point(roads, -1)
    near = (shapely.distance(first, rim) < END_SNAP_M) | (shapely.distance(last, rim) < END_SNAP_M)
    out = list(roads)
    for k in np.flatnonzero(near):
        xy = shapely.get_coordinates(roads[k])
        if len(xy) < 2:
            continue
        for end, inner in ((0, 1), (-1, -2)):
            step = xy[end] - xy[inner]
            size = float(np.hypot(*step))
            point = shapely.Point(xy[end])
            if size > 0 and shapely.distance(point, rim) < END_SNAP_M:
                pushed = xy[end] + step / size * 2 * END_SNAP_M
                # only a road meeting the ring at an angle (one along it would make slivers)
                if shapely.distance(shapely.Point(pushed), rim) >= END_SNAP_M:
                    xy[end] = pushed
        out[k] = shapely.LineString(xy)
    return out


def segments(lines) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end points of every segment of ``lines`` (or rings), and the index of its line."""
    xy, idx = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    same = idx[:-1] == idx[1:]
    return xy[:-1][same], xy[1:][same], idx[:-1][same]


def densify_points(geoms, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along the boundaries of ``geoms`` every ``spacing`` m, with the index of their geometry."""
    geoms = np.asarray(geoms, dtype=object)
    rings = shapely.boundary(geoms)
    dense = shapely.segmentize(rings, spacing)
    coords, index = shapely.get_coordinates(dense, return_index=True)
    return coords, index


def voronoi_shares(
    region, seeds_xy: np.ndarray, labels: np.ndarray, *, reattach: bool = True
) -> dict[int, object]:
    """Split ``region`` among labels: the Voronoi cells of labelled seed points, dissolved.

    Returns ``{label: polygon}``; together the polygons tile ``region``.
    ``reattach=False`` leaves a label's detached parts with it (a caller that
    decides itself which parts to keep).
    """
    labels = np.asarray(labels)
    unique = np.unique(labels)
    if len(unique) == 1:
        return {int(unique[0]): region}
    xy, first = np.unique(np.round(seeds_xy, 3), axis=0, return_index=True)
    labels = labels[first]
    points = shapely.multipoints(xy)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=region, ordered=True))
    # the cells are an exact coverage: dissolve them per label first, then clip the few
    # label unions to the region (one intersection per label, not one per cell)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    chunks = np.split(order, bounds)
    merged = np.asarray([_dissolve(cells[chunk]) for chunk in chunks], dtype=object)
    shapely.prepare(region)
    inside = shapely.contains_properly(region, merged)
    merged = np.where(inside, merged, shapely.intersection(np.where(inside, None, merged), region))
    out = {}
    for chunk, share in zip(chunks, merged, strict=True):
        if shapely.get_type_id(share) not in (3, 6):  # touching only along an edge: its polygons
            share = polygonal_part(share, otherwise=shapely.Polygon())
        out[int(labels[chunk[0]])] = share
    return _reattach_strays(out) if reattach else out


def _dissolve(parts: np.ndarray):
    """Union of adjacent cells: the fast coverage union, or a full union if the cells are not
    exactly noded (clipping can leave shared edges a few nanometres apart)."""
    if len(parts) == 1:
        return parts[0]
    try:
        return shapely.coverage_union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.union_all(parts)


def grid_polygon(regions: np.ndarray, *, coverage: bool = True, min_area: float = 0.01):
    """The polygon of a grid from its regions: their union, polygonal parts over ``min_area`` m².

    Regions of one clean coverage (``coverage=True``: atoms) are dissolved
    exactly and fast; others (grids read from a file) by a full union.
    """
    regions = np.asarray(regions, dtype=object)
    union = _dissolve(regions) if coverage else shapely.union_all(regions)
    return polygonal_part(shapely.make_valid(union), min_area=min_area)


def polygonal_part(geom, *, min_area: float = 0.0, otherwise=None):
    """The union of the polygons of ``geom`` over ``min_area`` m² (lines and points dropped).

    ``otherwise`` (default: ``geom`` itself) when it has no such polygon.
    """
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > min_area]
    if parts:
        return shapely.union_all(parts)
    return geom if otherwise is None else otherwise


def clean_coverage(regions: np.ndarray) -> np.ndarray:
    """The regions with every shared edge made identical (GEOS CoverageCleaner).

    Shares cut from different blocks meet along block edges whose vertices
    differ by nanometres; cleaned, neighbours share exact edges, so shared
    lengths are plain intersections and unions are coverage unions.
    Empty regions stay empty.
    """
    regions = np.asarray(regions, dtype=object)
    filled = ~shapely.is_empty(regions)
    out = regions.copy()
    if filled.sum() > 1:
        out[filled] = np.asarray(shapely.coverage_clean(regions[filled]), dtype=object)
    return out


def _reattach_strays(shares: dict[int, object]) -> dict[int, object]:
    """Keep each label's largest part; give detached parts to the neighbour sharing most boundary.

    Voronoi cells of one label need not touch (a wall point can lie nearer to
    another atom's buildings), so without this a share could be in pieces.
    """
    strays = []
    for label, geom in shares.items():
        parts = shapely.get_parts(geom)
        if len(parts) > 1:
            areas = shapely.area(parts)
            keep = int(np.argmax(areas))
            shares[label] = parts[keep]
            strays.extend(p for i, p in enumerate(parts) if i != keep)
    for part in strays:
        best, best_len = None, 0.0
        for label, geom in shares.items():
            if not shapely.intersects(part, geom):
                continue
            shared = shapely.length(shapely.intersection(part.boundary, geom.boundary))
            if shared > best_len:
                best, best_len = label, shared
        if best is not None:
            shares[best] = shapely.union_all([shares[best], part])
    return shares
