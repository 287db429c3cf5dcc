"""Which side of a boundary each building lies on: the majority-footprint rule.

A building belongs to the area holding the largest share of its footprint,
provided that share is at least the share lying outside every area (all
that is outside counts as one side; ties go to the area, and among areas to
the first given, i.e. the smallest code when areas come sorted by code).
A building whose footprint lies mostly outside every area is left out.

Both workflows apply this rule: the file workflow with one area (the
boundary file's union), the stored workflow with every stored 社区, so a
building cut by a 社区 boundary lands in the same 社区 either way.

Geometries are expected in a metric CRS; areas should not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.tessellation import polygonal_part

#: a footprint share closer than this to 0 or 1 counts as wholly outside / inside
SHARE_TOLERANCE = 1e-3


@dataclass
class BoundarySides:
    """Per building: its area, the share of footprint in it, inside all areas, and whether cut.

    ``area`` is the index of the area the building belongs to (-1: left
    out), ``share`` the share of its footprint in that area (for a left-out
    building: in the area holding most of it, 0 if none), ``share_inside``
    the share inside any area, ``cut`` whether a boundary line runs through
    its footprint.
    """

    area: np.ndarray
    share: np.ndarray
    share_inside: np.ndarray
    cut: np.ndarray

    @property
    def outside(self) -> np.ndarray:
        """Buildings left out: most of the footprint outside every area."""
        return self.area < 0

    @property
    def straddling(self) -> np.ndarray:
        """Buildings cut by a boundary (whichever side they were given to)."""
        return self.cut

    def table(self, ids) -> pd.DataFrame:
        """Buildings cut by a boundary or left out: ``id``, ``share_inside``, ``status``.

        ``status`` is ``straddling`` (kept: most of the footprint inside),
        ``straddling_left_out`` (cut, most of it outside) or ``outside``
        (wholly outside).
        """
        listed = self.cut | self.outside
        status = np.where(
            self.outside, np.where(self.cut, "straddling_left_out", "outside"), "straddling"
        )
        return pd.DataFrame(
            {
                "id": np.asarray(ids, dtype=object)[listed],
                "share_inside": np.round(self.share_inside[listed], 3),
                "status": status[listed],
            }
        ).reset_index(drop=True)


def footprint_sides(buildings, areas) -> BoundarySides:
    """Apply the majority-footprint rule to building footprints and areas.

    Parameters
    ----------
    buildings : array-like of shapely geometries
        Footprints (metric CRS).
    areas : array-like of shapely geometries
        Non-overlapping polygons (same CRS), in order of preference for ties.

    Returns
    -------
    BoundarySides
    """
    b = np.asarray(buildings, dtype=object)
    a = np.asarray(areas, dtype=object)
    n = len(b)
    share = np.zeros(n)
    best = np.full(n, -1, dtype=np.int64)
    inside = np.zeros(n)
    if n == 0 or len(a) == 0:
        return BoundarySides(best, share, inside, np.zeros(n, dtype=bool))
    footprint = shapely.area(b)
    tree = shapely.STRtree(a)
    bi, ai = tree.query(b, predicate="intersects")
    flat = footprint <= 0  # degenerate footprints: decided by a point on them
    part = np.zeros(len(bi))
    shapely.prepare(a)
    whole = shapely.contains_properly(a[ai], b[bi])  # most buildings: no overlay needed
    part[whole] = 1.0
    solid = np.flatnonzero(~whole & ~flat[bi])
    part[solid] = (
        shapely.area(shapely.intersection(b[bi[solid]], a[ai[solid]])) / footprint[bi[solid]]
    )
    point = np.flatnonzero(~whole & flat[bi])
    if len(point):
        part[point] = shapely.covers(a[ai[point]], shapely.point_on_surface(b[bi[point]]))
    np.add.at(inside, bi, part)
    inside = np.clip(inside, 0.0, 1.0)
    # the largest share per building; ties go to the smallest area index
    order = np.lexsort((ai, -part, bi))
    first = np.r_[True, bi[order][1:] != bi[order][:-1]] if len(order) else np.zeros(0, bool)
    top = order[first]
    best[bi[top]] = ai[top]
    share[bi[top]] = part[top]
    counts = np.bincount(bi, minlength=n)
    cut = ((inside > SHARE_TOLERANCE) & (inside < 1 - SHARE_TOLERANCE)) | (
        (counts > 1) & (share < 1 - SHARE_TOLERANCE)
    )
    kept = (best >= 0) & (share > 0) & (share >= 1.0 - inside)
    area = np.where(kept, best, -1)
    return BoundarySides(area, share, inside, cut)


@dataclass
class KeptBuildings:
    """Which buildings a 社区 keeps (``kept``) and the listing of those cut or left out."""

    kept: np.ndarray
    table: pd.DataFrame


def keep_inside(buildings, metric, geom, area, ids):
    """The buildings of one 社区 by the majority-footprint rule, cut ones clipped to it.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints in their own CRS.
    metric : GeoDataFrame
        The same in a metric CRS.
    geom : ndarray
        ``metric``'s geometries.
    area : shapely geometry
        The 社区 polygon (metric CRS).
    ids : ndarray
        Building ids, to list the cut and left-out ones.

    Returns
    -------
    tuple
        ``(buildings, metric, geom, KeptBuildings)``: the kept rows (index
        unchanged) with the kept cut ones clipped to ``area`` in both CRSs.

    Raises
    ------
    ValueError
        No building has most of its footprint inside ``area``.
    """
    sides = footprint_sides(geom, [area])
    kept = ~sides.outside
    if not kept.any():
        raise ValueError(
            f"none of the {len(geom)} building(s) lie inside the boundary "
            "(each has most of its footprint outside it)"
        )
    table = sides.table(ids)
    clip = kept & sides.cut
    if kept.all() and not clip.any():
        return buildings, metric, geom, KeptBuildings(kept, table)
    geom = geom.copy()
    geom[clip] = [polygonal_part(g) for g in shapely.intersection(geom[clip], area)]
    metric = metric[kept].set_geometry(list(geom[kept]), crs=metric.crs)
    own = buildings[kept].set_geometry(list(metric.to_crs(buildings.crs).geometry.values))
    return own, metric, geom[kept], KeptBuildings(kept, table)
