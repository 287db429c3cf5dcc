"""Grids across barriers: the length each straddles, its ``crosses_major_road`` flag and why.

Used by the partition after grouping (and again after a band repair): see
:func:`flag_crossings`, and :mod:`gridmgmt.core.barriers` for the geometry.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.core.atoms import road_classes
from gridmgmt.core.barriers import (
    crossing_reason,
    hard_barriers,
    occupied_sides,
    side_households,
    straddled_length,
)
from gridmgmt.core.flags import join_flags

#: a grid is flagged ``crosses_major_road`` when it straddles more of a barrier than this (m)
CROSSED_MIN_M = 20.0
#: metres inside a grid's edge from which a barrier counts as running through it
CROSSED_INSET_M = 1.0


def flag_crossings(
    grids: gpd.GeoDataFrame, roads, footprints=None, households=None, lo: int = 0
) -> None:
    """Add ``crossed_m``, the length of hard barriers each grid straddles; flag those crossed.

    A flagged grid's ``crossed_why`` says why it crosses
    (:data:`~gridmgmt.core.barriers.CROSSING_REASONS`), from the households
    it holds on each side (``households`` per footprint) and ``lo``.

    A grid straddles a barrier where it holds land on both sides of it
    (:func:`~gridmgmt.core.barriers.straddled_length`); a road median, an
    interchange island or the strip between a road and the 社区 outline
    without a building (of ``footprints``, metric) is not a crossing. A grid
    holding buildings on both sides of one is flagged however little land
    it holds across. A grid whose flag already says something gets
    ``crosses_major_road`` after it, comma-separated.

    Parameters
    ----------
    grids : GeoDataFrame
        Grids in a metric CRS with ``flag`` and ``kind``; changed in place.
    roads : GeoDataFrame or None
        Roads with ``road_class`` in the same CRS.
    footprints : array of Polygon, optional
        Building footprints (metric).
    households : array of int, optional
        Households per footprint.
    lo : int
        The band's minimum.
    """
    barriers = hard_barriers(None if roads is None else roads.geometry.values, road_classes(roads))
    polygons = grids.geometry.values
    outline = shapely.boundary(grids_union(polygons)) if len(barriers) else None
    points = None if footprints is None else shapely.point_on_surface(footprints)
    crossed = straddled_length(
        polygons, barriers, inset=CROSSED_INSET_M, outline=outline, buildings=points
    )
    # a building across a road, in a strip too narrow to count, is a crossing all the same
    across = occupied_sides(polygons, barriers, points, inset=CROSSED_INSET_M) > 1
    flagged = (crossed > CROSSED_MIN_M) | across
    grids["crossed_m"] = np.round(crossed, 1)
    grids["flag"] = [
        join_flags(flag, "crosses_major_road" if over else None)
        for flag, over in zip(grids["flag"], flagged, strict=True)
    ]
    why = np.full(len(grids), None, dtype=object)
    if households is not None and points is not None:
        lines = shapely.union_all(barriers)
        for k in np.flatnonzero(flagged):
            sides = side_households(polygons[k], lines, points, households)
            why[k] = crossing_reason(grids["kind"].iloc[k], sides, lo)
    grids["crossed_why"] = why


def grids_union(polygons):
    """The union of grids: a coverage union where they share exact edges, else a plain one.

    Parameters
    ----------
    polygons : array of Polygon

    Returns
    -------
    Geometry
    """
    try:
        return shapely.coverage_union_all(polygons)
    except shapely.errors.GEOSException:  # rebalanced grids need not be noded alike
        return shapely.union_all(polygons)
