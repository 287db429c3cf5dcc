"""Refusing a boundary that misses the data or sits off it by the GCJ-02 offset.

Both workflows call :func:`check_boundary` before writing anything: the file
workflow with the boundary file against the buildings file, the stored one
when a boundary file or a buildings file is imported next to stored data,
and before partitioning stored 社区. The evidence is that of
:func:`gridmgmt.core.boundary_fit.assess_fit`; the messages name the file
and the option that fixes it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.core.boundary_fit import assess_fit
from gridmgmt.core.crs import metric_crs
from gridmgmt.io.errors import InputError

#: the option converting a boundary file's coordinates (partition and import)
BOUNDARY_COORDS_OPTION = "--boundary-coords"


def check_boundary(
    boundary: gpd.GeoDataFrame | gpd.GeoSeries,
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    *,
    path: str | Path,
    subject: str = "the boundary",
    data: str = "the buildings",
    offset_check: bool = True,
    misses_is_error: bool = True,
    boundary_fix: str | None = None,
) -> None:
    """Raise :class:`InputError` naming ``path`` when the boundary misses or is offset from the data.

    Parameters
    ----------
    boundary : GeoDataFrame or GeoSeries
        The polygons (any CRS).
    buildings : GeoDataFrame
        The footprints to compare with; nothing is checked without any.
    roads : GeoDataFrame, optional
        Centre lines: a boundary along roads fits.
    path : path-like
        The file the message names (the one the user should fix or re-read).
    subject, data : str
        How the message names the boundary and the data.
    offset_check : bool
        Test for a GCJ-02 offset (off when the user declared the boundary's system).
    misses_is_error : bool
        Refuse a boundary covering (almost) none of the buildings.
    boundary_fix : str, optional
        What to do when the boundary is GCJ-02; default: give ``--boundary-coords gcj02``.
    """
    if boundary is None or len(boundary) == 0 or buildings is None or len(buildings) == 0:
        return
    fit = assess_fit(boundary, buildings, roads)
    plural = subject.endswith("s")  # "the boundaries", "their outlines"
    looks, sits, covers = ("look", "sit", "cover") if plural else ("looks", "sits", "covers")
    skip = f"if {subject} really {'are' if plural else 'is'} WGS84, give {BOUNDARY_COORDS_OPTION} wgs84 to skip this check"
    if offset_check and fit.boundary_looks_gcj02:
        fix = (
            boundary_fix
            or f"convert {'them' if plural else 'it'} with {BOUNDARY_COORDS_OPTION} gcj02"
        )
        raise InputError.single(
            path,
            f"{subject} {looks} like GCJ-02 coordinates labelled as WGS84 "
            f"({fit.describe()}); {fix} ({skip}). Nothing was written.",
        )
    if offset_check and fit.data_looks_gcj02:
        raise InputError.single(
            path,
            f"{subject} {sits} off {data} by the GCJ-02 offset, as if {data} were GCJ-02 "
            f"labelled as WGS84 ({fit.describe()}); read {data} with --coords gcj02 "
            f"({skip}). Nothing was written.",
        )
    if misses_is_error and fit.misses:
        away = _distance_km(boundary, buildings)
        where = f"{away:.1f} km away" if away > 0.05 else "next to it"
        raise InputError.single(
            path,
            f"{subject} {covers} {_none_or_share(fit.given.share_inside)} of the "
            f"{fit.n_buildings} buildings' footprint in {data} (they lie {where}); "
            "check that the file outlines this area, in the right coordinate system. "
            "Nothing was written.",
        )


def _none_or_share(share: float) -> str:
    return "none" if share <= 0 else f"only {share:.1%}"


def _distance_km(boundary, buildings) -> float:
    crs = metric_crs(buildings)
    a = shapely.union_all(np.asarray(boundary.to_crs(crs).geometry.values, dtype=object))
    b = shapely.union_all(np.asarray(buildings.to_crs(crs).geometry.values, dtype=object))
    return float(a.distance(b)) / 1000.0
