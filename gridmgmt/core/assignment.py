"""Every object in exactly one grid: bulk assignment of points, lines and polygons.

Rules:

- a **point** goes to the grid that covers it; a point on a shared edge or
  vertex is covered by several grids and goes to the one with the
  **smallest code** (a fixed, documented tie rule that the live index
  :class:`gridmgmt.core.live_index.GridIndex` applies too);
- a **polygon** (building footprint, facility grounds) goes to the grid
  holding the largest share of its area, a **line** to the grid holding the
  largest share of its length (ties: smallest code);
- an object outside every grid is **unassigned** with reason
  ``outside_all_grids`` and its distance in metres to the nearest grid; an
  object without a location has reason ``missing_location``. Nothing is
  dropped.

Grids must be valid, non-overlapping polygons with unique codes
(:func:`validate_grids`); multipolygon grids are accepted. Areas, lengths
and distances are computed in a metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.crs import metric_crs

OUTSIDE = "outside_all_grids"
MISSING = "missing_location"
OVERLAP_TOLERANCE_M2 = 0.5


#: bulk point lookups of at least this many points use the lattice fast path
LATTICE_MIN_POINTS = 20_000
#: lattice cells per grid: enough that most cells lie wholly inside one grid
LATTICE_CELLS_PER_GRID = 4096


class _Lattice:
    """A regular raster over the grids: cells wholly inside one grid answer by integer binning.

    Cells that any grid boundary passes through (found by sampling every
    boundary at half the cell size and marking the 3 x 3 cells around each
    sample, which cannot miss a crossed cell) are left unlabelled; every other
    cell lies inside exactly one grid or outside all, decided by its centre.
    A point in a labelled cell is strictly inside that grid, so no tie can
    arise; points in unlabelled cells take the exact path.
    """

    def __init__(self, native: np.ndarray, tree: shapely.STRtree):
        minx, miny, maxx, maxy = shapely.total_bounds(native)
        cells = max(1, LATTICE_CELLS_PER_GRID * len(native))
        size = max(np.sqrt((maxx - minx) * (maxy - miny) / cells), 1e-9)
        self.x0, self.y0, self.size = minx, miny, size
        self.nx = max(1, int(np.ceil((maxx - minx) / size)))
        self.ny = max(1, int(np.ceil((maxy - miny) / size)))
        edge = np.zeros((self.ny + 2, self.nx + 2), dtype=bool)
        xy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(native), size / 2))
        ix = np.clip(np.floor((xy[:, 0] - minx) / size).astype(np.int64), 0, self.nx - 1) + 1
        iy = np.clip(np.floor((xy[:, 1] - miny) / size).astype(np.int64), 0, self.ny - 1) + 1
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                edge[iy + dy, ix + dx] = True
        edge = edge[1:-1, 1:-1]
        # 4-connected runs of edge-free cells never cross a boundary: one centre per run decides it
        from scipy import ndimage

        runs, count = ndimage.label(~edge)
        label = np.full((self.ny, self.nx), -1, dtype=np.int32)
        if count:
            flat = runs.ravel()
            first_of = np.full(count + 1, -1, dtype=np.int64)
            first_of[flat[::-1]] = np.arange(len(flat) - 1, -1, -1)  # last write: smallest index
            first = first_of[1:][first_of[1:] >= 0]
            cy, cx = np.divmod(first, self.nx)
            centres = shapely.points(minx + (cx + 0.5) * size, miny + (cy + 0.5) * size)
            pi, gi = tree.query(centres, predicate="intersects")
            run_grid = np.full(count + 1, -1, dtype=np.int32)
            run_grid[flat[first[pi]]] = gi
            label = run_grid[runs]
        self.label = label

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Grid index per point, or -1 where the exact test is needed."""
        ix = np.floor((x - self.x0) / self.size).astype(np.int64)
        iy = np.floor((y - self.y0) / self.size).astype(np.int64)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.full(len(x), -1)
        out[ok] = self.label[iy[ok], ix[ok]]
        return out


@dataclass
class PreparedGrids:
    """Grids ready for assignment: codes sorted, geometries in a metric CRS, a spatial index."""

    codes: np.ndarray
    native: np.ndarray  # in the grids' own CRS: exact edge tests
    tree: shapely.STRtree  # over ``native``
    geoms: np.ndarray  # metric: areas, lengths, distances
    crs: str  # metric CRS
    source_crs: object
    _lattice: _Lattice | None = None

    @property
    def lattice(self) -> _Lattice:
        if self._lattice is None:
            self._lattice = _Lattice(self.native, self.tree)
        return self._lattice


def validate_grids(grids: gpd.GeoDataFrame, code_column: str = "code") -> None:
    """Raise ``ValueError`` for missing CRS, invalid or empty polygons, duplicate codes or overlaps."""
    if grids.crs is None:
        raise ValueError("grids have no CRS")
    if code_column not in grids.columns:
        raise ValueError(f"grids: missing column {code_column}")
    codes = grids[code_column].astype(str)
    dup = codes[codes.duplicated()].unique()
    if len(dup):
        raise ValueError(f"duplicate grid codes: {', '.join(sorted(dup))}")
    geoms = np.asarray(grids.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    bad_type = codes[~np.isin(types, [3, 6])].tolist()
    if bad_type:
        raise ValueError(f"grids that are not polygons: {', '.join(bad_type)}")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        listed = "; ".join(f"{c}: {r}" for c, r in zip(codes[invalid], reasons, strict=True))
        raise ValueError(f"invalid grid polygons: {listed}")
    metric = grids.to_crs(metric_crs(grids)).geometry.values
    tree = shapely.STRtree(metric)
    i, j = tree.query(metric, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if len(i):
        overlap = shapely.area(shapely.intersection(metric[i], metric[j]))
        bad = overlap > OVERLAP_TOLERANCE_M2
        if bad.any():
            pairs = ", ".join(
                f"{codes.iloc[a]}/{codes.iloc[b]}" for a, b in zip(i[bad], j[bad], strict=True)
            )
            raise ValueError(f"overlapping grids: {pairs}")


def prepare_grids(
    grids: gpd.GeoDataFrame,
    code_column: str = "code",
    *,
    validate: bool = True,
    lattice: bool = False,
) -> PreparedGrids:
    """Validate (optionally) and index grids, sorted by code so ties resolve to the smallest.

    ``lattice=True`` builds the raster used for bulk point lookups now rather
    than on first use (it is kept with the prepared grids for reuse).
    """
    if validate:
        validate_grids(grids, code_column)
    crs = metric_crs(grids)
    frame = grids.assign(_code=grids[code_column].astype(str)).sort_values("_code", kind="stable")
    native = np.asarray(frame.geometry.values, dtype=object)
    metric = np.asarray(frame.to_crs(crs).geometry.values, dtype=object)
    shapely.prepare(native)
    codes = frame["_code"].to_numpy(dtype=object)
    prepared = PreparedGrids(codes, native, shapely.STRtree(native), metric, crs, grids.crs)
    if lattice:
        prepared.lattice  # noqa: B018 - built for later bulk lookups
    return prepared


def _check_objects(objects, grids_crs) -> gpd.GeoSeries:
    geoms = objects.geometry if isinstance(objects, gpd.GeoDataFrame) else objects
    if geoms.crs is None:
        raise ValueError("objects have no CRS; declare one (e.g. EPSG:4326)")
    if geoms.crs.is_geographic:
        xy = shapely.get_coordinates(geoms.dropna().values)
        if len(xy) and (np.abs(xy[:, 1]) > 90).any():
            raise ValueError("latitudes beyond ±90°: longitude and latitude look swapped")
    return geoms


def assign(
    objects: gpd.GeoDataFrame | gpd.GeoSeries,
    grids: gpd.GeoDataFrame | PreparedGrids,
    *,
    code_column: str = "code",
) -> pd.DataFrame:
    """Assign points, lines and polygons to grids (rules in the module docstring).

    Parameters
    ----------
    objects : GeoDataFrame or GeoSeries
        Anything with a CRS; reprojected as needed.
    grids : GeoDataFrame or PreparedGrids
        Grids with ``code_column``; validated unless already prepared.

    Returns
    -------
    DataFrame
        Aligned to ``objects.index``: ``grid_code`` (None when unassigned),
        ``reason`` (None when assigned) and ``distance_m`` (0 inside a grid).
    """
    prepared = grids if isinstance(grids, PreparedGrids) else prepare_grids(grids, code_column)
    geoms = _check_objects(objects, prepared.source_crs)
    if geoms.crs != prepared.source_crs:
        geoms = geoms.to_crs(prepared.source_crs)
    native = np.asarray(geoms.values, dtype=object)
    n = len(native)
    code_idx = np.full(n, -1)
    missing = shapely.is_missing(native) | shapely.is_empty(native)
    kind = shapely.get_type_id(native)
    is_point = kind == 0
    missing[is_point] |= ~np.isfinite(shapely.get_x(native[is_point]))
    points = np.flatnonzero(~missing & np.isin(kind, [0, 4]))
    others = np.flatnonzero(~missing & ~np.isin(kind, [0, 4]))
    if len(points):
        code_idx[points] = covering_grid(prepared, native[points])
    metric = np.full(n, None, dtype=object)

    def to_metric(idx):
        todo = idx[shapely.is_missing(metric[idx])]
        if len(todo):
            metric[todo] = (
                gpd.GeoSeries(native[todo], crs=prepared.source_crs).to_crs(prepared.crs).values
            )

    to_metric(others)
    lines = others[np.isin(kind[others], [1, 2, 5])]
    polys = others[np.isin(kind[others], [3, 6, 7])]
    for idx, measure in ((lines, shapely.length), (polys, shapely.area)):
        if len(idx):
            code_idx[idx] = _largest_share(prepared, native[idx], metric[idx], measure)
    distance = np.zeros(n)
    outside = np.flatnonzero((code_idx < 0) & ~missing)
    if len(outside):
        to_metric(outside)
        near = prepared.tree.nearest(native[outside])
        distance[outside] = shapely.distance(metric[outside], prepared.geoms[near])
    distance[missing] = np.nan
    assigned = code_idx >= 0
    codes = np.full(n, None, dtype=object)
    codes[assigned] = prepared.codes[code_idx[assigned]]
    reason = np.full(n, None, dtype=object)
    reason[~assigned] = np.where(missing[~assigned], MISSING, OUTSIDE)
    out = pd.DataFrame({"distance_m": distance}, index=objects.index)
    # object columns holding None (not NaN) for "no grid" and "no reason"
    out.insert(0, "grid_code", pd.Series(codes, index=objects.index, dtype=object))
    out.insert(1, "reason", pd.Series(reason, index=objects.index, dtype=object))
    return out


def covering_grid(prepared: PreparedGrids, points: np.ndarray) -> np.ndarray:
    """Index (into ``prepared.codes``) of the smallest-code grid covering each point, -1 if none.

    The one implementation of the point rule, shared by :func:`assign` and
    the live index.
    """
    if len(points) >= LATTICE_MIN_POINTS:
        fast = prepared.lattice.lookup(shapely.get_x(points), shapely.get_y(points))
        rest = np.flatnonzero(fast < 0)
        if len(rest):
            fast[rest] = _exact_covering(prepared, points[rest])
        return fast
    return _exact_covering(prepared, points)


def _exact_covering(prepared: PreparedGrids, points: np.ndarray) -> np.ndarray:
    pi, gi = prepared.tree.query(points, predicate="intersects")
    out = np.full(len(points), -1)
    if len(pi):
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = gi[first]
    return out


def _largest_share(
    prepared: PreparedGrids, native: np.ndarray, metric: np.ndarray, measure
) -> np.ndarray:
    oi, gi = prepared.tree.query(native, predicate="intersects")
    out = np.full(len(native), -1)
    if len(oi):
        share = measure(shapely.intersection(metric[oi], prepared.geoms[gi]))
        order = np.lexsort((gi, -share, oi))
        oi, gi, share = oi[order], gi[order], share[order]
        first = np.r_[True, oi[1:] != oi[:-1]] & (share > 1e-9)
        out[oi[first]] = gi[first]
    # touching grids only along edges (no share): decide by the point on surface
    zero = np.flatnonzero(out < 0)
    if len(zero):
        out[zero] = covering_grid(prepared, shapely.point_on_surface(native[zero]))
    return out
