"""Rebalancing: bring existing 责任网格 back into the household band with minimal change.

Households change (new towers, demolitions, more or fewer families per
building); grids drift out of the 250–500 band. Re-partitioning from
scratch would redraw every grid and re-assign many households to new grid
workers. :func:`rebalance` changes only what it must:

1. The current grids are kept as they are, except around grids out of band:
   there the partition engine's **atoms** (street blocks cut by roads, whole
   compounds, building groups; :mod:`gridmgmt.core.atoms`) are rebuilt with
   the current grid boundaries as extra cut lines, so every atom lies inside
   one grid and the atoms' regions tile each grid exactly.
2. For a grid out of band, **chains of boundary-atom moves** are searched
   (depth-first, up to three hops): an over-full grid pushes atoms to
   a neighbour, which may pass its own surplus on; an under-full grid pulls
   from a neighbour, which may pull in turn. Each hop takes atoms on the
   shared boundary, fewest households first, and never leaves a grid
   disconnected (what a moved atom cuts off goes with it). A chain that
   settles every grid it touches wins by fewest households moved; failing
   that, the one that most reduces the total distance from the band.
3. Where that is costly or impossible, the boundaries among two or three
   grids are **redrawn exactly** (all assignments of their atoms
   enumerated: exchanges), an over-full grid is **split** by the partition
   engine's balanced bisection or a new grid is **carved** around its new
   buildings, or an under-full grid is **merged** with a neighbour (and the
   union re-split if it is too large); the cheapest in households moved
   wins. If no arrangement of whole compounds brings a grid into band, the
   compounds of that grid and its neighbours are divided between buildings
   (``split_compounds``, reported) and the same steps run again; as the
   very last resort a grid and one or two rings of neighbours are
   re-partitioned locally. Moves no longer needed are then undone.
4. Separately (in a second thread, while the search runs: HiGHS releases
   the GIL), the same atoms are moved between the same grids by an
   **exact program** (:func:`gridmgmt.core.min_moves.min_moves`): the
   fewest households that bring every grid into band with compounds whole
   and no grid emptied, when moves (and the new grids step 3 would carve
   around new buildings, taken or not as they pay) can do it. Of the two
   answers the one with fewer grids out of band wins, then fewer compounds
   divided, fewer households moved, fewer grids added. :func:`fewest_moves`
   gives that floor over the whole 社区 as a yardstick.
5. Changed grids get the union of their atoms' regions as polygon (so the
   grids still tile the 社区 and follow roads and walls); unchanged grids keep
   their polygons and codes. New grids get the next sequence numbers after
   every code ever used (``used_codes``): retired codes are never reused.

"Households moved" counts families whose grid (and so 网格员) changes. New
buildings (given with an empty ``grid_code``) have none yet: they are
*placed*, free, wherever that helps (a new block of flats often becomes a
grid of its own), and reported apart.

:func:`move_buildings`, :func:`split_grid` and :func:`merge_grids` are the
manual edits behind the supervisor's editor. They never refuse a result
that breaks the band: ``report.violations`` lists what is wrong (out of
band, not contiguous, compound split) so the UI can show it live. They do
raise ``ValueError`` for impossible input.

Everything is deterministic for a given ``seed``, unless the exact program
runs out of its time (``EXACT_SECONDS``): then the search's answer stands alone.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core import codes as gc
from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.atoms import adjacency, build_atoms, road_classes
from gridmgmt.core.band_repair import repair_band
from gridmgmt.core.bisection import TREE_TRIES, Bisector
from gridmgmt.core.compounds import building_compounds
from gridmgmt.core.crs import metric_crs
from gridmgmt.core.layers import WGS84
from gridmgmt.core.min_moves import MoveSolution, component_labels, min_moves
from gridmgmt.core.tessellation import grid_polygon, polygonal_part, segments

#: how many grids deep a chain of moves may reach
MAX_DEPTH = 3
#: atoms are rebuilt for grids this many steps from a grid out of band
ACTIVE_DEPTH = 2
#: seconds the exact program may take; past that the search's answer stands alone (so
#: only a program this hard makes the answer depend on the machine's speed)
EXACT_SECONDS = 0.5
#: buildings outside compounds move in groups of at most max_households / LOOSE_FRACTION
LOOSE_FRACTION = 6
#: rings of neighbours a last-resort local re-partition may take in
CLUSTER_RINGS = 2
#: its effort: random trees per cut, band-repair rounds, grid counts tried per ring
#: (more found nothing more on the benchmark and test layouts, and took twice as long)
CLUSTER_TREE_TRIES = 12
CLUSTER_REPAIR_ROUNDS = 2
CLUSTER_COUNTS = 2
#: pairs of grids with at most this many atoms are redrawn by enumeration
PAIR_LIMIT = 13
#: and triples with at most this many
TRIPLE_LIMIT = 9
#: neighbours tried at each step of a chain
BRANCHING = 4
#: random spanning trees per cut of the repair loop's splits and merges
REPAIR_TREE_TRIES = 4
#: rounds of the repair loop (each accepted change strictly reduces the band distance)
MAX_ROUNDS = 400
ID_COLUMNS = ("id", "source_id", "building_id")
COMPOUND_COLUMNS = ("compound", "compound_source_id", "compound_id")


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class RebalanceReport:
    """What a rebalancing (or a manual edit) changed, and why.

    ``households_moved`` counts families whose grid (and so 网格员) changes;
    ``share_moved`` is that share of all households now. New buildings
    (given without a grid) are *placed*, not moved: ``households_placed``.
    """

    households_moved: int
    share_moved: float
    buildings_moved: int
    households_placed: int
    buildings_placed: int
    grids_changed: tuple[str, ...]
    grids_added: tuple[str, ...]
    grids_retired: tuple[str, ...]
    out_of_band_before: tuple[str, ...]
    out_of_band_after: tuple[str, ...]
    reasons: tuple[str, ...]
    violations: tuple[str, ...]
    runtime_s: float

    def __str__(self) -> str:
        lines = [
            f"households moved {self.households_moved} ({self.share_moved:.1%}) "
            f"in {self.buildings_moved} building(s)"
            + (
                f"; new buildings placed {self.buildings_placed} "
                f"({self.households_placed} households)"
                if self.buildings_placed
                else ""
            )
            + f"; runtime {self.runtime_s:.2f} s",
            f"out of band: {len(self.out_of_band_before)} before, {len(self.out_of_band_after)} after"
            + (f" ({', '.join(self.out_of_band_after)})" if self.out_of_band_after else ""),
            f"grids changed {len(self.grids_changed)}, added {len(self.grids_added)}"
            + (f" ({', '.join(self.grids_added)})" if self.grids_added else "")
            + f", retired {len(self.grids_retired)}"
            + (f" ({', '.join(self.grids_retired)})" if self.grids_retired else ""),
        ]
        lines.extend(f"- {r}" for r in self.reasons)
        lines.extend(f"! {v}" for v in self.violations)
        return "\n".join(lines)


@dataclass(frozen=True)
class RebalanceResult:
    """New grids (EPSG:4326), building labels, the buildings that moved, and the report."""

    grids: gpd.GeoDataFrame
    labels: pd.Series
    moves: gpd.GeoDataFrame
    report: RebalanceReport


# ------------------------------------------------------------------ inputs
def _building_ids(buildings: gpd.GeoDataFrame) -> np.ndarray:
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
    for col in COMPOUND_COLUMNS:
        if col in buildings.columns:
            vals = buildings[col].to_numpy(dtype=object)
            return np.asarray(
                [str(v) if v is not None and v == v and str(v) != "" else None for v in vals],
                dtype=object,
            )
    return np.full(len(buildings), None, dtype=object)


class _Problem:
    """Validated inputs in a metric CRS, shared by the auto-rebalancer and the manual edits."""

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
        self.kind = (
            g["kind"].fillna("residential").astype(str).tolist()
            if "kind" in g.columns
            else ["residential"] * len(g)
        )
        self.old_flag = (
            [f if isinstance(f, str) and f else None for f in g["flag"]]
            if "flag" in g.columns
            else [None] * len(g)
        )
        self.geom_out = np.asarray(g.to_crs(WGS84).geometry.values, dtype=object)
        self.geom = np.asarray(g.to_crs(self.crs).geometry.values, dtype=object)
        self.n_grids = len(g)
        self._coverage: bool | None = None  # grids tile exactly (decided when first needed)
        self.prefix, self.width, self.next_seq = _code_scheme(self.codes, used_codes)

        unknown_locked = sorted(set(map(str, locked)) - set(self.codes))
        if unknown_locked:
            raise ValueError(f"locked: unknown grid code(s) {unknown_locked}")
        self.locked = {self.code_index[str(c)] for c in locked}

        self.buildings = buildings
        self.ids = _building_ids(buildings)
        self.id_index = {b: k for k, b in enumerate(self.ids)}
        self.hh = hh.to_numpy(dtype=np.int64)
        self.bm = buildings.to_crs(self.crs)
        self.bgeom = np.asarray(self.bm.geometry.values, dtype=object)
        self.rep = shapely.point_on_surface(self.bgeom)
        self.label0, self.placed = self._current_labels(buildings)
        # new buildings (no grid yet) are placed, not moved: their families have no
        # 网格员 to change, so placing them anywhere costs nothing
        self.move_cost = np.where(self.placed, 0, self.hh)
        self.compound = _compound_of(buildings)
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
        gi, gj, gw = adjacency(self.geom)
        self.grid_edges = (gi, gj, gw)
        self.grid_hh0 = np.bincount(self.label0, weights=self.hh, minlength=self.n_grids).astype(
            np.int64
        )

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

    def _current_labels(self, buildings) -> tuple[np.ndarray, np.ndarray]:
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

            frame = gpd.GeoDataFrame({"code": self.codes}, geometry=list(self.geom), crs=self.crs)
            prepared = prepare_grids(frame, validate=False)
            located = assign(self.bm.iloc[missing].geometry, prepared)["grid_code"].to_numpy(
                dtype=object
            )
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
        polys = self.geom[np.asarray(grids, dtype=np.int64)]
        if self._coverage is None:
            try:
                self._coverage = bool(shapely.coverage_is_valid(self.geom))
            except shapely.errors.GEOSException:
                self._coverage = False
        union = shapely.coverage_union_all(polys) if self._coverage else shapely.union_all(polys)
        return shapely.make_valid(union)

    def residential(self, g: int) -> bool:
        return g >= self.n_grids or self.kind[g] != "unit"

    def movable(self, g: int) -> bool:
        return self.residential(g) and g not in self.locked

    def grid_neighbours(self, g: int) -> list[int]:
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


# ------------------------------------------------------------------ atoms
class _Nodes:
    """Atoms (and building-less regions) of some grids, with their graph and current grid."""

    def __init__(
        self, p: _Problem, active: list[int], *, fine: bool = False, divisible=frozenset()
    ):
        self.p = p
        active = sorted(set(active))
        self.grids = active
        polys = p.geom[active]
        area = p.union(active)
        self.bsel = np.flatnonzero(np.isin(p.label0, active))
        cut = list(shapely.boundary(polys))
        if p.zones is not None:
            cut.extend(shapely.boundary(p.zones.geometry.values))
        roads = _clip(p.roads, area)
        if roads is not None:  # roads along a grid boundary would cut slivers off it
            roads = _away_from(roads, np.asarray(cut, dtype=object), 1.0)
        comps = _clip(p.compounds, area)
        if comps is None:
            comps = _compounds_from_buildings(p, self.bsel)
        if comps is not None:
            comps = comps.copy()
            if "compound_id" not in comps.columns:
                src = "source_id" if "source_id" in comps.columns else None
                comps["compound_id"] = (
                    comps[src].astype(str) if src else [f"compound:{i}" for i in range(len(comps))]
                )
            for col in ("compound_kind", "landuse"):
                if col not in comps.columns:
                    comps[col] = "residential"
        sub = gpd.GeoDataFrame(
            {"compound_id": p.compound[self.bsel]}, geometry=p.bgeom[self.bsel], crs=p.crs
        )
        building_compound = building_compounds(sub, p.rep[self.bsel], comps)
        atoms = build_atoms(
            area,
            _inside_own_grid(p, self.bsel),
            p.hh[self.bsel],
            building_compound,
            roads_geom=None if roads is None else roads.geometry.values,
            road_class=road_classes(roads),
            compounds=comps,
            min_households=p.lo,
            max_households=0 if fine else p.hi,
            loose_ceiling=None if fine else max(1, p.hi // LOOSE_FRACTION),
            unit_min_area_m2=math.inf,
            cut_lines=np.asarray(cut, dtype=object),
            divisible=divisible,
        )
        empty = np.asarray([r for r in atoms.empty_regions if r.area > 0.01], dtype=object).reshape(
            -1
        )
        self.region = np.concatenate([atoms.region, empty]) if len(empty) else atoms.region
        self.n = len(self.region)
        n_atoms = len(atoms.region)
        self.hh = np.concatenate([atoms.households, np.zeros(len(empty), dtype=np.int64)])
        self.building_node = atoms.building_atom  # per building of bsel
        # households moved when the node changes grid (new buildings' count nothing)
        self.cost = np.bincount(
            self.building_node, weights=p.move_cost[self.bsel], minlength=self.n
        ).astype(np.int64)
        self.compound_id = np.concatenate(
            [atoms.compound_id, np.full(len(empty), None, dtype=object)]
        )
        self.wl = (
            np.bincount(self.building_node, weights=p.workload[self.bsel], minlength=self.n)
            if p.workload is not None
            else None
        )
        # each node lies in one grid (grid boundaries were cut lines): locate its region
        pos = shapely.point_on_surface(self.region)
        tree = shapely.STRtree(polys)
        ni, gi = tree.query(pos, predicate="within")
        lab = np.full(self.n, -1, dtype=np.int64)
        lab[ni] = np.asarray(active)[gi]
        lost = np.flatnonzero(lab < 0)
        if len(lost):
            lab[lost] = np.asarray(active)[tree.nearest(pos[lost])]
        # an atom goes with most of its buildings when its point falls elsewhere (slivers)
        if n_atoms:
            votes = pd.DataFrame(
                {"node": self.building_node, "grid": p.label0[self.bsel], "hh": p.hh[self.bsel]}
            )
            top = votes.groupby(["node", "grid"]).size().reset_index(name="k")
            top = top.sort_values(["node", "k", "grid"], ascending=[True, False, True])
            top = top.drop_duplicates("node")
            disagree = top[lab[top["node"].to_numpy()] != top["grid"].to_numpy()]
            if len(disagree):
                inside = shapely.area(
                    shapely.intersection(
                        self.region[disagree["node"].to_numpy()],
                        p.geom[disagree["grid"].to_numpy()],
                    )
                ) > 0.5 * shapely.area(self.region[disagree["node"].to_numpy()])
                fix = disagree[inside]
                lab[fix["node"].to_numpy()] = fix["grid"].to_numpy()
        self.lab0 = lab
        c = shapely.centroid(self.region)
        self.xy = np.column_stack([shapely.get_x(c), shapely.get_y(c)])
        i, j, w = adjacency(self.region, grid_size=None)  # atoms: a clean coverage
        self._set_graph(*_within_zones(p, self.region, i, j, w))

    def _set_graph(self, i: np.ndarray, j: np.ndarray, w: np.ndarray) -> None:
        self.graph = AtomGraph(self.n, i, j, w)
        self.adj: list[dict[int, float]] = [dict() for _ in range(self.n)]
        for a, b, length in zip(i.tolist(), j.tolist(), w.tolist(), strict=True):
            self.adj[a][b] = self.adj[a].get(b, 0.0) + length
            self.adj[b][a] = self.adj[b].get(a, 0.0) + length

    @classmethod
    def spliced(cls, old: _Nodes, fine: _Nodes) -> _Nodes | None:
        """``old`` with the nodes of ``fine.grids`` replaced by ``fine``'s (rebuilt there).

        Rebuilding the atoms of a few grids is much cheaper than of all; the
        contacts across their outline are found again (coverage-cleaned, so
        independently cleaned edges still match). None when buildings do not
        sit on one side consistently (then rebuild everything).
        """
        p = old.p
        inner = np.isin(old.lab0, fine.grids)
        keep = np.flatnonzero(~inner)
        in_fine = np.isin(p.label0[old.bsel], fine.grids)
        if not np.array_equal(fine.bsel, old.bsel[in_fine]):
            return None
        if (inner[old.building_node] != in_fine).any():
            return None  # a building whose atom lies in the other part
        new_of_old = np.full(old.n, -1, dtype=np.int64)
        new_of_old[keep] = np.arange(len(keep))
        out = cls.__new__(cls)
        out.p, out.grids, out.bsel = p, old.grids, old.bsel
        out.region = np.concatenate([old.region[keep], fine.region])
        out.n = len(out.region)
        out.hh = np.concatenate([old.hh[keep], fine.hh])
        out.cost = np.concatenate([old.cost[keep], fine.cost])
        node = new_of_old[old.building_node]
        node[in_fine] = len(keep) + fine.building_node
        out.building_node = node
        out.compound_id = np.concatenate([old.compound_id[keep], fine.compound_id])
        out.wl = (
            np.bincount(node, weights=p.workload[old.bsel], minlength=out.n)
            if p.workload is not None
            else None
        )
        out.lab0 = np.concatenate([old.lab0[keep], fine.lab0])
        out.xy = np.concatenate([old.xy[keep], fine.xy])
        oi, oj, ow = old.graph.i, old.graph.j, old.graph.w
        both = ~inner[oi] & ~inner[oj]
        edges = [
            (new_of_old[oi[both]], new_of_old[oj[both]], ow[both]),
            (fine.graph.i + len(keep), fine.graph.j + len(keep), fine.graph.w),
        ]
        # contacts across the outline: kept nodes that touched a replaced one, and the new nodes
        rim = np.unique(np.r_[oi[inner[oj] & ~inner[oi]], oj[inner[oi] & ~inner[oj]]])
        if len(rim):
            ends = np.r_[new_of_old[rim], len(keep) + np.arange(fine.n)]
            ci, cj, cw = adjacency(out.region[ends], grid_size=0.01)
            ci, cj = ends[ci], ends[cj]
            cross = (ci < len(keep)) != (cj < len(keep))
            edges.append(_within_zones(p, out.region, ci[cross], cj[cross], cw[cross]))
        i, j, w = (np.concatenate(parts) for parts in zip(*edges, strict=True))
        out._set_graph(i.astype(np.int64), j.astype(np.int64), w.astype(float))
        return out


def _within_zones(p: _Problem, region: np.ndarray, i, j, w):
    """The contacts ``(i, j, w)`` between nodes in the same zone (all when there are no zones)."""
    if p.zones is None:
        return i, j, w
    pos = shapely.point_on_surface(region)
    zi, zz = shapely.STRtree(p.zones.geometry.values).query(pos, predicate="within")
    zone = np.full(len(region), -1)
    zone[zi] = zz
    keep = zone[i] == zone[j]
    return i[keep], j[keep], w[keep]


def _inside_own_grid(p: _Problem, bsel: np.ndarray) -> np.ndarray:
    """Footprints clipped to their grid where they stick out of it.

    Atoms are located by a point on each footprint; a footprint crossing its
    grid's boundary is cut to the part inside, so the atom stays with the grid
    the building is recorded in.
    """
    geom = p.bgeom[bsel].copy()
    own = p.geom[p.label0[bsel]]
    out = np.flatnonzero(~shapely.covers(own, p.rep[bsel]))
    if len(out):
        part = shapely.intersection(geom[out], own[out])
        for k, piece in zip(out, part, strict=True):
            polys = [
                q for q in shapely.get_parts(piece) if q.geom_type == "Polygon" and q.area > 0.01
            ]
            if polys:
                geom[k] = max(polys, key=lambda q: q.area)
            else:  # wholly outside its recorded grid: a token footprint just inside the grid
                inner = shapely.buffer(own[k], -0.5)
                target = inner if not inner.is_empty else own[k]
                near = shapely.shortest_line(target, p.rep[bsel][k])
                x, y = shapely.get_coordinates(near)[0]
                geom[k] = shapely.box(x - 0.2, y - 0.2, x + 0.2, y + 0.2)
    return geom


def _away_from(roads: gpd.GeoDataFrame, lines: np.ndarray, tolerance: float):
    """The parts of roads farther than ``tolerance`` from ``lines`` (decided per ~10 m piece).

    Only road segments passing near a line are cut into pieces and tested
    piece by piece. Consecutive kept pieces of one road are joined again, so
    the block builder nodes a few hundred lines, not tens of thousands of pieces.
    """
    a, b, owner = segments(roads.geometry.values)
    la, lb, _ = segments(shapely.get_parts(np.asarray(lines, dtype=object)))
    near = np.zeros(len(a), bool)
    tree = None
    if len(la) and len(a):
        tree = shapely.STRtree(shapely.linestrings(np.stack([la, lb], axis=1)))
        hit = tree.query(
            shapely.linestrings(np.stack([a, b], axis=1)), predicate="dwithin", distance=tolerance
        )[0]
        near[hit] = True
    # near segments in pieces of at most 10 m, in order along the road
    count = np.where(near, np.maximum(1, np.ceil(np.hypot(*(b - a).T) / 10.0)), 1).astype(np.int64)
    seg = np.repeat(np.arange(len(a)), count)
    step = np.arange(len(seg)) - np.repeat(np.cumsum(count) - count, count)
    t0 = (step / count[seg])[:, None]
    t1 = ((step + 1) / count[seg])[:, None]
    d = (b - a)[seg]
    a, b, owner = a[seg] + d * t0, a[seg] + d * t1, owner[seg]
    close = np.zeros(len(a), bool)
    test = np.flatnonzero(near[seg])
    if tree is not None and len(test):
        mid = shapely.points((a[test] + b[test]) / 2.0)
        close[test[tree.query(mid, predicate="dwithin", distance=tolerance)[0]]] = True
    keep = np.flatnonzero(~close)
    if len(keep) == 0:
        return None
    # runs of kept pieces: a new run where the previous piece was dropped or another road's
    starts = np.r_[True, (np.diff(keep) != 1) | (owner[keep[1:]] != owner[keep[:-1]])]
    run = np.cumsum(starts) - 1
    ends = np.r_[starts[1:], True]
    coords = np.concatenate([a[keep], b[keep[ends]]])
    which = np.concatenate([run, run[ends]])
    order = np.lexsort((np.r_[np.arange(len(keep)), np.full(ends.sum(), len(keep))], which))
    segs = shapely.linestrings(coords[order], indices=which[order])
    classes = (
        roads["road_class"].to_numpy(dtype=object)[owner[keep[starts]]]
        if "road_class" in roads.columns
        else np.full(starts.sum(), "residential", dtype=object)
    )
    return gpd.GeoDataFrame({"road_class": classes}, geometry=list(segs), crs=roads.crs)


def _clip(frame, area):
    if frame is None or len(frame) == 0:
        return None
    hit = shapely.STRtree(frame.geometry.values).query(area, predicate="intersects")
    return frame.iloc[np.sort(hit)] if len(hit) else None


def _compounds_from_buildings(p: _Problem, bsel: np.ndarray):
    """Compound outlines from the buildings' compound ids when no compound layer is given."""
    comp = p.compound[bsel]
    has = np.asarray([c is not None for c in comp])
    if not has.any():
        return None
    frame = gpd.GeoDataFrame(
        {"compound_id": comp[has]}, geometry=p.bgeom[bsel][has], crs=p.crs
    ).dissolve("compound_id")
    hulls = shapely.buffer(shapely.convex_hull(frame.geometry.values), 2.0)
    return gpd.GeoDataFrame(
        {"compound_id": frame.index.astype(str)}, geometry=list(hulls), crs=p.crs
    )


# ------------------------------------------------------------------ search
class _State:
    """Node labels and grid totals under change, with the cost (households moved) kept current."""

    def __init__(self, p: _Problem, nodes: _Nodes):
        self.p, self.nd = p, nodes
        self.lab = nodes.lab0.copy()
        self.ghh = p.grid_hh0.astype(np.int64).copy()
        # grids' totals from their nodes (the nodes decide where buildings are)
        active = np.unique(nodes.lab0)
        self.ghh[active] = 0
        np.add.at(self.ghh, self.lab, nodes.hh)
        self.gwl = None
        if nodes.wl is not None:
            self.gwl = np.bincount(p.label0, weights=p.workload, minlength=p.n_grids)
            self.gwl[active] = 0
            np.add.at(self.gwl, self.lab, nodes.wl)
        self.members: dict[int, set[int]] = {}
        for u, g in enumerate(self.lab.tolist()):
            self.members.setdefault(g, set()).add(u)
        self.active = set(active.tolist())
        self.cost = 0
        self.n_grids = p.n_grids

    # -- band
    def dev(self, g: int) -> int:
        if not self.p.residential(g):
            return 0
        h = int(self.ghh[g])
        return max(0, self.p.lo - h) + max(0, h - self.p.hi)

    def movable(self, g: int) -> bool:
        return g in self.active and self.p.movable(g)

    # -- changes
    def move(self, u: int, to: int) -> None:
        frm = int(self.lab[u])
        h = int(self.nd.hh[u])
        l0 = int(self.nd.lab0[u])
        self.cost += int(self.nd.cost[u]) * (int(to != l0) - int(frm != l0))
        self.lab[u] = to
        self.members[frm].discard(u)
        self.members.setdefault(to, set()).add(u)
        self.ghh[frm] -= h
        self.ghh[to] += h
        if self.gwl is not None:
            self.gwl[frm] -= self.nd.wl[u]
            self.gwl[to] += self.nd.wl[u]

    def new_grid(self) -> int:
        g = self.n_grids
        self.n_grids += 1
        self.ghh = np.append(self.ghh, 0)
        if self.gwl is not None:
            self.gwl = np.append(self.gwl, 0.0)
        self.members[g] = set()
        self.active.add(g)
        return g

    # -- graph
    def components(self, nodes: set[int]) -> int:
        seen, count = set(), 0
        for s in nodes:
            if s in seen:
                continue
            count += 1
            stack = [s]
            seen.add(s)
            while stack:
                a = stack.pop()
                for b in self.nd.adj[a]:
                    if b in nodes and b not in seen:
                        seen.add(b)
                        stack.append(b)
        return count

    def neighbours(self, g: int) -> dict[int, float]:
        """Grids sharing boundary with ``g`` (within the active nodes), with the shared length."""
        out: dict[int, float] = {}
        for a in self.members.get(g, ()):
            for b, w in self.nd.adj[a].items():
                h = int(self.lab[b])
                if h != g:
                    out[h] = out.get(h, 0.0) + w
        return out

    def pieces(self, nodes: set[int]) -> list[set[int]]:
        """Connected pieces of ``nodes``."""
        seen: set[int] = set()
        out = []
        for s in sorted(nodes):
            if s in seen:
                continue
            piece = {s}
            stack = [s]
            seen.add(s)
            while stack:
                a = stack.pop()
                for b in self.nd.adj[a]:
                    if b in nodes and b not in seen:
                        seen.add(b)
                        piece.add(b)
                        stack.append(b)
            out.append(piece)
        return out

    def detach(self, rest: set[int], u: int) -> set[int] | None:
        """Nodes that leave ``rest`` with ``u``: ``u`` and whatever taking it cuts off.

        Of the pieces ``u`` held together, the one with most households stays;
        the others go with ``u`` (so the grid stays as connected as it was).
        None when nothing with households would stay.
        """
        hh = self.nd.hh
        left = rest - {u}
        if not left:
            return None
        near = set(self.nd.adj[u])
        attached = [q for q in self.pieces(left) if q & near]
        out = {u}
        if attached:
            main = max(attached, key=lambda q: (int(hh[list(q)].sum()), -min(q)))
            for q in attached:
                if q is not main:
                    out |= q
        if not any(hh[x] > 0 for x in left - out):
            return None
        return out

    def hop(self, src: int, dst: int, aim: int, cap: int) -> list[int]:
        """Atoms of ``src`` on its boundary with ``dst`` worth at least ``aim`` households (at most ``cap``).

        Greedy: an atom that completes the amount is taken if one exists (the
        smallest); otherwise the largest that fits; every step keeps ``src``
        as connected as it was (building-less regions cut off go along).
        Returns the atoms (possibly short of ``aim``).
        """
        hh = self.nd.hh
        rest = set(self.members.get(src, ()))
        target = set(self.members.get(dst, ()))
        chosen: list[int] = []
        total = 0
        while total < aim:
            touch: dict[int, float] = {}
            for a in target.union(chosen):
                for b, w in self.nd.adj[a].items():
                    if b in rest:
                        touch[b] = touch.get(b, 0.0) + w
            options = []
            for u in sorted(touch):
                if total + int(hh[u]) > cap:
                    continue
                take = self.detach(rest, u)
                if take is None:
                    continue
                h = int(hh[list(take)].sum())
                if total + h <= cap:
                    options.append((u, h, touch[u], take))
            if not options:
                break
            completing = [o for o in options if total + o[1] >= aim and o[1] > 0]
            if completing:
                pick = min(completing, key=lambda o: (o[1], -o[2], o[0]))
            else:
                positive = [o for o in options if o[1] > 0]
                pick = max(positive or options, key=lambda o: (o[1], o[2], -o[0]))
            for x in sorted(pick[3]):
                chosen.append(x)
                rest.discard(x)
            total += pick[1]
            if total == 0 and len(chosen) > 8:
                break
        return chosen if total > 0 else []


@dataclass
class _Chain:
    gain: int
    cost: int
    moves: list[tuple[int, int, int]]  # node, from, to
    path: list[int]
    full: bool  # every grid the chain touched ends in band

    def key(self):
        """Chains that settle every grid they touch first, by households moved; then by gain."""
        if self.full:
            return (0, 0, self.cost, len(self.moves))
        return (1, -self.gain, self.cost, len(self.moves))


def _search(state: _State, v: int) -> _Chain | None:
    """Best chain of moves that reduces the band distance around grid ``v``."""
    p = state.p
    over = state.ghh[v] > p.hi
    best: list[_Chain | None] = [None]
    journal: list[tuple[int, int, int]] = []
    start_cost = state.cost
    dev0: dict[int, int] = {}

    def remember(g):
        if g not in dev0:
            dev0[g] = state.dev(g)

    def consider(path):
        gain = sum(dev0[g] - state.dev(g) for g in dev0)
        if gain <= 0:
            return
        cost = state.cost - start_cost
        full = all(state.dev(g) == 0 for g in dev0)
        cand = _Chain(gain, cost, list(journal), list(path), full)
        b = best[0]
        if b is None or cand.key() < b.key():
            best[0] = cand

    def apply(nodes, src, dst):
        for u in nodes:
            journal.append((u, src, dst))
            state.move(u, dst)

    def undo(k):
        while len(journal) > k:
            u, src, _dst = journal.pop()
            state.move(u, src)

    def order(cands, key):
        wl = state.gwl
        return sorted(
            cands,
            key=lambda g: ((wl[g] if wl is not None else 0.0) * (1 if over else -1), key(g), g),
        )[:BRANCHING]

    def push(path):
        src = path[-1]
        nbrs = [g for g in state.neighbours(src) if state.movable(g) and g not in path]
        for dst in order(nbrs, lambda g: int(state.ghh[g])):
            remember(dst)
            excess = int(state.ghh[src]) - p.hi
            cap = int(state.ghh[src]) - p.lo
            room = p.hi - int(state.ghh[dst])
            aims = [excess] + ([min(excess, room)] if 0 < room < excess else [])
            for aim in aims:
                k = len(journal)
                nodes = state.hop(src, dst, aim, cap)
                if nodes:
                    apply(nodes, src, dst)
                    consider(path + [dst])
                    if state.ghh[dst] > p.hi and len(path) < MAX_DEPTH:
                        push(path + [dst])
                undo(k)

    def pull(path):
        dst = path[-1]
        nbrs = [g for g in state.neighbours(dst) if state.movable(g) and g not in path]
        for src in order(nbrs, lambda g: -int(state.ghh[g])):
            remember(src)
            need = p.lo - int(state.ghh[dst])
            cap = p.hi - int(state.ghh[dst])
            spare = int(state.ghh[src]) - p.lo
            aims = [need] + ([spare] if 0 < spare < need else [])
            for aim in aims:
                k = len(journal)
                nodes = state.hop(src, dst, aim, cap)
                if nodes:
                    apply(nodes, src, dst)
                    consider(path + [src])
                    if state.ghh[src] < p.lo and len(path) < MAX_DEPTH:
                        pull(path + [src])
                undo(k)

    remember(v)
    (push if over else pull)([v])
    return best[0]


def _apply_chain(state: _State, chain: _Chain) -> None:
    for u, _src, dst in chain.moves:
        state.move(u, dst)


def _bisector(state: _State, tree_tries: int = TREE_TRIES) -> Bisector:
    nd = state.nd
    return Bisector(nd.graph, nd.hh, nd.xy, state.p.lo, state.p.hi, state.p.seed, tree_tries)


def _resplit(state: _State, grids: list[int], k: int, bis: Bisector):
    """Pieces of the union of ``grids`` cut into ``k`` by balanced bisection, matched to the grids.

    Returns ``[(grid or None for a new one, nodes)]`` or None when the cut failed.
    """
    union = np.asarray(sorted(set().union(*(state.members[g] for g in grids))), dtype=np.int64)
    if k <= 1:
        pieces = [union]
    else:
        pieces = bis.split(union, k)
        if len(pieces) != k:
            return None
    return _match(state, grids, pieces)


def _match(state: _State, grids: list[int], pieces: list[np.ndarray]):
    """Pair pieces with grids, most shared households first; unmatched pieces become new grids.

    Households in new buildings are not counted: they have no grid to keep.
    """
    kept = state.nd.cost  # households that keep their grid when a piece goes to it
    pairs = []
    for g in grids:
        mine = np.asarray(sorted(state.members[g]), dtype=np.int64)
        for idx, piece in enumerate(pieces):
            common = np.intersect1d(piece, mine)
            if len(common):
                pairs.append((-int(kept[common].sum()), -len(common), g, idx))
    owners: list[int | None] = [None] * len(pieces)
    taken = set()
    for _, _, g, idx in sorted(pairs):
        if owners[idx] is None and g not in taken:
            owners[idx] = g
            taken.add(g)
    return list(zip(owners, pieces, strict=True))


def _cluster(state: _State, v: int, bis: Bisector):
    """Last resort: re-partition ``v`` with all its neighbours as the partition engine would."""
    p = state.p
    hh = state.nd.hh
    grids = [v]
    for _ in range(CLUSTER_RINGS):
        ring = {
            u for g in grids for u in state.neighbours(g) if state.movable(u) and u not in grids
        }
        if not ring:
            break
        grids = grids + sorted(ring)
        union = np.asarray(sorted(set().union(*(state.members[g] for g in grids))), dtype=np.int64)
        total = int(hh[union].sum())
        k, feasible = bis.count(total)
        if not feasible:
            continue
        kmin, kmax = math.ceil(total / p.hi), math.floor(total / p.lo)
        for count in sorted(range(kmin, kmax + 1), key=lambda c: (abs(c - k), c))[:CLUSTER_COUNTS]:
            pieces = bis.split(union, count, tree_tries=CLUSTER_TREE_TRIES)
            if len(pieces) > 1:
                pieces = repair_band(pieces, bis.g, bis, rounds=CLUSTER_REPAIR_ROUNDS)
            if all(
                p.lo <= int(hh[q].sum()) <= p.hi and state.components(set(q.tolist())) == 1
                for q in pieces
            ):
                plan = _match(state, grids, pieces)
                return _plan_cost(state, plan), "cluster", grids, plan
    return None


def _plan_cost(state: _State, plan) -> int:
    """Households the plan moves, beyond those the state has moved already."""
    lab0 = state.nd.lab0
    moving = state.nd.cost
    cost = 0
    for owner, piece in plan:
        for u in piece.tolist():
            now = owner if owner is not None else -1
            cost += int(moving[u]) * (int(now != lab0[u]) - int(state.lab[u] != lab0[u]))
    return cost


def _structural(state: _State, v: int, bis: Bisector, bound: float = math.inf):
    """Best exchange, split, carve or merge (re-split if needed) for grid ``v``.

    ``bound`` is the cost of a known fix: cuts that open a new grid (which
    moves at least ``min_households``, less those in new buildings) are not
    tried when it is below that. Returns ``(cost, kind, grids, plan)`` with
    every piece in band and connected, or None.
    """
    p = state.p
    hh = state.nd.hh
    options = []
    total_v = int(state.ghh[v])
    opening = _opening_cost(state, [v])
    near = sorted(
        (u for u in state.neighbours(v) if state.movable(u)), key=lambda g: (state.ghh[g], g)
    )
    enumerated = set()  # neighbours with whom every two-way redraw was tried
    for u in near:
        plan = _exact(state, [v, u], PAIR_LIMIT)
        if plan is not None:
            options.append(("exchange", [v, u], plan))
        if sum(1 for x in state.members[v] | state.members[u] if hh[x] > 0) <= PAIR_LIMIT:
            enumerated.add(u)
    if not any(kind == "exchange" for kind, _, _ in options):
        for a in range(len(near)):
            for b in range(a + 1, len(near)):
                plan = _exact(state, [v, near[a], near[b]], TRIPLE_LIMIT)
                if plan is not None:
                    options.append(("exchange", [v, near[a], near[b]], plan))
    for _kind, _grids, plan in options:
        if _valid(state, plan):
            bound = min(bound, _plan_cost(state, plan))
    if total_v > p.hi and bound >= opening:
        k, feasible = bis.count(total_v)
        plan = _carve(state, v)  # first: of equal costs, the first option found wins
        if plan:
            options.append(("carve", [v], plan))
        if feasible and k > 1:
            plan = _resplit(state, [v], k, bis)
            if plan:
                options.append(("split", [v], plan))
    for u in near[:BRANCHING]:
        total = total_v + int(state.ghh[u])
        k, feasible = bis.count(total)
        if (
            not feasible
            or (k == 2 and u in enumerated)
            or (k > 2 and bound < _opening_cost(state, [v, u]))
        ):
            continue
        plan = _resplit(state, [v, u], k, bis)
        if plan and k == 1:  # a merge keeps the smallest code
            keep = min((v, u), key=lambda g: (g >= p.n_grids, p.codes[g] if g < p.n_grids else g))
            plan = [(keep, plan[0][1])]
        if plan:
            options.append(("merge" if k == 1 else "redraw", [v, u], plan))
    scored = []
    for kind, grids, plan in options:
        if _valid(state, plan):
            scored.append((_plan_cost(state, plan), len(plan), kind, grids, plan))
    if not scored:
        return None
    cost, _, kind, grids, plan = min(scored, key=lambda s: (s[0], s[1], s[3]))
    return cost, kind, grids, plan


def _new_households(nd: _Nodes, nodes) -> int:
    """Households of new buildings (placed, never moved) among ``nodes``."""
    nodes = np.asarray(list(nodes), dtype=np.int64)
    return int((nd.hh[nodes] - nd.cost[nodes]).sum())


def _opening_cost(state: _State, grids: list[int]) -> int:
    """The fewest households a new grid cut from ``grids`` can move: ``min_households``
    less the households of new buildings there (they have no grid to leave)."""
    nodes = set().union(*(state.members.get(g, ()) for g in grids))
    return max(0, state.p.lo - _new_households(state.nd, nodes))


def _carve_reason(state: _State, v: int, before: int, nodes: np.ndarray, moved: int) -> str:
    """Why grid ``v`` (``before`` households) lost ``nodes`` to a new grid around new buildings."""
    p = state.p
    return (
        f"{_name(p, v)}: {before} households over {p.hi}, {_new_households(state.nd, nodes)} "
        f"of them in new buildings: a new grid formed around those ({moved} households moved)"
    )


def _carve(state: _State, v: int):
    """A new grid grown around the new buildings of over-full ``v``, taking from ``v`` only
    the households it needs to reach the band, those moving fewest families first.

    A new block of flats is usually a grid of its own: this moves far fewer
    households than a balanced split. Returns a plan ``[(v, rest), (None,
    new)]`` with both in band and connected, or None.
    """
    p, nd = state.p, state.nd
    hh, cost = nd.hh, nd.cost
    members = state.members.get(v, set())
    total = int(state.ghh[v])
    if total <= p.hi or total < 2 * p.lo:
        return None
    seeds = sorted((u for u in members if hh[u] > cost[u]), key=lambda u: (cost[u] - hh[u], u))
    best = None
    for seed in seeds[:3]:
        rest = set(members)
        take = state.detach(rest, seed)
        if take is None:
            continue
        grown = set(take)
        rest -= take
        size = int(hh[list(grown)].sum())
        while size < p.lo:
            options = []
            for u in {b for a in grown for b in nd.adj[a]} & rest:
                more = state.detach(rest, u)
                if more is None:
                    continue
                h = int(hh[list(more)].sum())
                c = int(cost[list(more)].sum())
                if h > 0 and size + h <= p.hi and total - size - h >= p.lo:
                    options.append((size + h >= p.lo, c, h, u, more))
            if not options:
                break
            completing = [o for o in options if o[0]]
            if completing:  # the cheapest that completes the grid
                pick = min(completing, key=lambda o: (o[1], o[2], o[3]))
            else:  # else the most households per family moved
                pick = min(options, key=lambda o: (o[1] / o[2], -o[2], o[3]))
            grown |= pick[4]
            rest -= pick[4]
            size += pick[2]
        if not p.lo <= size <= p.hi:
            continue
        plan = [
            (v, np.asarray(sorted(rest), dtype=np.int64)),
            (None, np.asarray(sorted(grown), dtype=np.int64)),
        ]
        if _valid(state, plan):
            c = _plan_cost(state, plan)
            if best is None or c < best[0]:
                best = (c, plan)
    return None if best is None else best[1]


def _exact(state: _State, grids: list[int], limit: int):
    """Cheapest redrawing of the boundaries among ``grids`` (2 or 3), by enumeration.

    Every assignment of the grids' atoms holding households to one grid or
    another is tried (when there are at most ``limit`` of them); building-less
    regions then join the neighbouring side they share most boundary with.
    The cheapest assignment leaving every grid in band and connected wins.
    This finds exchanges (atoms moving both ways) that one-way moves miss.
    Returns a plan ``[(grid, nodes)]`` or None.
    """
    p = state.p
    nd = state.nd
    union = sorted(set().union(*(state.members[g] for g in grids)))
    pos = [x for x in union if nd.hh[x] > 0]
    zero = [x for x in union if nd.hh[x] == 0]
    n, m = len(pos), len(grids)
    if n > limit or n < m:
        return None
    hh = nd.hh[pos].astype(np.int64)
    mc = nd.cost[pos].astype(np.int64)
    lab0 = nd.lab0[pos]
    now = state.lab[pos]
    digits, sides = _assignments(m, n)
    ok = np.ones(len(digits), bool)
    for side_of in sides:
        tot = side_of @ hh
        ok &= (tot >= p.lo) & (tot <= p.hi)
    if not ok.any():
        return None
    gid = np.asarray(grids)
    moved = gid[digits[ok]] != lab0[None, :]
    cost = moved @ mc - int((mc * (now != lab0)).sum())
    cand = np.flatnonzero(ok)[np.argsort(cost, kind="stable")]
    for row in cand[:200]:
        side = {x: grids[d] for x, d in zip(pos, digits[row].tolist(), strict=True)}
        pending = list(zero)
        while pending:
            still = []
            for z in pending:
                votes: dict[int, float] = {}
                for b, w in nd.adj[z].items():
                    if b in side:
                        votes[side[b]] = votes.get(side[b], 0.0) + w
                if votes:
                    side[z] = max(sorted(votes), key=lambda g: votes[g])
                else:
                    still.append(z)
            if len(still) == len(pending):
                for z in still:
                    side[z] = int(state.lab[z])
                break
            pending = still
        parts = {g: {x for x, s in side.items() if s == g} for g in grids}
        if all(parts[g] and state.components(parts[g]) == 1 for g in grids):
            return [(g, np.asarray(sorted(parts[g]), dtype=np.int64)) for g in grids]
    return None


@functools.lru_cache(maxsize=64)
def _assignments(m: int, n: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Every assignment of ``n`` atoms to ``m`` grids (rows of digits), and per grid its 0/1 mask."""
    digits = (np.arange(m**n)[:, None] // (m ** np.arange(n))[None, :]) % m
    digits.setflags(write=False)
    sides = tuple((digits == j).astype(np.int64) for j in range(m))
    for side in sides:
        side.setflags(write=False)
    return digits, sides


def _valid(state: _State, plan) -> bool:
    """Every piece of ``plan`` in band and connected."""
    p, hh = state.p, state.nd.hh
    return all(p.lo <= int(hh[piece].sum()) <= p.hi for _, piece in plan) and all(
        state.components(set(piece.tolist())) == 1 for _, piece in plan
    )


def _apply_structural(state: _State, v: int, option, reasons: list[str]) -> None:
    p = state.p
    cost, kind, grids, plan = option
    total_v = int(state.ghh[v])
    new = []
    for owner, piece in plan:
        g = owner if owner is not None else state.new_grid()
        if owner is None:
            new.append(g)
        for u in piece.tolist():
            if state.lab[u] != g:
                state.move(u, g)
    names = ", ".join(_name(p, g) for g in grids)
    if kind == "carve":
        reasons.append(_carve_reason(state, v, total_v, plan[1][1], cost))
    elif kind == "split":
        reasons.append(
            f"{names}: {total_v} households over {p.hi} and no neighbour could take the surplus: "
            f"split into {len(plan)} grids ({cost} households moved)"
        )
    elif kind == "merge":
        reasons.append(
            f"{_name(p, v)}: {total_v} households, no neighbour could give enough: "
            f"merged with {', '.join(_name(p, g) for g in grids if g != v)} ({cost} households moved)"
        )
    elif kind == "exchange":
        others = [g for g in grids if g != v]
        now = ", ".join(f"{_name(p, g)} {int(state.ghh[g])}" for g in grids)
        reasons.append(
            f"{_name(p, v)}: {total_v} households, out of band: boundary with "
            f"{' and '.join(_name(p, g) for g in others)} redrawn "
            f"({cost} households moved; now {now})"
        )
    elif kind == "cluster":
        reasons.append(
            f"{_name(p, v)}: {total_v} households, out of band, and no move, exchange, split or "
            f"merge could fix it: {names} re-partitioned into {len(plan)} grids "
            f"({cost} households moved)"
        )
    else:
        reasons.append(
            f"{_name(p, v)}: {total_v} households, out of band, and moves along the boundary "
            "could not fix it as cheaply: "
            f"{names} redrawn as {len(plan)} grids ({cost} households moved)"
        )


def _name(p: _Problem, g: int) -> str:
    return p.codes[g] if g < p.n_grids else f"new grid #{g - p.n_grids + 1}"


def _revert_pass(state: _State, reasons: list[str]) -> None:
    """Send moved atoms back where they came from when both grids stay in band and connected.

    Chains and re-splits can move more than needed; this undoes every move
    that is not needed any more, largest first.
    """
    p, nd = state.p, state.nd
    hh = nd.hh
    back = 0
    for _ in range(nd.n):
        done = False
        moved = sorted(
            (u for u in range(nd.n) if state.lab[u] != nd.lab0[u] and hh[u] > 0),
            key=lambda u: (-int(hh[u]), u),
        )
        for u in moved:
            a, g = int(state.lab[u]), int(nd.lab0[u])
            if not (state.movable(g) and state.members.get(g)):
                continue
            if not any(int(state.lab[x]) == g for x in nd.adj[u]):
                continue
            take = state.detach(state.members[a], u)
            if take is None:
                continue
            h = int(hh[list(take)].sum())
            if not (p.lo <= state.ghh[g] + h <= p.hi and p.lo <= state.ghh[a] - h <= p.hi):
                continue
            delta = sum(
                int(nd.cost[x]) * (int(g != nd.lab0[x]) - int(a != nd.lab0[x])) for x in take
            )
            if delta >= 0:
                continue
            for x in sorted(take):
                state.move(x, g)
            back -= delta
            done = True
            break
        if not done:
            break
    if back:
        reasons.append(f"{back} households moved back where they were: their move was not needed")


def _workload_pass(state: _State, reasons: list[str]) -> None:
    """Even out workload between neighbours by single boundary-atom moves that keep the band."""
    p = state.p
    if state.gwl is None:
        return
    moved = 0
    for _ in range(4 * max(1, len(state.active))):
        grids = sorted(
            (g for g in state.active if state.movable(g) and state.members.get(g)),
            key=lambda g: (-state.gwl[g], g),
        )
        done = False
        for a in grids:
            for b in sorted(state.neighbours(a), key=lambda g: (state.gwl[g], g)):
                if not state.movable(b):
                    continue
                diff = state.gwl[a] - state.gwl[b]
                if diff <= 0:
                    continue
                best = None
                rest = set(state.members[a])
                base = state.components(rest)
                for u in sorted(rest):
                    if not any(int(state.lab[x]) == b for x in state.nd.adj[u]):
                        continue
                    h, w = int(state.nd.hh[u]), float(state.nd.wl[u])
                    if w <= 0 or len(rest) == 1:
                        continue
                    if not (state.ghh[a] - h >= p.lo and state.ghh[b] + h <= p.hi):
                        continue
                    new_diff = abs(diff - 2 * w)
                    if new_diff >= diff * 0.8:
                        continue
                    rest.discard(u)
                    ok = state.components(rest) <= base
                    rest.add(u)
                    if ok and (best is None or new_diff < best[0]):
                        best = (new_diff, u, h)
                if best is not None:
                    state.move(best[1], b)
                    moved += best[2]
                    reasons.append(
                        f"{_name(p, a)} → {_name(p, b)}: one atom ({best[2]} households) "
                        f"moved to even the workload ({diff:.0f} → {best[0]:.0f})"
                    )
                    done = True
                    break
            if done:
                break
        if not done:
            break


# ------------------------------------------------------------------ output
def _finish(
    p: _Problem,
    alive: set[int] | None,
    label: np.ndarray,
    geoms: dict[int, object],
    n_total: int,
    reasons: list[str],
    extra_violations: list[str],
) -> RebalanceResult:
    """Codes for new grids, polygons, flags, moves and the report."""
    counts = np.bincount(label, minlength=n_total)
    households = np.bincount(label, weights=p.hh, minlength=n_total).astype(np.int64)
    # ``alive``: grids holding atoms (a grid whose buildings were all demolished keeps its
    # ground); untouched grids stay whatever they hold
    alive = set(alive or ()) | (set(range(p.n_grids)) - set(geoms))
    retired = sorted(g for g in range(p.n_grids) if g not in alive)
    new = [g for g in range(p.n_grids, n_total) if g in alive]
    codes = list(p.codes) + [""] * (n_total - p.n_grids)
    if new:
        c = shapely.centroid(np.asarray([geoms[g] for g in new], dtype=object))
        areas = shapely.area(np.asarray([geoms[g] for g in new], dtype=object))
        order = gc.reading_order(shapely.get_x(c), shapely.get_y(c), areas)
        for k, idx in enumerate(order):
            seq = p.next_seq + k
            if p.prefix is not None:
                if seq > 999:
                    raise ValueError(
                        f"no grid sequence left in 社区 {p.prefix}: codes up to 999 are used"
                    )
                codes[new[idx]] = gc.format_code(p.prefix, seq)
            else:
                codes[new[idx]] = f"{seq:0{p.width}d}"
    rows, geometry = [], []
    changed_geoms = {}
    for g in sorted(alive):
        if g in geoms:
            poly = geoms[g]
            changed_geoms[g] = poly
        rows.append(g)
    out_geoms = []
    metric = [changed_geoms[g] for g in rows if g in changed_geoms]
    converted = (
        dict(
            zip(
                [g for g in rows if g in changed_geoms],
                gpd.GeoSeries(metric, crs=p.crs).to_crs(WGS84).values,
                strict=True,
            )
        )
        if metric
        else {}
    )
    for g in rows:
        if g in converted:
            geom = converted[g]
            if not geom.is_valid:
                geom = polygonal_part(shapely.make_valid(geom))
            out_geoms.append(geom)
        else:
            out_geoms.append(p.geom_out[g])
    geometry = out_geoms
    kinds = [p.kind[g] if g < p.n_grids else "residential" for g in rows]

    def flag(g, kind, geom):
        if kind == "unit":
            return p.old_flag[g] if g < p.n_grids else None
        h = int(households[g])
        if p.lo <= h <= p.hi:
            return "multipart" if geom.geom_type != "Polygon" else None
        single = counts[g] == 1 and h > p.hi
        return "indivisible_building" if single else "out_of_band"

    grids = gpd.GeoDataFrame(
        {
            "code": [codes[g] for g in rows],
            "kind": kinds,
            "households": [int(households[g]) for g in rows],
            "n_buildings": [int(counts[g]) for g in rows],
            "flag": [flag(g, k, geom) for g, k, geom in zip(rows, kinds, geometry, strict=True)],
        },
        geometry=geometry,
        crs=WGS84,
    )
    grids = grids.sort_values("code", kind="stable").reset_index(drop=True)
    label_codes = np.asarray([codes[g] for g in label], dtype=object)
    labels = pd.Series(label_codes, index=pd.Index(p.ids, name="building_id"), name="grid_code")

    other = label != p.label0  # new buildings included: placed elsewhere than they lie
    shifted = np.flatnonzero(other)
    moved = np.flatnonzero(other & ~p.placed)
    listed = np.flatnonzero(other | p.placed)
    moves = gpd.GeoDataFrame(
        {
            "building_id": p.ids[listed],
            "households": p.hh[listed],
            "from_code": [None if p.placed[b] else p.codes[p.label0[b]] for b in listed],
            "to_code": label_codes[listed],
        },
        geometry=list(p.buildings.to_crs(WGS84).geometry.values[listed]),
        crs=WGS84,
    )
    total = int(p.hh.sum())
    hh_moved = int(p.hh[moved].sum())
    before = tuple(
        p.codes[g]
        for g in range(p.n_grids)
        if p.kind[g] != "unit" and not p.lo <= p.grid_hh0[g] <= p.hi
    )
    res = grids[grids["kind"] != "unit"]
    after = tuple(res["code"][~res["households"].between(p.lo, p.hi)].tolist())
    changed = tuple(
        sorted(
            p.codes[g]
            for g in set(geoms) | set(p.label0[shifted].tolist()) | set(label[shifted].tolist())
            if g < p.n_grids and g in alive
        )
    )
    violations = list(extra_violations)
    touched = set(changed) | {codes[g] for g in new}
    for r in grids.itertuples():
        if r.code not in touched or r.kind == "unit":
            continue
        if not p.lo <= r.households <= p.hi:
            side = "below" if r.households < p.lo else "above"
            violations.append(f"{r.code}: {r.households} households, {side} the band {p.lo}–{p.hi}")
        if r.geometry.geom_type != "Polygon":
            violations.append(f"{r.code}: not contiguous ({len(r.geometry.geoms)} parts)")
    violations.extend(_compound_splits(p, label, codes))
    report = RebalanceReport(
        households_moved=hh_moved,
        share_moved=hh_moved / total if total else 0.0,
        buildings_moved=len(moved),
        households_placed=int(p.hh[p.placed].sum()),
        buildings_placed=int(p.placed.sum()),
        grids_changed=changed,
        grids_added=tuple(sorted(codes[g] for g in new)),
        grids_retired=tuple(p.codes[g] for g in retired),
        out_of_band_before=before,
        out_of_band_after=after,
        reasons=tuple(reasons),
        violations=tuple(violations),
        runtime_s=time.perf_counter() - p.started,
    )
    return RebalanceResult(grids=grids, labels=labels, moves=moves, report=report)


def _compound_splits(p: _Problem, label: np.ndarray, codes: list[str]) -> list[str]:
    """Compounds held by one grid before and by several now."""
    has = np.asarray([c is not None for c in p.compound])
    if not has.any():
        return []
    frame = pd.DataFrame(
        {"c": p.compound[has], "before": p.label0[has], "after": label[has], "hh": p.hh[has]}
    )
    per = frame.groupby("c").agg(
        before=("before", "nunique"), after=("after", "nunique"), hh=("hh", "sum")
    )
    # a compound over the ceiling has to be divided anyway: only those that fit one grid count
    split = per[(per["before"] == 1) & (per["after"] > 1) & (per["hh"] <= p.hi)]
    out = []
    for cid in split.index:
        grids = sorted({codes[g] for g in frame.loc[frame["c"] == cid, "after"]})
        out.append(f"compound {cid} split between grids {', '.join(grids)}")
    return out


def _building_labels(p: _Problem, state: _State) -> np.ndarray:
    """Grid per building: its node's, or as it was outside the nodes."""
    label = p.label0.copy()
    label[state.nd.bsel] = state.lab[state.nd.building_node]
    return label


def _households_moved(p: _Problem, state: _State) -> int:
    """Households whose grid the state changes, as the report counts them."""
    return int(p.move_cost[_building_labels(p, state) != p.label0].sum())


def _state_result(p: _Problem, state: _State, reasons, extra=()) -> RebalanceResult:
    nd = state.nd
    label = _building_labels(p, state)
    changed = {
        g
        for g in state.members
        if g >= p.n_grids
        or set(np.flatnonzero(nd.lab0 == g).tolist()) != state.members.get(g, set())
    }
    geoms = {}
    for g in sorted(changed):
        nodes = sorted(state.members.get(g, ()))
        if not nodes:
            geoms[g] = shapely.Polygon()
            continue
        geoms[g] = grid_polygon(nd.region[nodes])
    alive = {g for g, m in state.members.items() if m}
    return _finish(p, alive, label, geoms, state.n_grids, list(reasons), list(extra))


# ------------------------------------------------------------------ public
def rebalance(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    boundary=None,
    roads: gpd.GeoDataFrame | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    min_households: int = 250,
    max_households: int = 500,
    locked: Iterable[str] = (),
    workload: pd.Series | None = None,
    used_codes: Iterable[str] = (),
    seed: int = 0,
    local_repartition: bool = True,
    split_compounds: bool = True,
) -> RebalanceResult:
    """Bring grids back into the household band, changing as little as possible.

    Parameters
    ----------
    grids : GeoDataFrame
        Current grids: ``code`` (15 digits), ``kind`` (``unit`` grids are
        left alone), geometry tiling the 社区; any CRS.
    buildings : GeoDataFrame
        Current buildings: an id (``id``, ``source_id`` or ``building_id``,
        else the index), ``households`` (updated figures), optionally a
        compound id (``compound``, ``compound_source_id``, ``compound_id``)
        and ``grid_code`` (the current assignment). Without that column every
        building is in the grid it lies in; with it, a building whose code is
        empty is new (no 网格员 yet): it is placed wherever helps, and its
        households do not count as moved.
    boundary : geometry, optional
        Accepted for symmetry with :func:`~gridmgmt.core.partition.partition`;
        the 社区 is the union of the grids.
    roads, compounds, zones : GeoDataFrame, optional
        As for the partition: roads and compounds shape the atoms, zones
        bound the moves.
    min_households, max_households : int
        The band (inclusive).
    locked : iterable of str
        Grid codes that must not change.
    workload : Series, optional
        Per-building weight (index = building ids). The band still applies
        to households; among equivalent moves the one evening the workload
        is chosen, and a final pass evens the workload between neighbours.
    used_codes : iterable of str
        Every code ever used in the 社区; new grids are numbered after them.
    seed : int
        Seed for the bisection's tie-breaking.
    local_repartition : bool
        As the last resort, re-partition a grid still out of band together
        with rings of its neighbours (default). The partition's own repair
        turns it off: it has just tried the same.
    split_compounds : bool
        When no arrangement of whole compounds brings a grid into band,
        divide the compounds of that grid and its neighbours between
        buildings and try again (default). Every compound so divided is
        listed in ``report.violations``; False leaves such grids out of band.

    Returns
    -------
    RebalanceResult

    Raises
    ------
    ValueError
        Bad bounds, missing columns, unknown codes, buildings outside every grid.
    """
    del boundary  # the grids are the 社区
    p = _Problem(
        grids,
        buildings,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=min_households,
        max_households=max_households,
        locked=locked,
        workload=workload,
        used_codes=used_codes,
        seed=seed,
    )
    bad = [g for g in range(p.n_grids) if p.movable(g) and not p.lo <= p.grid_hh0[g] <= p.hi]
    reasons: list[str] = []
    if not bad and p.workload is None:
        return _finish(p, None, p.label0.copy(), {}, p.n_grids, reasons, [])
    active = _neighbourhood(p, bad, ACTIVE_DEPTH) if p.workload is None else range(p.n_grids)
    active = [g for g in active if p.movable(g)]
    nodes = _Nodes(p, active)
    # the same atoms moved between the same grids (or into new grids around new buildings),
    # solved exactly: the fewest households when that can do it; it wins unless the search
    # did better by the same rules.
    # HiGHS releases the GIL, so the program is solved while the search runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        solving = pool.submit(_exact_solution, nodes, nodes.lab0, _openings(p, nodes))
        searched = _searched(p, _State(p, nodes), reasons, local_repartition, split_compounds)
        solution = solving.result()
    exact_reasons: list[str] = []
    exact = _State(p, nodes)
    if _apply_exact(exact, solution, exact_reasons):
        _workload_pass(exact, exact_reasons)
        locked_out = _locked_out_of_band(p)
        # every grid it may change ends in band and no compound is divided: its result
        # (polygons and all) is only built when it wins
        key = (len(locked_out), 0, _households_moved(p, exact), len(solution[0].opened))
        if _preference(searched) >= key:
            return _state_result(p, exact, exact_reasons, locked_out)
    # the search's report was written before the exact program was done: the time is all
    report = replace(searched.report, runtime_s=time.perf_counter() - p.started)
    return replace(searched, report=report)


def _preference(result: RebalanceResult) -> tuple:
    """Fewest grids out of band, then compounds divided, households moved, grids added."""
    r = result.report
    divided = sum(1 for v in r.violations if "split between" in v)
    return (len(r.out_of_band_after), divided, r.households_moved, len(r.grids_added))


def _searched(
    p: _Problem, state: _State, reasons: list[str], local_repartition: bool, split_compounds: bool
) -> RebalanceResult:
    """Chains, exchanges, splits and merges; compounds divided and local re-partitions last."""
    # dividing a compound moves a few households; a local re-partition redraws
    # rings of grids: with both allowed, the division is tried first
    _repair(state, reasons, local_repartition and not split_compounds)
    stuck = _stuck(state)
    if stuck and split_compounds:
        divided = _divide_compounds(state, stuck)
        if divided is not None:
            state, ids = divided
            reasons.append(
                f"{', '.join(_name(p, g) for g in stuck)}: no arrangement of whole compounds "
                f"brings {'it' if len(stuck) == 1 else 'them'} into band: "
                f"compounds {', '.join(sorted(map(str, ids)))} may be divided"
            )
        if divided is not None or local_repartition:  # else nothing new to try
            _repair(state, reasons, local_repartition)
    for g in _stuck(state):
        reasons.append(
            f"{_name(p, g)}: {int(state.ghh[g])} households, still out of band: no move, exchange, "
            "split, merge or local re-partition"
            + ("" if split_compounds else " that keeps compounds whole")
            + " brings it into band"
        )
    _revert_pass(state, reasons)
    _workload_pass(state, reasons)
    return _state_result(p, state, reasons, _locked_out_of_band(p))


def _locked_out_of_band(p: _Problem) -> list[str]:
    return [
        f"{p.codes[g]}: locked, {p.grid_hh0[g]} households, out of the band"
        for g in sorted(p.locked)
        if p.residential(g) and not p.lo <= p.grid_hh0[g] <= p.hi
    ]


def _openings(p: _Problem, nodes: _Nodes) -> list[tuple[int, np.ndarray]]:
    """New grids the exact program may open: for each over-full grid with new buildings,
    the grid :func:`_carve` would cut around them (labelled after the current grids)."""
    if not p.placed.any():
        return []
    state = _State(p, nodes)
    out = []
    for v in sorted(state.active):
        if state.movable(v) and state.ghh[v] > p.hi:
            plan = _carve(state, v)
            if plan:
                out.append((p.n_grids + len(out), plan[1][1]))
    return out


def _exact_solution(
    nd: _Nodes, start: np.ndarray, openings=(), time_limit: float = EXACT_SECONDS
) -> tuple[MoveSolution, float]:
    """The fewest households moved that brings every grid into band: atoms moved between
    the same grids, and new grids opened from ``openings`` (see :func:`_openings`).

    Solved exactly (:func:`gridmgmt.core.min_moves.min_moves`) over the
    nodes, from the labels ``start``, within ``time_limit`` seconds; with
    the seconds it took.
    """
    began = time.perf_counter()
    g = nd.graph
    sol = min_moves(
        g.i,
        g.j,
        g.w,
        nd.hh,
        start,
        lo=nd.p.lo,
        hi=nd.p.hi,
        cost=nd.cost,
        openings=openings,
        time_limit=time_limit,
    )
    return sol, time.perf_counter() - began


def _apply_exact(state: _State, solved: tuple[MoveSolution, float], reasons: list[str]) -> bool:
    """Apply and explain :func:`_exact_solution`'s answer; False (nothing changed) when moves
    alone cannot do it or the program ran out of time."""
    p, nd = state.p, state.nd
    sol, took = solved
    if sol.labels is None:
        return False
    new = {label: state.new_grid() for label in sorted(sol.opened)}
    before = state.ghh.copy()
    flows: dict[tuple[int, int], int] = {}
    for u in np.flatnonzero(sol.labels != state.lab).tolist():
        src, dst = int(state.lab[u]), int(sol.labels[u])
        if dst in new:  # an opening: said below, as a carve is
            state.move(u, new[dst])
            continue
        flows[src, dst] = flows.get((src, dst), 0) + int(nd.hh[u])
        state.move(u, dst)
    for g in new.values():
        nodes = np.asarray(sorted(state.members[g]), dtype=np.int64)
        v = int(nd.lab0[nodes[0]])  # an opening is cut from one grid
        moved = int(nd.cost[nodes].sum())  # from the grids as they were
        reasons.append(_carve_reason(state, v, int(before[v]), nodes, moved))
    # one reason per set of grids the moves join up
    ends = np.asarray(list(flows), dtype=np.int64).reshape(-1, 2)
    grid_ids, pair_ends = np.unique(ends, return_inverse=True)
    pair_ends = pair_ends.reshape(-1, 2)
    group = component_labels(len(grid_ids), pair_ends[:, 0], pair_ends[:, 1])
    groups: dict[int, list[tuple[int, int]]] = {}
    for pair, k in zip(flows, group[pair_ends[:, 0]].tolist(), strict=True):
        groups.setdefault(k, []).append(pair)
    for pairs in sorted(groups.values(), key=lambda ps: min(_name(p, x) for pr in ps for x in pr)):
        grids = sorted({x for pr in pairs for x in pr}, key=lambda x: _name(p, x))
        bad = [x for x in grids if not p.lo <= before[x] <= p.hi]
        why = "; ".join(
            f"{_name(p, x)}: {int(before[x])} households, "
            + (f"over {p.hi}" if before[x] > p.hi else f"under {p.lo}")
            for x in bad
        )
        hops = "; ".join(
            f"{_name(p, a)} → {_name(p, b)} {flows[a, b]}"
            for a, b in sorted(pairs, key=lambda pr: (_name(p, pr[0]), _name(p, pr[1])))
            if flows[a, b] > 0
        )
        if hops:
            reasons.append(f"{why or 'building-less ground'}: moved {hops}")
    how = (
        f"moves and {len(new)} new grid(s) around new buildings suffice"
        if new
        else "moves between the same grids suffice"
    )
    reasons.append(
        f"{how}: {sol.moved} households is the fewest that brings every grid into band "
        "with compounds whole" + (" and no other grid opened" if new else "")
        if sol.status == "optimal"
        else f"{how}: {sol.moved} households, the fewest found in {took:.1f} s"
    )
    return True


def fewest_moves(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    roads: gpd.GeoDataFrame | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    min_households: int = 250,
    max_households: int = 500,
    locked: Iterable[str] = (),
    time_limit: float = 60.0,
) -> MoveSolution:
    """The fewest households any rearrangement of whole atoms among the existing grids moves.

    A yardstick for :func:`rebalance`: the same atoms (whole compounds,
    building groups) over every grid that may change, solved exactly by
    :func:`gridmgmt.core.min_moves.min_moves`. No grid is opened or emptied
    and no compound divided, so when :func:`rebalance` needs a split, a
    merge or a divided compound this answers ``infeasible``. Slower than
    :func:`rebalance`; parameters as there.

    Returns
    -------
    MoveSolution
        ``moved`` households and ``status``; ``labels`` are per atom.
    """
    p = _Problem(
        grids,
        buildings,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=min_households,
        max_households=max_households,
        locked=locked,
    )
    nd = _Nodes(p, [g for g in range(p.n_grids) if p.movable(g)])
    return _exact_solution(nd, nd.lab0, time_limit=time_limit)[0]


def _stuck(state: _State) -> list[int]:
    """Grids still out of band, by name."""
    return sorted(
        (g for g in state.active if state.movable(g) and state.dev(g) > 0),
        key=lambda g: _name(state.p, g),
    )


def _repair(state: _State, reasons: list[str], local_repartition: bool) -> None:
    """Rounds of chains, exchanges, splits and merges (and local re-partitions) until no progress."""
    p = state.p
    bis = _bisector(state, REPAIR_TREE_TRIES)
    failed: dict[int, tuple] = {}
    for _ in range(MAX_ROUNDS):
        viol = sorted(_stuck(state), key=lambda g: (-state.dev(g), _name(p, g)))
        if not viol:
            break
        progress = False
        for v in viol:
            if state.dev(v) == 0:
                continue
            before = int(state.ghh[v])
            chain = _search(state, v)
            cheap = (
                chain is not None and chain.full and chain.cost <= _opening_cost(state, [v]) // 2
            )
            bound = chain.cost if chain is not None and chain.full else math.inf
            option = None if cheap else _structural(state, v, bis, bound)
            if option is not None and (chain is None or not chain.full or option[0] < chain.cost):
                _apply_structural(state, v, option, reasons)
            elif chain is not None:
                _apply_chain(state, chain)
                reasons.append(_chain_reason(p, state, v, before, chain))
            else:
                continue
            progress = True
        if not progress and local_repartition:  # last resort: a grid with its neighbours
            for v in viol:
                around = (v, *sorted((g, int(state.ghh[g])) for g in state.neighbours(v)))
                if failed.get(v) == around:
                    continue  # tried on this very neighbourhood before
                option = _cluster(state, v, bis)
                if option is not None:
                    _apply_structural(state, v, option, reasons)
                    progress = True
                    break
                failed[v] = around
        if not progress:
            break


def _divide_compounds(state: _State, stuck: list[int]):
    """The state on atoms where the compounds of ``stuck`` grids and their neighbours are divided.

    The last resort when no arrangement of whole compounds brings a grid
    into band. Atoms are rebuilt with those compounds cut into pieces (as
    loose buildings are); every new atom lies in one old atom, so the
    changes made so far carry over. Returns ``(state, compound ids)`` or
    None when there is no compound of several buildings to divide.
    """
    p, nd = state.p, state.nd
    around = set(stuck) | {u for g in stuck for u in state.neighbours(g) if state.movable(u)}
    ids = {
        nd.compound_id[u]
        for g in around
        for u in state.members.get(g, ())
        if nd.compound_id[u] is not None and nd.hh[u] > 0
    }
    several = pd.Series(nd.building_node).map(pd.Series(nd.compound_id)).value_counts()
    ids = frozenset(c for c in ids if several.get(c, 0) > 1)
    if not ids:
        return None
    # rebuild the grids these atoms came from, when that is a small part of all
    origin = {int(nd.lab0[u]) for g in around for u in state.members.get(g, ())}
    fine = None
    if len(origin) < len(nd.grids) // 2:
        fine = _Nodes.spliced(nd, _Nodes(p, sorted(origin), divisible=ids))
    if fine is None:
        fine = _Nodes(p, nd.grids, divisible=ids)
    old_of = np.full(fine.n, -1, dtype=np.int64)
    old_of[fine.building_node] = nd.building_node
    bare = np.flatnonzero(old_of < 0)
    if len(bare):
        tree = shapely.STRtree(nd.region)
        pos = shapely.point_on_surface(fine.region[bare])
        bi, oi = tree.query(pos, predicate="within")
        old_of[bare[bi]] = oi
        lost = bare[old_of[bare] < 0]
        if len(lost):
            old_of[lost] = tree.nearest(shapely.point_on_surface(fine.region[lost]))
    out = _State(p, fine)
    while out.n_grids < state.n_grids:
        out.new_grid()
    for u in np.flatnonzero(state.lab[old_of] != out.lab).tolist():
        out.move(u, int(state.lab[old_of[u]]))
    return out, ids


def _chain_reason(p: _Problem, state: _State, v: int, before: int, chain: _Chain) -> str:
    side = f"over {p.hi}" if before > p.hi else f"under {p.lo}"
    hops = []
    for src, dst in _hops(chain):
        h = sum(int(state.nd.hh[u]) for u, s, d in chain.moves if s == src and d == dst)
        hops.append(f"{_name(p, src)} → {_name(p, dst)} {h}")
    return f"{_name(p, v)}: {before} households, {side}: moved " + "; ".join(hops)


def _hops(chain: _Chain) -> list[tuple[int, int]]:
    seen = []
    for _, s, d in chain.moves:
        if (s, d) not in seen:
            seen.append((s, d))
    return seen


def _neighbourhood(p: _Problem, seeds: list[int], depth: int) -> list[int]:
    """Grids within ``depth`` steps of ``seeds`` in the grid adjacency."""
    reach = set(seeds)
    frontier = set(seeds)
    for _ in range(depth):
        nxt = set()
        for g in frontier:
            if not p.movable(g):
                continue
            nxt.update(h for h in p.grid_neighbours(g) if h not in reach)
        reach |= nxt
        frontier = nxt
    return sorted(reach)


def _manual_problem(grids, buildings, kw) -> _Problem:
    allowed = {
        "boundary",
        "roads",
        "compounds",
        "zones",
        "min_households",
        "max_households",
        "locked",
        "workload",
        "used_codes",
        "seed",
    }
    unknown = set(kw) - allowed
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {sorted(unknown)}")
    kw = dict(kw)
    kw.pop("boundary", None)
    return _Problem(grids, buildings, **kw)


def _grid(p: _Problem, code) -> int:
    code = str(code)
    if code not in p.code_index:
        raise ValueError(f"unknown grid code {code}")
    g = p.code_index[code]
    if g in p.locked:
        raise ValueError(f"grid {code} is locked")
    return g


def move_buildings(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    building_ids: Iterable,
    to_code: str,
    **kw,
) -> RebalanceResult:
    """Move buildings to an adjacent grid (a manual edit).

    Parameters
    ----------
    grids, buildings
        As for :func:`rebalance`.
    building_ids : iterable
        Ids of the buildings to move; together with the target grid they
        must form a connected area.
    to_code : str
        The receiving grid.
    **kw
        The keywords of :func:`rebalance` (band, roads, compounds, locked...).

    Returns
    -------
    RebalanceResult
        ``report.violations`` lists band, contiguity and compound problems.

    Raises
    ------
    ValueError
        Unknown grid or building, a locked grid, a building not adjacent to
        the target grid.
    """
    p = _manual_problem(grids, buildings, kw)
    to = _grid(p, to_code)
    wanted = [str(b) for b in building_ids]
    if not wanted:
        raise ValueError("no buildings to move")
    unknown = [b for b in wanted if b not in p.id_index]
    if unknown:
        raise ValueError(f"unknown building id(s): {unknown[:10]}")
    idx = np.asarray([p.id_index[b] for b in wanted], dtype=np.int64)
    sources = sorted(set(p.label0[idx].tolist()) - {to})
    for g in sources:
        if g in p.locked:
            raise ValueError(f"grid {p.codes[g]} is locked")
    if not sources:
        raise ValueError(f"the buildings are already in grid {p.codes[to]}")
    nodes = _Nodes(p, [to, *sources], fine=True)
    state = _State(p, nodes)
    pos = {b: k for k, b in enumerate(nodes.bsel.tolist())}
    moving = sorted({int(nodes.building_node[pos[b]]) for b in idx.tolist()} - state.members[to])
    # every moved atom must connect to the target through the target or other moved atoms
    reached = set(state.members[to])
    pending = set(moving)
    grew = True
    while grew and pending:
        grew = False
        for u in sorted(pending):
            if any(x in reached for x in nodes.adj[u]):
                reached.add(u)
                pending.discard(u)
                grew = True
    if pending:
        far = sorted(
            p.ids[nodes.bsel[b]]
            for b in range(len(nodes.bsel))
            if nodes.building_node[b] in pending
        )
        far = [b for b in far if b in set(wanted)]
        raise ValueError(f"building(s) {', '.join(far[:10])} not adjacent to grid {p.codes[to]}")
    hh = sum(int(nodes.hh[u]) for u in moving)
    for u in moving:
        state.move(u, to)
    reasons = [
        f"manual: {len(wanted)} building(s), {hh} households, moved to {p.codes[to]} "
        f"from {', '.join(p.codes[g] for g in sources)}"
    ]
    return _state_result(p, state, reasons)


def split_grid(
    grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, code: str, **kw
) -> RebalanceResult:
    """Split a grid in two by balanced bisection; the larger half keeps the code (a manual edit).

    Raises
    ------
    ValueError
        Unknown or locked grid, or a grid with fewer than two buildings.
    """
    p = _manual_problem(grids, buildings, kw)
    g = _grid(p, code)
    if int((p.label0 == g).sum()) < 2:
        raise ValueError(f"grid {p.codes[g]} has fewer than two buildings: nothing to split")
    best = None
    for fine in (False, True):
        nodes = _Nodes(p, [g], fine=fine)
        state = _State(p, nodes)
        members = np.asarray(sorted(state.members[g]), dtype=np.int64)
        if int((nodes.hh[members] > 0).sum()) < 2:
            continue
        bis = _bisector(state)
        pieces = bis.split(members, 2)
        if len(pieces) != 2:
            continue
        sizes = [int(nodes.hh[q].sum()) for q in pieces]
        off = sum(max(0, p.lo - s) + max(0, s - p.hi) for s in sizes)
        key = (off, abs(sizes[0] - sizes[1]))
        if best is None or key < best[0]:
            best = (key, state, pieces, sizes)
        if off == 0:
            break
    if best is None:
        raise ValueError(f"grid {p.codes[g]} cannot be split: its buildings form one atom")
    _, state, pieces, sizes = best
    small = int(np.argmin(sizes)) if sizes[0] != sizes[1] else 1
    new = state.new_grid()
    for u in pieces[small].tolist():
        state.move(u, new)
    reasons = [
        f"manual: {p.codes[g]} ({sum(sizes)} households) split into {max(sizes)} + {min(sizes)}"
    ]
    return _state_result(p, state, reasons)


def merge_grids(
    grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, codes: Iterable[str], **kw
) -> RebalanceResult:
    """Merge adjacent grids; the smallest code stays, the others are retired (a manual edit).

    Raises
    ------
    ValueError
        Fewer than two grids, unknown or locked grids, grids that do not
        form one connected area.
    """
    p = _manual_problem(grids, buildings, kw)
    wanted = sorted({str(c) for c in codes})
    if len(wanted) < 2:
        raise ValueError("a merge needs at least two grid codes")
    idx = [_grid(p, c) for c in wanted]
    kinds = {p.kind[g] for g in idx}
    if len(kinds) > 1:
        raise ValueError(f"cannot merge grids of different kinds ({sorted(kinds)})")
    # connected in the grid adjacency
    reached, frontier = {idx[0]}, [idx[0]]
    while frontier:
        g = frontier.pop()
        for h in p.grid_neighbours(g):
            if h in idx and h not in reached:
                reached.add(h)
                frontier.append(h)
    if len(reached) != len(idx):
        apart = [p.codes[g] for g in idx if g not in reached]
        raise ValueError(f"grids not adjacent: {', '.join(apart)} do not border {p.codes[idx[0]]}")
    keep = idx[0]  # wanted is sorted: the smallest code
    label = p.label0.copy()
    label[np.isin(label, idx)] = keep
    geoms = {
        keep: grid_polygon(p.geom[idx], coverage=False),
        **{g: shapely.Polygon() for g in idx[1:]},
    }
    total = int(p.hh[label == keep].sum())
    reasons = [f"manual: {', '.join(wanted)} merged into {p.codes[keep]} ({total} households)"]
    return _finish(p, {keep}, label, geoms, p.n_grids, reasons, [])
