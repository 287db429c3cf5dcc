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
    """Codes for new grids, polygons, flags, moves and the report."""
    counts = np.bincount(label, minlength=n_total)
    households = np.bincount(label, weights=p.households, minlength=n_total).astype(np.int64)
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
            seq = p.next_sequence + k
            if p.code_prefix is not None:
                if seq > 999:
                    raise ValueError(
                        f"no grid sequence left in 社区 {p.code_prefix}: codes up to 999 are used"
                    )
                codes[new[idx]] = gc.format_code(p.code_prefix, seq)
            else:
                codes[new[idx]] = f"{seq:0{p.code_width}d}"
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
            out_geoms.append(p.grid_geoms_wgs84[g])
    geometry = out_geoms
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
    grids = grids.sort_values("code", kind="stable").reset_index(drop=True)
    label_codes = np.asarray([codes[g] for g in label], dtype=object)
    labels = pd.Series(label_codes, index=pd.Index(p.ids, name="building_id"), name="grid_code")

    other = label != p.building_grid  # new buildings included: placed elsewhere than they lie
    shifted = np.flatnonzero(other)
    moved = np.flatnonzero(other & ~p.placed)
    listed = np.flatnonzero(other | p.placed)
    moves = gpd.GeoDataFrame(
        {
            "building_id": p.ids[listed],
            "households": p.households[listed],
            "from_code": [None if p.placed[b] else p.codes[p.building_grid[b]] for b in listed],
            "to_code": label_codes[listed],
        },
        geometry=list(p.buildings.to_crs(WGS84).geometry.values[listed]),
        crs=WGS84,
    )
    total = int(p.households.sum())
    hh_moved = int(p.households[moved].sum())
    before = tuple(
        p.codes[g]
        for g in range(p.n_grids)
        if p.grid_kind[g] != "unit" and not p.lo <= p.grid_households[g] <= p.hi
    )
    res = grids[grids["kind"] != "unit"]
    after = tuple(res["code"][~res["households"].between(p.lo, p.hi)].tolist())
    changed = tuple(
        sorted(
            p.codes[g]
            for g in set(geoms)
            | set(p.building_grid[shifted].tolist())
            | set(label[shifted].tolist())
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
        households_placed=int(p.households[p.placed].sum()),
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


def _building_labels(p: Problem, state: State) -> np.ndarray:
    """Grid per building: its node's, or as it was outside the nodes."""
    label = p.building_grid.copy()
    label[state.nodes.building_rows] = state.node_grid[state.nodes.building_node]
    return label


def households_moved(p: Problem, state: State) -> int:
    """Households whose grid the state changes, as the report counts them."""
    return int(p.move_cost[_building_labels(p, state) != p.building_grid].sum())


def result_from_state(p: Problem, state: State, reasons, extra=()) -> RebalanceResult:
    nd = state.nodes
    label = _building_labels(p, state)
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
