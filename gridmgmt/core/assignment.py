"""Every object in exactly one grid: bulk assignment of points, lines and polygons.

Rules:

- a **point** goes to the grid that covers it; a point on a shared edge or
  vertex is covered by several grids and goes to the one with the
  **smallest code** (a fixed, documented tie rule that the live index
  :class:`gridmgmt.core.live_index.GridIndex` applies too);
- a **polygon** (building footprint, facility grounds) goes to the grid
  holding the largest share of its area, a **line** to the grid holding the
  largest share of its length (ties: smallest code);
- an object that no grid covers but lies within :data:`EDGE_TOLERANCE_M`
  (1 cm) of one (a point on the outer boundary that rounding put a hair
  outside, at distance 0.0 m) goes to the **nearest** grid (ties: smallest
  code), with its distance in ``distance_m``;
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
#: an object this close (metres) to the covered area but covered by no grid goes to the nearest
EDGE_TOLERANCE_M = 0.01


#: bulk point lookups of at least this many points use the lattice fast path
LATTICE_MIN_POINTS = 20_000
#: ... when they are at least this many per grid (or a lattice is built already): with fewer,
#: building the lattice costs more than an STRtree query of the points (measured: 8,000 grids,
#: 25 points each 1.02 s vs 0.26 s; 125 each 0.76 s vs 1.14 s)
LATTICE_MIN_POINTS_PER_GRID = 100
#: lattice cells per grid: enough that most cells lie wholly inside one grid
LATTICE_CELLS_PER_GRID = 4096
#: the fewest cells per grid of a lattice sized for one bulk call (see PreparedGrids.lattice_for)
LATTICE_MIN_CELLS_PER_GRID = 256
#: the most cells of any lattice (50,000 grids at 4,096 cells each would take gigabytes)
LATTICE_MAX_CELLS = 16_000_000


class _Lattice:
    """A regular raster over the grids: most points are answered by integer binning.

    Every grid boundary is sampled at half the cell size; the 3 x 3 cells
    around each sample are *boundary cells* and remember which grids'
    boundaries pass near them (their candidates). Every other cell lies inside
    exactly one grid or outside all, decided by its centre: a point there is
    strictly inside that grid, so no tie can arise. A point in a boundary cell
    is tested exactly against the cell's candidates only: a point covered by
    several grids lies on all their boundaries, so all of them are candidates
    and the smallest-code rule holds. A point covered by no candidate takes the
    full exact path (STRtree).
    """

    def __init__(
        self,
        native: np.ndarray,
        tree: shapely.STRtree,
        cells_per_grid: int = LATTICE_CELLS_PER_GRID,
    ):
        from scipy import ndimage, sparse

        minx, miny, maxx, maxy = shapely.total_bounds(native)
        cells = max(1, min(cells_per_grid * len(native), LATTICE_MAX_CELLS))
        size = max(np.sqrt((maxx - minx) * (maxy - miny) / cells), 1e-9)
        self.x0, self.y0, self.size = minx, miny, size
        self.nx = max(1, int(np.ceil((maxx - minx) / size)))
        self.ny = max(1, int(np.ceil((maxy - miny) / size)))
        samples, owner = shapely.get_coordinates(
            shapely.segmentize(shapely.boundary(native), size / 2), return_index=True
        )
        ix = np.clip(np.floor((samples[:, 0] - minx) / size).astype(np.int64), 0, self.nx - 1)
        iy = np.clip(np.floor((samples[:, 1] - miny) / size).astype(np.int64), 0, self.ny - 1)
        # consecutive samples of one boundary mostly share a cell: keep one of each run
        step = np.r_[True, (ix[1:] != ix[:-1]) | (iy[1:] != iy[:-1]) | (owner[1:] != owner[:-1])]
        ix, iy, owner = ix[step], iy[step], owner[step]
        cell_ids, grid_ids = [], []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                x, y = ix + dx, iy + dy
                ok = (x >= 0) & (x < self.nx) & (y >= 0) & (y < self.ny)
                cell_ids.append(y[ok] * self.nx + x[ok])
                grid_ids.append(owner[ok])
        n = len(native)
        cell_of, grid_of = np.concatenate(cell_ids), np.concatenate(grid_ids)
        # candidates per boundary cell, sorted by grid index (= by code): CSR rows
        # (the conversion sums duplicate pairs in linear time; no sort of all pairs)
        self.candidates = sparse.csr_matrix(
            (np.ones(len(cell_of), dtype=bool), (cell_of, grid_of)),
            shape=(self.nx * self.ny, n),
        )
        self.candidates.sum_duplicates()
        edge = np.zeros(self.nx * self.ny, dtype=bool)
        edge[cell_of] = True
        edge = edge.reshape(self.ny, self.nx)
        # 4-connected runs of boundary-free cells never cross a boundary: one centre decides a run
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
        label[edge] = _BOUNDARY
        self.label = label

    def lookup(self, native: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Grid index per point, -1 outside all grids, ``_UNRESOLVED`` where the full test is needed."""
        ix = np.floor((x - self.x0) / self.size).astype(np.int64)
        iy = np.floor((y - self.y0) / self.size).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.full(len(x), -1, dtype=np.int64)
        out[inside] = self.label[iy[inside], ix[inside]]
        near = np.flatnonzero(out == _BOUNDARY)
        if len(near):
            cell = iy[near] * self.nx + ix[near]
            rows = self.candidates[cell]
            counts = np.diff(rows.indptr)
            point = np.repeat(near, counts)
            grid = (
                rows.indices
            )  # per point ascending grid index: the first hit is the smallest code
            hit = shapely.intersects_xy(native[grid], x[point], y[point])
            point, grid = point[hit], grid[hit]
            resolved = np.full(len(x), _UNRESOLVED, dtype=np.int64)
            first = np.r_[True, point[1:] != point[:-1]] if len(point) else np.zeros(0, bool)
            resolved[point[first]] = grid[first]
            out[near] = resolved[near]
        return out


#: lattice labels: a boundary cell, and a point its candidates do not cover
_BOUNDARY = -2
_UNRESOLVED = -3

#: bulk lookups with at least this many points per grid (but fewer than
#: LATTICE_MIN_POINTS_PER_GRID) bin the points in a coarse lattice first: its
#: cost grows with the grids, what it saves with the points
COARSE_LATTICE_MIN_POINTS_PER_GRID = 10
#: cells per grid of the coarse lattice (50,758 city grids: 0.4 s to build,
#: ~80 % of random points settled without a geometry test)
COARSE_LATTICE_CELLS_PER_GRID = 100


def _box_cells(lattice, ax, ay, bx, by) -> tuple[np.ndarray, ...]:
    """Flat cells at the corners of each segment's box (widened a hair); segments < one cell."""
    size, slack = lattice.size, lattice.size * 1e-6
    lox = np.floor((np.minimum(ax, bx) - slack - lattice.x0) / size).astype(np.int64)
    hix = np.floor((np.maximum(ax, bx) + slack - lattice.x0) / size).astype(np.int64)
    loy = np.floor((np.minimum(ay, by) - slack - lattice.y0) / size).astype(np.int64)
    hiy = np.floor((np.maximum(ay, by) + slack - lattice.y0) / size).astype(np.int64)
    for ix in (lox, hix):
        np.clip(ix, 0, lattice.nx - 1, out=ix)
    for iy in (loy, hiy):
        np.clip(iy, 0, lattice.ny - 1, out=iy)
        iy *= lattice.nx
    return loy + lox, loy + hix, hiy + lox, hiy + hix


class _CoarseLattice:
    """A raster whose cells away from every grid boundary answer a point by integer binning.

    Every boundary segment, cut into pieces shorter than a cell, marks the
    cells of its box (at most 2 x 2, all it can touch). The other cells form
    4-connected runs that no boundary crosses: one cell centre, tested
    exactly, decides a run, and a point there is strictly inside that grid
    (or outside all), so no tie can arise. A point in a marked cell is left
    ``_UNRESOLVED`` for the exact test. Unlike :class:`_Lattice` it keeps no
    candidates per cell: cheap to build when points are few per grid.
    """

    def __init__(self, native: np.ndarray, tree: shapely.STRtree, cells_per_grid: int):
        from scipy import ndimage

        minx, miny, maxx, maxy = shapely.total_bounds(native)
        cells = max(1, min(cells_per_grid * len(native), LATTICE_MAX_CELLS))
        self.size = size = max(np.sqrt((maxx - minx) * (maxy - miny) / cells), 1e-9)
        self.x0, self.y0 = minx, miny
        # one cell more than the extent: a point on its east or north edge lies in the lattice
        self.nx = int((maxx - minx) / size) + 1
        self.ny = int((maxy - miny) / size) + 1
        xy, part = shapely.get_coordinates(shapely.boundary(native), return_index=True)
        one = part[1:] == part[:-1]  # consecutive coordinates of one boundary: a segment
        ax, ay, bx, by = xy[:-1, 0][one], xy[:-1, 1][one], xy[1:, 0][one], xy[1:, 1][one]
        reach = 0.99 * size  # a piece spans at most two cells a side
        long = np.maximum(np.abs(bx - ax), np.abs(by - ay)) > reach
        edge = np.zeros(self.ny * self.nx, dtype=bool)
        for cells_of in _box_cells(self, ax[~long], ay[~long], bx[~long], by[~long]):
            edge[cells_of] = True
        if long.any():
            ax, ay, bx, by = ax[long], ay[long], bx[long], by[long]
            pieces = np.ceil(np.maximum(np.abs(bx - ax), np.abs(by - ay)) / reach).astype(np.int64)
            seg = np.repeat(np.arange(len(ax)), pieces)
            k = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
            t0, t1 = k / pieces[seg], (k + 1) / pieces[seg]
            dx, dy = (bx - ax)[seg], (by - ay)[seg]
            ends = (ax[seg] + dx * t0, ay[seg] + dy * t0, ax[seg] + dx * t1, ay[seg] + dy * t1)
            for cells_of in _box_cells(self, *ends):
                edge[cells_of] = True
        edge = edge.reshape(self.ny, self.nx)
        runs, count = ndimage.label(~edge)
        flat = runs.ravel()
        first_of = np.full(count + 1, -1, dtype=np.int64)
        first_of[flat[::-1]] = np.arange(len(flat) - 1, -1, -1)  # last write: smallest index
        cy, cx = np.divmod(first_of[1:], self.nx)
        centres = shapely.points(minx + (cx + 0.5) * size, miny + (cy + 0.5) * size)
        pi, gi = tree.query(centres, predicate="intersects")
        order = np.argsort(-gi, kind="stable")  # (overlapping grids: the smallest index last)
        run_grid = np.full(count + 1, -1, dtype=np.int32)
        run_grid[0] = _UNRESOLVED
        run_grid[pi[order] + 1] = gi[order]
        self.label = run_grid[runs]

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Grid index per point, -1 outside all grids, ``_UNRESOLVED`` in a boundary cell."""
        ix = np.floor((x - self.x0) / self.size).astype(np.int64)
        iy = np.floor((y - self.y0) / self.size).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.full(len(x), -1, dtype=np.int64)
        out[inside] = self.label[iy[inside], ix[inside]]
        return out


@dataclass
class PreparedGrids:
    """Grids ready for assignment: codes sorted, a spatial index, geometries in a metric CRS.

    The metric geometries (areas, lengths, distances) are projected when
    first asked for, grid by grid: points inside grids need none, points
    outside need only their nearest grids.
    """

    codes: np.ndarray
    native: np.ndarray  # in the grids' own CRS: exact edge tests
    tree: shapely.STRtree  # over ``native``
    crs: str  # metric CRS
    source_crs: object
    _lattice: _Lattice | None = None
    _metric: np.ndarray | None = None
    _coarse: _CoarseLattice | None = None

    @property
    def coarse_lattice(self) -> _CoarseLattice:
        """A coarse lattice (built on first use): bulk lookups of a few points per grid."""
        if self._coarse is None:
            self._coarse = _CoarseLattice(self.native, self.tree, COARSE_LATTICE_CELLS_PER_GRID)
        return self._coarse

    def metric(self, idx: np.ndarray) -> np.ndarray:
        """The grids ``idx`` (indices into ``codes``) in the metric CRS, projected on first use."""
        if self._metric is None:
            self._metric = np.full(len(self.native), None, dtype=object)
        idx = np.asarray(idx, dtype=np.int64)
        todo = np.unique(idx[shapely.is_missing(self._metric[idx])])
        if len(todo):
            projected = gpd.GeoSeries(self.native[todo], crs=self.source_crs).to_crs(self.crs)
            self._metric[todo] = projected.values
        return self._metric[idx]

    @property
    def geoms(self) -> np.ndarray:
        """Every grid in the metric CRS."""
        return self.metric(np.arange(len(self.native)))

    @property
    def lattice(self) -> _Lattice:
        if self._lattice is None:
            self._lattice = _Lattice(self.native, self.tree)
        return self._lattice

    @property
    def has_lattice(self) -> bool:
        """Whether a lattice is built already (then every bulk lookup uses it)."""
        return self._lattice is not None

    def lattice_for(self, n_points: int) -> _Lattice:
        """The lattice, or, when none is built yet, one sized for a single call on ``n_points``.

        Building costs time in proportion to its cells: a one-off bulk call
        (a file assigned once) gets about one cell per point, between
        :data:`LATTICE_MIN_CELLS_PER_GRID` and :data:`LATTICE_CELLS_PER_GRID`
        per grid; ``prepare_grids(lattice=True)`` builds the finest for reuse.
        """
        if self._lattice is None:
            per_grid = int(
                np.clip(
                    n_points / max(len(self.native), 1),
                    LATTICE_MIN_CELLS_PER_GRID,
                    LATTICE_CELLS_PER_GRID,
                )
            )
            self._lattice = _Lattice(self.native, self.tree, per_grid)
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
    pairs = overlapping_pairs(geoms, grids.crs, metric_crs(grids))
    if len(pairs):
        listed = ", ".join(f"{codes.iloc[a]}/{codes.iloc[b]}" for a, b in pairs)
        raise ValueError(f"overlapping grids: {listed}")


def overlapping_pairs(geoms: np.ndarray, crs, metric: str) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of valid polygons in ``crs`` overlapping by more than 0.5 m².

    Every pair whose bounding boxes meet is a candidate; in a clean coverage
    nearly all of them merely touch, which one DE-9IM test (do the
    interiors meet?) settles at a fraction of the cost of an intersection.
    Only pairs whose interiors meet are intersected, in the metric CRS
    ``metric``, and their shared area compared with
    :data:`OVERLAP_TOLERANCE_M2` (pairs that only touch share no area). The
    pairs are sorted.
    """
    i, j = shapely.STRtree(geoms).query(geoms)  # boxes: relate_pattern tells the rest
    keep = i < j
    i, j = i[keep], j[keep]
    meet = shapely.relate_pattern(geoms[i], geoms[j], "T********")  # interiors intersect
    i, j = i[meet], j[meet]
    if not len(i):
        return np.zeros((0, 2), dtype=np.int64)
    used = np.unique(np.r_[i, j])
    projected = np.empty(len(geoms), dtype=object)
    projected[used] = gpd.GeoSeries(geoms[used], crs=crs).to_crs(metric).values
    overlap = shapely.area(shapely.intersection(projected[i], projected[j]))
    pairs = np.column_stack([i, j])[overlap > OVERLAP_TOLERANCE_M2]
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


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
    shapely.prepare(native)
    codes = frame["_code"].to_numpy(dtype=object)
    prepared = PreparedGrids(codes, native, shapely.STRtree(native), crs, grids.crs)
    if lattice:
        prepared.lattice  # noqa: B018 - built for later bulk lookups
    return prepared


def _check_objects(objects) -> gpd.GeoSeries:
    geoms = objects.geometry if isinstance(objects, gpd.GeoDataFrame) else objects
    if geoms.crs is None:
        raise ValueError("objects have no CRS; declare one (e.g. EPSG:4326)")
    return geoms


def _check_latitudes(y: np.ndarray) -> None:
    """Refuse latitudes beyond ±90° (longitude and latitude swapped)."""
    if len(y) and np.nanmax(np.abs(y), initial=0.0) > 90:
        raise ValueError("latitudes beyond ±90°: longitude and latitude look swapped")


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
    geoms = _check_objects(objects)
    kind = shapely.get_type_id(geoms.values)  # -1 for missing
    is_point = kind == 0
    # the swap check reads the points' own latitudes when they need no reprojection
    late_check = geoms.crs.is_geographic and geoms.crs == prepared.source_crs and is_point.all()
    if geoms.crs.is_geographic and not late_check:
        _check_latitudes(shapely.bounds(geoms.values)[:, [1, 3]].ravel())
    if geoms.crs != prepared.source_crs:
        geoms = geoms.to_crs(prepared.source_crs)
    native = np.asarray(geoms.values, dtype=object)
    n = len(native)
    code_idx = np.full(n, -1)
    missing = (kind < 0) | shapely.is_empty(native)
    single = is_point & ~missing  # (an empty point has no x, y)
    px, py = np.full(n, np.nan), np.full(n, np.nan)
    px[single], py[single] = shapely.get_x(native[single]), shapely.get_y(native[single])
    if late_check:
        _check_latitudes(py[single])
    missing[single] |= ~(np.isfinite(px[single]) & np.isfinite(py[single]))
    single &= ~missing
    points = np.flatnonzero(single | (~missing & (kind == 4)))
    others = np.flatnonzero(~missing & ~np.isin(kind, [0, 4]))
    if len(points):
        xy = (px[points], py[points]) if single[points].all() else None
        code_idx[points] = covering_grid(prepared, native[points], xy)
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
        code_idx[outside], distance[outside] = place_outside(
            prepared, native[outside], metric[outside]
        )
    return _result(prepared, code_idx, missing, distance, objects.index)


def assign_xy(
    x: np.ndarray,
    y: np.ndarray,
    crs,
    grids: gpd.GeoDataFrame | PreparedGrids,
    *,
    code_column: str = "code",
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """:func:`assign` for points given by their coordinates, with no geometry object per point.

    The same rules and result as :func:`assign` on the points
    ``shapely.points(x, y)``; a NaN coordinate is a missing location. Only
    the points that the lattice cannot settle, or that lie outside every
    grid, become geometries: a million points from a file cost one pass
    over two arrays.

    Parameters
    ----------
    x, y : array-like of float
        Coordinates in ``crs`` (longitude, latitude for a geographic CRS).
    crs : anything pyproj accepts
        The points' CRS.
    grids : GeoDataFrame or PreparedGrids
        As for :func:`assign`.
    index : pandas.Index, optional
        The index of the result (default 0..n-1).
    """
    from pyproj import CRS, Transformer

    prepared = grids if isinstance(grids, PreparedGrids) else prepare_grids(grids, code_column)
    crs = CRS.from_user_input(crs)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if crs.is_geographic:
        _check_latitudes(y[np.isfinite(y)])
    if not crs.equals(prepared.source_crs):
        x, y = Transformer.from_crs(crs, prepared.source_crs, always_xy=True).transform(x, y)
    n = len(x)
    missing = ~(np.isfinite(x) & np.isfinite(y))
    code_idx = np.full(n, -1)
    located = np.flatnonzero(~missing)
    if len(located):
        code_idx[located] = covering_grid(prepared, None, (x[located], y[located]))
    distance = np.zeros(n)
    outside = np.flatnonzero((code_idx < 0) & ~missing)
    if len(outside):
        native = shapely.points(x[outside], y[outside])
        metric = gpd.GeoSeries(native, crs=prepared.source_crs).to_crs(prepared.crs).values
        code_idx[outside], distance[outside] = place_outside(prepared, native, metric)
    return _result(
        prepared, code_idx, missing, distance, pd.RangeIndex(n) if index is None else index
    )


def place_outside(prepared: PreparedGrids, native: np.ndarray, metric: np.ndarray):
    """Objects no grid covers: the nearest grid within 1 cm (else -1), and metres to the nearest.

    ``native`` in the grids' CRS, ``metric`` the same objects in ``prepared.crs``;
    shared by :func:`assign`, :func:`assign_xy` and the live index.
    """
    near = prepared.tree.nearest(native)
    distance = shapely.distance(metric, prepared.metric(near))
    code_idx = np.full(len(native), -1)
    edge = np.flatnonzero(distance <= EDGE_TOLERANCE_M)
    if len(edge):
        found = _nearest_within(prepared, native[edge], metric[edge], EDGE_TOLERANCE_M)
        edge, found = edge[found >= 0], found[found >= 0]
        code_idx[edge] = found
        distance[edge] = shapely.distance(metric[edge], prepared.metric(found))
    return code_idx, distance


def _result(prepared: PreparedGrids, code_idx, missing, distance, index) -> pd.DataFrame:
    distance[missing] = np.nan
    n = len(code_idx)
    assigned = code_idx >= 0
    codes = np.full(n, None, dtype=object)
    codes[assigned] = prepared.codes[code_idx[assigned]]
    reason = np.full(n, None, dtype=object)
    reason[~assigned] = np.where(missing[~assigned], MISSING, OUTSIDE)
    out = pd.DataFrame({"distance_m": distance}, index=index)
    # object columns holding None (not NaN) for "no grid" and "no reason"
    out.insert(0, "grid_code", pd.Series(codes, index=index, dtype=object))
    out.insert(1, "reason", pd.Series(reason, index=index, dtype=object))
    return out


def covering_grid(
    prepared: PreparedGrids,
    points: np.ndarray | None,
    xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Index (into ``prepared.codes``) of the smallest-code grid covering each point, -1 if none.

    The one implementation of the point rule, shared by :func:`assign` and
    the live index. ``xy`` passes the points' coordinates when the caller
    has them already; with ``points=None`` they are all there is, and
    geometries are made only for the points the lattice leaves open.

    Which way: at least :data:`LATTICE_MIN_POINTS` points and
    :data:`LATTICE_MIN_POINTS_PER_GRID` a grid (or a lattice built already),
    the fine lattice with candidates per cell; at least
    :data:`COARSE_LATTICE_MIN_POINTS_PER_GRID` a grid, the coarse lattice
    (a city's 50,000 grids and a million points); else the STRtree alone.
    All give the same answer.
    """
    n = len(points) if points is not None else len(xy[0])
    dense = n >= LATTICE_MIN_POINTS_PER_GRID * len(prepared.codes)
    coarse = n >= COARSE_LATTICE_MIN_POINTS_PER_GRID * len(prepared.codes)
    if n >= LATTICE_MIN_POINTS and (dense or coarse or prepared.has_lattice):
        x, y = xy if xy is not None else (shapely.get_x(points), shapely.get_y(points))
        if dense or prepared.has_lattice:
            fast = prepared.lattice_for(n).lookup(prepared.native, x, y)
        else:
            fast = prepared.coarse_lattice.lookup(x, y)
        rest = np.flatnonzero(fast == _UNRESOLVED)
        if len(rest):
            open_points = points[rest] if points is not None else shapely.points(x[rest], y[rest])
            fast[rest] = _exact_covering(prepared, open_points)
        return fast
    return _exact_covering(prepared, points if points is not None else shapely.points(*xy))


def _exact_covering(prepared: PreparedGrids, points: np.ndarray) -> np.ndarray:
    pi, gi = prepared.tree.query(points, predicate="intersects")
    out = np.full(len(points), -1)
    if len(pi):
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = gi[first]
    return out


def _nearest_within(
    prepared: PreparedGrids, native: np.ndarray, metric: np.ndarray, tolerance_m: float
) -> np.ndarray:
    """Per object, the nearest grid within ``tolerance_m`` metres (ties: smallest code).

    ``native`` and ``metric``: the same objects in the grids' CRS and in the
    metric one. Candidates come from the grids' own index, within ten times
    the tolerance in native units; their distances are measured in metres.
    """
    reach = _native_reach(prepared, native, 10 * tolerance_m)
    oi, gi = prepared.tree.query(native, predicate="dwithin", distance=reach)
    d = shapely.distance(metric[oi], prepared.metric(gi))
    within = d <= tolerance_m
    oi, gi, d = oi[within], gi[within], np.round(d[within], 6)  # equal to the micrometre
    order = np.lexsort((gi, d, oi))  # per object: nearest first, then smallest code
    oi, gi = oi[order], gi[order]
    out = np.full(len(metric), -1)
    first = np.r_[True, oi[1:] != oi[:-1]] if len(oi) else np.zeros(0, bool)
    out[oi[first]] = gi[first]
    return out


def _native_reach(prepared: PreparedGrids, native: np.ndarray, metres: float) -> np.ndarray:
    """Per object, ``metres`` in the grids' CRS units at least, measured at its box's centre.

    The shortest of the two axes' metres per native unit (a degree of
    longitude in a geographic CRS) converts: a displacement of ``metres``
    in any direction is no longer than the distance returned.
    """
    from pyproj import Transformer

    box = shapely.bounds(native)
    x, y = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    step = 1e-6 * np.maximum(1.0, np.maximum(np.abs(x), np.abs(y)))
    to_metric = Transformer.from_crs(prepared.source_crs, prepared.crs, always_xy=True)
    mx, my = to_metric.transform(np.r_[x, x + step, x], np.r_[y, y, y + step])
    n = len(x)
    along_x = np.hypot(mx[n : 2 * n] - mx[:n], my[n : 2 * n] - my[:n]) / step
    along_y = np.hypot(mx[2 * n :] - mx[:n], my[2 * n :] - my[:n]) / step
    reach = metres / np.minimum(along_x, along_y)
    return np.where(np.isfinite(reach) & (reach > 0), reach, np.inf)


def _largest_share(
    prepared: PreparedGrids, native: np.ndarray, metric: np.ndarray, measure
) -> np.ndarray:
    oi, gi = prepared.tree.query(native, predicate="intersects")
    out = np.full(len(native), -1)
    if len(oi):
        share = measure(shapely.intersection(metric[oi], prepared.metric(gi)))
        order = np.lexsort((gi, -share, oi))
        oi, gi, share = oi[order], gi[order], share[order]
        first = np.r_[True, oi[1:] != oi[:-1]] & (share > 1e-9)
        out[oi[first]] = gi[first]
    # touching grids only along edges (no share): decide by the point on surface
    zero = np.flatnonzero(out < 0)
    if len(zero):
        out[zero] = covering_grid(prepared, shapely.point_on_surface(native[zero]))
    return out
