"""The result of a rebalancing or manual edit: codes for new grids, polygons, flags, the
buildings that moved, and the report.
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core import codes as gc
from gridmgmt.core.layers import WGS84
from gridmgmt.core.rebalance.inputs import Problem
from gridmgmt.core.rebalance.results import RebalanceReport, RebalanceResult
from gridmgmt.core.rebalance.state import State
from gridmgmt.core.tessellation import grid_polygon, polygonal_part


def assemble_result(
    p: Problem,
    alive: set[int] | None,
    label: np.ndarray,
    geoms: dict[int, object],
    n_total: int,
    reasons: list[str],
    extra_violations: list[str],
) -> RebalanceResult:
    """The result of a change: codes for new grids, polygons, flags, moves and the report.

    Parameters
    ----------
    p : Problem
        The inputs.
    alive : set of int or None
        Grids holding atoms after the change (a grid whose buildings were
        all demolished keeps its ground); grids without a new polygon stay
        whatever they hold.
    label : ndarray
        The grid of every building after the change.
    geoms : dict
        New polygons (metric) of the grids the change redrew; an empty
        polygon for a grid it emptied.
    n_total : int
        Grids after the change, opened ones included.
    reasons, extra_violations : list of str
        What the change says about itself, and violations found before.
    """
    counts = np.bincount(label, minlength=n_total)
    households = np.bincount(label, weights=p.households, minlength=n_total).astype(np.int64)
    alive = set(alive or ()) | (set(range(p.n_grids)) - set(geoms))
    new = [g for g in range(p.n_grids, n_total) if g in alive]
    codes = _codes_with_new_grids(p, new, geoms, n_total)
    grids = _grid_frame(p, sorted(alive), codes, geoms, households, counts)
    label_codes = np.asarray([codes[g] for g in label], dtype=object)
    labels = pd.Series(label_codes, index=pd.Index(p.ids, name="building_id"), name="grid_code")
    shifted = label != p.building_grid  # new buildings included: placed elsewhere than they lie
    moves = _moves_frame(p, shifted, label_codes)
    changed = _changed_grids(p, alive, geoms, label, shifted)
    touched = set(changed) | {codes[g] for g in new}
    violations = [
        *extra_violations,
        *_band_violations(p, grids, touched),
        *_compound_splits(p, label, codes),
    ]
    moved = np.flatnonzero(shifted & ~p.placed)
    hh_moved = int(p.households[moved].sum())
    total = int(p.households.sum())
    res = grids[grids["kind"] != "unit"]
    report = RebalanceReport(
        households_moved=hh_moved,
        share_moved=hh_moved / total if total else 0.0,
        buildings_moved=len(moved),
        households_placed=int(p.households[p.placed].sum()),
        buildings_placed=int(p.placed.sum()),
        grids_changed=changed,
        grids_added=tuple(sorted(codes[g] for g in new)),
        grids_retired=tuple(p.codes[g] for g in range(p.n_grids) if g not in alive),
        out_of_band_before=tuple(
            p.codes[g]
            for g in range(p.n_grids)
            if p.grid_kind[g] != "unit" and not p.lo <= p.grid_households[g] <= p.hi
        ),
        out_of_band_after=tuple(res["code"][~res["households"].between(p.lo, p.hi)].tolist()),
        reasons=tuple(reasons),
        violations=tuple(violations),
        runtime_s=time.perf_counter() - p.started,
    )
    return RebalanceResult(grids=grids, labels=labels, moves=moves, report=report)


def _codes_with_new_grids(
    p: Problem, new: list[int], geoms: dict[int, object], n_total: int
) -> list[str]:
    """Every grid's code: the new grids numbered after every code used, in reading order."""
    codes = list(p.codes) + [""] * (n_total - p.n_grids)
    if new:
        c = shapely.centroid(np.asarray([geoms[g] for g in new], dtype=object))
        areas = shapely.area(np.asarray([geoms[g] for g in new], dtype=object))
        order = gc.reading_order(shapely.get_x(c), shapely.get_y(c), areas)
        for k, idx in enumerate(order):
            seq = p.next_sequence + k
            if p.code_prefix is not None:
                if seq > 999:
                    raise ValueError(
                        f"no grid sequence left in 社区 {p.code_prefix}: codes up to 999 are used"
                    )
                codes[new[idx]] = gc.format_code(p.code_prefix, seq)
            else:
                codes[new[idx]] = f"{seq:0{p.code_width}d}"
    return codes


def _polygons_wgs84(p: Problem, rows: list[int], geoms: dict[int, object]) -> list:
    """The polygons of grids ``rows`` in EPSG:4326: redrawn ones converted, the others as given."""
    redrawn = [g for g in rows if g in geoms]
    converted = (
        dict(
            zip(
                redrawn,
                gpd.GeoSeries([geoms[g] for g in redrawn], crs=p.crs).to_crs(WGS84).values,
                strict=True,
            )
        )
        if redrawn
        else {}
    )
    out = []
    for g in rows:
        if g in converted:
            geom = converted[g]
            if not geom.is_valid:
                geom = polygonal_part(shapely.make_valid(geom))
            out.append(geom)
        else:
            out.append(p.grid_geoms_wgs84[g])
    return out


def _grid_frame(
    p: Problem,
    rows: list[int],
    codes: list[str],
    geoms: dict[int, object],
    households: np.ndarray,
    counts: np.ndarray,
) -> gpd.GeoDataFrame:
    """The grids ``rows`` as returned: code, kind, households, buildings, flag, polygon."""
    geometry = _polygons_wgs84(p, rows, geoms)
    kinds = [p.grid_kind[g] if g < p.n_grids else "residential" for g in rows]

    def flag(g, kind, geom):
        if kind == "unit":
            return p.grid_flag[g] if g < p.n_grids else None
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
    return grids.sort_values("code", kind="stable").reset_index(drop=True)


def _moves_frame(p: Problem, shifted: np.ndarray, label_codes: np.ndarray) -> gpd.GeoDataFrame:
    """Buildings whose grid changed, and every new building, with where they go."""
    listed = np.flatnonzero(shifted | p.placed)
    return gpd.GeoDataFrame(
        {
            "building_id": p.ids[listed],
            "households": p.households[listed],
            "from_code": [None if p.placed[b] else p.codes[p.building_grid[b]] for b in listed],
            "to_code": label_codes[listed],
        },
        geometry=list(p.buildings.to_crs(WGS84).geometry.values[listed]),
        crs=WGS84,
    )


def _changed_grids(
    p: Problem, alive: set[int], geoms: dict[int, object], label: np.ndarray, shifted: np.ndarray
) -> tuple[str, ...]:
    """Codes of the existing grids still alive that were redrawn or lost or gained buildings."""
    rows = np.flatnonzero(shifted)
    return tuple(
        sorted(
            p.codes[g]
            for g in set(geoms) | set(p.building_grid[rows].tolist()) | set(label[rows].tolist())
            if g < p.n_grids and g in alive
        )
    )


def _band_violations(p: Problem, grids: gpd.GeoDataFrame, touched: set[str]) -> list[str]:
    """Residential grids the change touched that end out of band or in several parts."""
    out = []
    for r in grids.itertuples():
        if r.code not in touched or r.kind == "unit":
            continue
        if not p.lo <= r.households <= p.hi:
            side = "below" if r.households < p.lo else "above"
            out.append(f"{r.code}: {r.households} households, {side} the band {p.lo}–{p.hi}")
        if r.geometry.geom_type != "Polygon":
            out.append(f"{r.code}: not contiguous ({len(r.geometry.geoms)} parts)")
    return out


def _compound_splits(p: Problem, label: np.ndarray, codes: list[str]) -> list[str]:
    """Compounds held by one grid before and by several now."""
    has = np.asarray([c is not None for c in p.building_compound])
    if not has.any():
        return []
    frame = pd.DataFrame(
        {
            "c": p.building_compound[has],
            "before": p.building_grid[has],
            "after": label[has],
            "hh": p.households[has],
        }
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


def _grid_of_buildings(p: Problem, state: State) -> np.ndarray:
    """Grid per building: its node's, or as it was outside the nodes."""
    label = p.building_grid.copy()
    label[state.nodes.building_rows] = state.node_grid[state.nodes.building_node]
    return label


def households_moved(p: Problem, state: State) -> int:
    """Households whose grid the state changes, as the report counts them."""
    return int(p.move_cost[_grid_of_buildings(p, state) != p.building_grid].sum())


def result_from_state(p: Problem, state: State, reasons, extra=()) -> RebalanceResult:
    """The result of the changes made in ``state``: changed grids get their nodes' union."""
    nd = state.nodes
    label = _grid_of_buildings(p, state)
    changed = {
        g
        for g in state.members
        if g >= p.n_grids
        or set(np.flatnonzero(nd.start_grid == g).tolist()) != state.members.get(g, set())
    }
    geoms = {}
    for g in sorted(changed):
        nodes = sorted(state.members.get(g, ()))
        if not nodes:
            geoms[g] = shapely.Polygon()
            continue
        geoms[g] = grid_polygon(nd.region[nodes])
    alive = {g for g, m in state.members.items() if m}
    return assemble_result(p, alive, label, geoms, state.n_grids, list(reasons), list(extra))
