"""Atoms spliced into the grids that may change (:class:`Nodes`).

The partition engine's atoms (:mod:`gridmgmt.core.atoms`) are rebuilt over
the active grids with their boundaries (and zones) as cut lines, so each
atom lies in one grid; with their contact graph and their current grid.
:meth:`Nodes.spliced` replaces the atoms of a few grids by finer ones.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.atoms import adjacency, build_atoms, road_classes
from gridmgmt.core.compounds import building_compounds
from gridmgmt.core.rebalance.inputs import Problem
from gridmgmt.core.tessellation import segments

#: buildings outside compounds move in groups of at most max_households / LOOSE_FRACTION
LOOSE_FRACTION = 6


class Nodes:
    """Atoms (and building-less regions) of some grids, with their graph and current grid.

    Parameters
    ----------
    p : Problem
        The inputs.
    active : list of int
        The grids whose atoms are built (the grids that may change).
    fine : bool
        Buildings outside compounds as atoms of their own (no grouping).
    divisible : frozenset
        Compound ids whose buildings may be divided between atoms.

    Attributes
    ----------
    grids : list of int
        The active grids.
    building_rows : ndarray
        The problem's buildings in the active grids.
    building_node : ndarray
        The node of each of those buildings.
    n : int
        Number of nodes.
    region, xy : ndarray
        Per node, its region and the region's centroid (metric).
    households, move_cost : ndarray
        Per node, its households, and households moved when it changes grid.
    compound_id : ndarray
        Per node, its compound (or None).
    workload : ndarray or None
        Per node, its buildings' workload.
    start_grid : ndarray
        Per node, the grid it is in now.
    graph : AtomGraph
        The nodes' contacts within zones.
    contacts : list of dict
        Per node, ``{neighbour: shared boundary length}``.
    """

    def __init__(self, p: Problem, active: list[int], *, fine: bool = False, divisible=frozenset()):
        self.problem = p
        active = sorted(set(active))
        self.grids = active
        polys = p.grid_geoms[active]
        area = p.union(active)
        self.building_rows = np.flatnonzero(np.isin(p.building_grid, active))
        cut = list(shapely.boundary(polys))
        if p.zones is not None:
            cut.extend(shapely.boundary(p.zones.geometry.values))
        roads = _clip(p.roads, area)
        if roads is not None:  # roads along a grid boundary would cut slivers off it
            roads = _away_from(roads, np.asarray(cut, dtype=object), 1.0)
        comps = _clip(p.compounds, area)
        if comps is None:
            comps = _compounds_from_buildings(p, self.building_rows)
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
            {"compound_id": p.building_compound[self.building_rows]},
            geometry=p.footprints[self.building_rows],
            crs=p.crs,
        )
        building_compound = building_compounds(sub, p.building_points[self.building_rows], comps)
        atoms = build_atoms(
            area,
            _inside_own_grid(p, self.building_rows),
            p.households[self.building_rows],
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
        self.households = np.concatenate([atoms.households, np.zeros(len(empty), dtype=np.int64)])
        self.building_node = atoms.building_atom  # per building of building_rows
        # households moved when the node changes grid (new buildings' count nothing)
        self.move_cost = np.bincount(
            self.building_node, weights=p.move_cost[self.building_rows], minlength=self.n
        ).astype(np.int64)
        self.compound_id = np.concatenate(
            [atoms.compound_id, np.full(len(empty), None, dtype=object)]
        )
        self.workload = (
            np.bincount(
                self.building_node, weights=p.workload[self.building_rows], minlength=self.n
            )
            if p.workload is not None
            else None
        )
        # each node lies in one grid (grid boundaries were cut lines): locate its region
        pos = shapely.point_on_surface(self.region)
        tree = shapely.STRtree(polys)
        ni, gi = tree.query(pos, predicate="within")
        grid_of_node = np.full(self.n, -1, dtype=np.int64)
        grid_of_node[ni] = np.asarray(active)[gi]
        lost = np.flatnonzero(grid_of_node < 0)
        lost = lost[~shapely.is_empty(pos[lost])]  # an empty region: its buildings decide
        if len(lost):
            grid_of_node[lost] = np.asarray(active)[tree.nearest(pos[lost])]
        grid_of_node[grid_of_node < 0] = active[0]
        # an atom goes with most of its buildings when its point falls elsewhere (slivers)
        if n_atoms:
            votes = pd.DataFrame(
                {
                    "node": self.building_node,
                    "grid": p.building_grid[self.building_rows],
                    "hh": p.households[self.building_rows],
                }
            )
            top = votes.groupby(["node", "grid"]).size().reset_index(name="k")
            top = top.sort_values(["node", "k", "grid"], ascending=[True, False, True])
            top = top.drop_duplicates("node")
            disagree = top[grid_of_node[top["node"].to_numpy()] != top["grid"].to_numpy()]
            if len(disagree):
                inside = shapely.area(
                    shapely.intersection(
                        self.region[disagree["node"].to_numpy()],
                        p.grid_geoms[disagree["grid"].to_numpy()],
                    )
                ) > 0.5 * shapely.area(self.region[disagree["node"].to_numpy()])
                fix = disagree[inside]
                grid_of_node[fix["node"].to_numpy()] = fix["grid"].to_numpy()
        self.start_grid = grid_of_node
        c = shapely.centroid(self.region)
        self.xy = np.column_stack([shapely.get_x(c), shapely.get_y(c)])
        i, j, w = adjacency(self.region, grid_size=None)  # atoms: a clean coverage
        self._set_graph(*_within_zones(p, self.region, i, j, w))

    def _set_graph(self, i: np.ndarray, j: np.ndarray, w: np.ndarray) -> None:
        self.graph = AtomGraph(self.n, i, j, w)
        self.contacts: list[dict[int, float]] = [dict() for _ in range(self.n)]
        for a, b, length in zip(i.tolist(), j.tolist(), w.tolist(), strict=True):
            self.contacts[a][b] = self.contacts[a].get(b, 0.0) + length
            self.contacts[b][a] = self.contacts[b].get(a, 0.0) + length

    @classmethod
    def spliced(cls, old: Nodes, fine: Nodes) -> Nodes | None:
        """``old`` with the nodes of ``fine.grids`` replaced by ``fine``'s (rebuilt there).

        Rebuilding the atoms of a few grids is much cheaper than of all; the
        contacts across their outline are found again (coverage-cleaned, so
        independently cleaned edges still match). None when buildings do not
        sit on one side consistently (then rebuild everything).
        """
        p = old.problem
        inner = np.isin(old.start_grid, fine.grids)
        keep = np.flatnonzero(~inner)
        in_fine = np.isin(p.building_grid[old.building_rows], fine.grids)
        if not np.array_equal(fine.building_rows, old.building_rows[in_fine]):
            return None
        if (inner[old.building_node] != in_fine).any():
            return None  # a building whose atom lies in the other part
        new_of_old = np.full(old.n, -1, dtype=np.int64)
        new_of_old[keep] = np.arange(len(keep))
        out = cls.__new__(cls)
        out.problem, out.grids, out.building_rows = p, old.grids, old.building_rows
        out.region = np.concatenate([old.region[keep], fine.region])
        out.n = len(out.region)
        out.households = np.concatenate([old.households[keep], fine.households])
        out.move_cost = np.concatenate([old.move_cost[keep], fine.move_cost])
        node = new_of_old[old.building_node]
        node[in_fine] = len(keep) + fine.building_node
        out.building_node = node
        out.compound_id = np.concatenate([old.compound_id[keep], fine.compound_id])
        out.workload = (
            np.bincount(node, weights=p.workload[old.building_rows], minlength=out.n)
            if p.workload is not None
            else None
        )
        out.start_grid = np.concatenate([old.start_grid[keep], fine.start_grid])
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


def _within_zones(p: Problem, region: np.ndarray, i, j, w):
    """The contacts ``(i, j, w)`` between nodes in the same zone (all when there are no zones)."""
    if p.zones is None:
        return i, j, w
    pos = shapely.point_on_surface(region)
    zi, zz = shapely.STRtree(p.zones.geometry.values).query(pos, predicate="within")
    zone = np.full(len(region), -1)
    zone[zi] = zz
    keep = zone[i] == zone[j]
    return i[keep], j[keep], w[keep]


def _inside_own_grid(p: Problem, building_rows: np.ndarray) -> np.ndarray:
    """Footprints clipped to their grid where they stick out of it.

    Atoms are located by a point on each footprint; a footprint crossing its
    grid's boundary is cut to the part inside, so the atom stays with the grid
    the building is recorded in.
    """
    geom = p.footprints[building_rows].copy()
    own = p.grid_geoms[p.building_grid[building_rows]]
    out = np.flatnonzero(~shapely.covers(own, p.building_points[building_rows]))
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
                near = shapely.shortest_line(target, p.building_points[building_rows][k])
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
    """The rows of ``frame`` meeting ``area`` (None when none or no frame)."""
    if frame is None or len(frame) == 0:
        return None
    hit = shapely.STRtree(frame.geometry.values).query(area, predicate="intersects")
    return frame.iloc[np.sort(hit)] if len(hit) else None


def _compounds_from_buildings(p: Problem, building_rows: np.ndarray):
    """Compound outlines from the buildings' compound ids when no compound layer is given."""
    comp = p.building_compound[building_rows]
    has = np.asarray([c is not None for c in comp])
    if not has.any():
        return None
    frame = gpd.GeoDataFrame(
        {"compound_id": comp[has]}, geometry=p.footprints[building_rows][has], crs=p.crs
    ).dissolve("compound_id")
    hulls = shapely.buffer(shapely.convex_hull(frame.geometry.values), 2.0)
    return gpd.GeoDataFrame(
        {"compound_id": frame.index.astype(str)}, geometry=list(hulls), crs=p.crs
    )
