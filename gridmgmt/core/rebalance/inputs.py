"""Validated inputs in a metric CRS (:class:`Problem`), for the rebalancer and the manual edits.

Checks the band and the columns, reads building ids, compounds and the
current grid of every building (new buildings are located and marked
*placed*), and works out how new grid codes are numbered.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core import codes as gc
from gridmgmt.core.atoms import adjacency
from gridmgmt.core.crs import metric_crs
from gridmgmt.core.layers import WGS84

ID_COLUMNS = ("id", "source_id", "building_id")
COMPOUND_COLUMNS = ("compound", "compound_source_id", "compound_id")


def _building_ids(buildings: gpd.GeoDataFrame) -> np.ndarray:
    """Building ids from the first of :data:`ID_COLUMNS` given (else the index), unique."""
    for col in ID_COLUMNS:
        if col in buildings.columns:
            ids = buildings[col]
            if ids.isna().any():
                raise ValueError(f"buildings: {col} is missing for some rows")
            break
    else:
        ids = buildings.index.to_series()
    ids = ids.astype(str).to_numpy(dtype=object)
    if len(set(ids)) != len(ids):
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].head(5).tolist()
        raise ValueError(f"buildings: duplicate ids {dup}")
    return ids


def _compound_of(buildings: gpd.GeoDataFrame) -> np.ndarray:
    """Compound id per building from the first of :data:`COMPOUND_COLUMNS` given (or None)."""
    for col in COMPOUND_COLUMNS:
        if col in buildings.columns:
            vals = buildings[col].to_numpy(dtype=object)
            return np.asarray(
                [str(v) if v is not None and v == v and str(v) != "" else None for v in vals],
                dtype=object,
            )
    return np.full(len(buildings), None, dtype=object)


class Problem:
    """Validated inputs in a metric CRS, shared by the auto-rebalancer and the manual edits.

    Parameters are those of :func:`~gridmgmt.core.rebalance.rebalance`.
    Grids are numbered ``0..n_grids-1`` in the order given, buildings
    ``0..len(ids)-1``; grids a change opens get the next numbers.

    Attributes
    ----------
    lo, hi : int
        The household band (inclusive).
    codes, code_index : list of str, dict
        Grid codes, and the number of each code.
    grid_kind, grid_flag : list
        Per grid: ``unit`` or ``residential``; the flag given with it.
    grid_geoms, grid_geoms_wgs84 : ndarray
        Grid polygons in the metric CRS and as given back (EPSG:4326).
    grid_edges : tuple of ndarray
        Grid adjacency ``(i, j, shared length)``.
    grid_households : ndarray
        Households per grid as the buildings are now.
    code_prefix, code_width, next_sequence
        How new grid codes are numbered (see :func:`_code_scheme`).
    locked : set of int
        Grids that must not change.
    ids, id_index : ndarray, dict
        Building ids, and the number of each id.
    households, move_cost : ndarray
        Per building: households, and households moved when it changes grid
        (none for new buildings).
    placed : ndarray of bool
        New buildings (given without a grid): placed, not moved.
    building_grid : ndarray
        Per building, the grid it is in now (new buildings: where they lie).
    building_compound : ndarray
        Per building, its compound id (or None).
    footprints, building_points : ndarray
        Per building, its footprint and a point on it (metric).
    workload : ndarray or None
        Per building, its workload weight.
    """

    def __init__(
        self,
        grids,
        buildings,
        *,
        boundary=None,
        roads=None,
        compounds=None,
        zones=None,
        min_households=250,
        max_households=500,
        locked=(),
        workload=None,
        used_codes=(),
        seed=0,
    ):
        self.started = time.perf_counter()
        if min_households > max_households:
            raise ValueError(
                f"min households ({min_households}) is greater than max ({max_households})"
            )
        if min_households < 0 or max_households <= 0:
            raise ValueError("household bounds must be positive")
        self.lo, self.hi, self.seed = int(min_households), int(max_households), int(seed)
        self._check_grids(grids)
        if buildings is None or buildings.crs is None:
            raise ValueError("buildings have no CRS")
        if "households" not in buildings.columns:
            raise ValueError("buildings: missing column households")
        hh = pd.to_numeric(buildings["households"], errors="coerce")
        if hh.isna().any() or (hh < 0).any():
            bad = buildings.index[hh.isna() | (hh < 0)][:10].tolist()
            raise ValueError(f"buildings: households missing or negative for {bad}")
        self.crs = metric_crs(grids)
        g = grids.reset_index(drop=True)
        self.codes = [str(c) for c in g["code"]]
        self.code_index = {c: k for k, c in enumerate(self.codes)}
        self.grid_kind = (
            g["kind"].fillna("residential").astype(str).tolist()
            if "kind" in g.columns
            else ["residential"] * len(g)
        )
        self.grid_flag = (
            [f if isinstance(f, str) and f else None for f in g["flag"]]
            if "flag" in g.columns
            else [None] * len(g)
        )
        self.grid_geoms_wgs84 = np.asarray(g.to_crs(WGS84).geometry.values, dtype=object)
        self.grid_geoms = np.asarray(g.to_crs(self.crs).geometry.values, dtype=object)
        self.n_grids = len(g)
        self._coverage: bool | None = None  # grids tile exactly (decided when first needed)
        self.code_prefix, self.code_width, self.next_sequence = _code_scheme(self.codes, used_codes)

        unknown_locked = sorted(set(map(str, locked)) - set(self.codes))
        if unknown_locked:
            raise ValueError(f"locked: unknown grid code(s) {unknown_locked}")
        self.locked = {self.code_index[str(c)] for c in locked}

        self.buildings = buildings
        self.ids = _building_ids(buildings)
        self.id_index = {b: k for k, b in enumerate(self.ids)}
        self.households = hh.to_numpy(dtype=np.int64)
        self.buildings_metric = buildings.to_crs(self.crs)
        self.footprints = np.asarray(self.buildings_metric.geometry.values, dtype=object)
        self.building_points = shapely.point_on_surface(self.footprints)
        self.building_grid, self.placed = self._grid_of_buildings(buildings)
        # new buildings (no grid yet) are placed, not moved: their families have no
        # 网格员 to change, so placing them anywhere costs nothing
        self.move_cost = np.where(self.placed, 0, self.households)
        self.building_compound = _compound_of(buildings)
        if workload is not None:
            w = pd.Series(workload)
            w.index = w.index.astype(str)
            self.workload = (
                pd.to_numeric(w.reindex(self.ids), errors="coerce")
                .fillna(0.0)
                .to_numpy(dtype=float)
            )
        else:
            self.workload = None
        self.boundary = boundary
        self.roads = None if roads is None or len(roads) == 0 else roads.to_crs(self.crs)
        self.compounds = (
            None if compounds is None or len(compounds) == 0 else compounds.to_crs(self.crs)
        )
        self.zones = None if zones is None or len(zones) == 0 else zones.to_crs(self.crs)
        gi, gj, gw = adjacency(self.grid_geoms)
        self.grid_edges = (gi, gj, gw)
        self.grid_households = np.bincount(
            self.building_grid, weights=self.households, minlength=self.n_grids
        ).astype(np.int64)

    @staticmethod
    def _check_grids(grids):
        if grids is None or len(grids) == 0:
            raise ValueError("no grids given")
        if grids.crs is None:
            raise ValueError("grids have no CRS")
        if "code" not in grids.columns:
            raise ValueError("grids: missing column code")
        codes = grids["code"].astype(str)
        if codes.duplicated().any():
            raise ValueError(f"grids: duplicate codes {sorted(set(codes[codes.duplicated()]))}")

    def _grid_of_buildings(self, buildings) -> tuple[np.ndarray, np.ndarray]:
        """Grid per building, and which buildings had none given (located by where they lie)."""
        given = (
            buildings["grid_code"].to_numpy(dtype=object)
            if "grid_code" in buildings.columns
            else np.full(len(buildings), None, dtype=object)
        )
        given = np.asarray(
            [str(v) if v is not None and v == v and str(v) != "" else None for v in given],
            dtype=object,
        )
        bad = sorted({v for v in given if v is not None and v not in self.code_index})
        if bad:
            raise ValueError(f"buildings: grid_code not among the grids: {bad[:10]}")
        missing = np.flatnonzero(np.asarray([v is None for v in given], dtype=bool))
        # an empty code in a given column marks a new building; no column: none is new
        placed = np.zeros(len(given), dtype=bool)
        if "grid_code" in buildings.columns:
            placed[missing] = True
        if len(missing):
            from gridmgmt.core.assignment import assign, prepare_grids

            frame = gpd.GeoDataFrame(
                {"code": self.codes}, geometry=list(self.grid_geoms), crs=self.crs
            )
            prepared = prepare_grids(frame, validate=False)
            located = assign(self.buildings_metric.iloc[missing].geometry, prepared)[
                "grid_code"
            ].to_numpy(dtype=object)
            outside = [self.ids[missing[k]] for k, c in enumerate(located) if c is None]
            if outside:
                raise ValueError(
                    f"{len(outside)} building(s) lie outside every grid: {', '.join(outside[:10])}"
                )
            given[missing] = located
        return np.asarray([self.code_index[v] for v in given], dtype=np.int64), placed

    def union(self, grids) -> object:
        """The ground of ``grids``: a fast coverage union when the grids tile exactly (they
        do when they come from the partition), else a full union."""
        polys = self.grid_geoms[np.asarray(grids, dtype=np.int64)]
        if self._coverage is None:
            try:
                self._coverage = bool(shapely.coverage_is_valid(self.grid_geoms))
            except shapely.errors.GEOSException:
                self._coverage = False
        union = shapely.coverage_union_all(polys) if self._coverage else shapely.union_all(polys)
        return shapely.make_valid(union)

    def residential(self, g: int) -> bool:
        """Whether grid ``g`` keeps to the band (new grids do; 单位网格 do not)."""
        return g >= self.n_grids or self.grid_kind[g] != "unit"

    def movable(self, g: int) -> bool:
        """Whether grid ``g`` may change: residential and not locked."""
        return self.residential(g) and g not in self.locked

    def grid_neighbours(self, g: int) -> list[int]:
        """Grids sharing boundary with grid ``g``."""
        gi, gj, _ = self.grid_edges
        return sorted(set(gj[gi == g].tolist()) | set(gi[gj == g].tolist()))


def _code_scheme(codes: list[str], used_codes: Iterable[str]) -> tuple[str | None, int, int]:
    """(12-digit prefix or None, sequence width, next free sequence) for new grid codes."""
    every = [str(c) for c in codes] + [str(c) for c in used_codes]
    full = [c for c in every if len(c) == gc.CODE_LENGTH and c.isdigit()]
    if full:
        prefixes = {c[: gc.PREFIX_LENGTH] for c in codes if len(c) == gc.CODE_LENGTH}
        if len(prefixes) > 1:
            raise ValueError(
                f"grids of more than one 社区 ({sorted(prefixes)}): rebalance each 社区 separately"
            )
        prefix = prefixes.pop() if prefixes else full[0][: gc.PREFIX_LENGTH]
        seqs = [int(c[gc.PREFIX_LENGTH :]) for c in full if c.startswith(prefix)]
        return prefix, 3, max(seqs, default=0) + 1
    bare = [int(c) for c in every if c.isdigit()]
    if len(bare) != len(every):
        odd = [c for c in every if not c.isdigit()][:5]
        raise ValueError(f"grid codes must be digits (15-digit codes), got {odd}")
    return None, max(6, max((len(c) for c in every), default=6)), max(bare, default=0) + 1


def grid_name(p: Problem, g: int) -> str:
    """Grid ``g``'s code, or ``new grid #k`` for a grid a change opened."""
    return p.codes[g] if g < p.n_grids else f"new grid #{g - p.n_grids + 1}"
