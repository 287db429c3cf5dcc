""":func:`rebalance`: the search and the exact program side by side, the better answer kept."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import geopandas as gpd
import pandas as pd

from gridmgmt.core.rebalance.assemble import assemble_result, households_moved, result_from_state
from gridmgmt.core.rebalance.exact_program import (
    apply_exact_program,
    possible_openings,
    solve_exact_program,
)
from gridmgmt.core.rebalance.inputs import Problem, grid_name
from gridmgmt.core.rebalance.nodes import Nodes
from gridmgmt.core.rebalance.passes import (
    repair_loop,
    revert_pass,
    ring_pass,
    stuck_grids,
    workload_pass,
)
from gridmgmt.core.rebalance.restructure import divide_compounds
from gridmgmt.core.rebalance.results import RebalanceResult
from gridmgmt.core.rebalance.state import State

#: atoms are rebuilt for grids this many steps from a grid out of band
ACTIVE_DEPTH = 2


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
    p = Problem(
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
    bad = [g for g in range(p.n_grids) if p.movable(g) and not p.lo <= p.grid_households[g] <= p.hi]
    reasons: list[str] = []
    if not bad and p.workload is None:
        return assemble_result(p, None, p.building_grid.copy(), {}, p.n_grids, reasons, [])
    active = _neighbourhood(p, bad, ACTIVE_DEPTH) if p.workload is None else range(p.n_grids)
    active = [g for g in active if p.movable(g)]
    nodes = Nodes(p, active)
    # the same atoms moved between the same grids (or into new grids around new buildings),
    # solved by the exact program: the fewest households when that can do it; it wins
    # unless the search did better by the same rules.
    # HiGHS releases the GIL, so the program is solved while the search runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        solving = pool.submit(
            solve_exact_program, nodes, nodes.start_grid, possible_openings(p, nodes)
        )
        by_search = _rebalance_by_search(
            p, State(p, nodes), reasons, local_repartition, split_compounds
        )
        solution = solving.result()
    program_reasons: list[str] = []
    by_program = State(p, nodes)
    if apply_exact_program(by_program, solution, program_reasons):
        workload_pass(by_program, program_reasons)
        ring_pass(by_program, program_reasons)
        locked_out = _locked_out_of_band(p)
        # every grid it may change ends in band and no compound is divided: its result
        # (polygons and all) is only built when it wins
        key = (len(locked_out), 0, households_moved(p, by_program), len(solution[0].opened))
        if _preference(by_search) >= key:
            return result_from_state(p, by_program, program_reasons, locked_out)
    # the search's report was written before the exact program was done: the time is all
    report = replace(by_search.report, runtime_s=time.perf_counter() - p.started)
    return replace(by_search, report=report)


def _preference(result: RebalanceResult) -> tuple:
    """Fewest grids out of band, then compounds divided, households moved, grids added."""
    r = result.report
    divided = sum(1 for v in r.violations if "split between" in v)
    return (len(r.out_of_band_after), divided, r.households_moved, len(r.grids_added))


def _rebalance_by_search(
    p: Problem, state: State, reasons: list[str], local_repartition: bool, split_compounds: bool
) -> RebalanceResult:
    """Chains, exchanges, splits and merges; compounds divided and local re-partitions last."""
    # dividing a compound moves a few households; a local re-partition redraws
    # rings of grids: with both allowed, the division is tried first
    repair_loop(state, reasons, local_repartition and not split_compounds)
    stuck = stuck_grids(state)
    if stuck and split_compounds:
        divided = divide_compounds(state, stuck)
        if divided is not None:
            state, ids = divided
            reasons.append(
                f"{', '.join(grid_name(p, g) for g in stuck)}: no arrangement of whole compounds "
                f"brings {'it' if len(stuck) == 1 else 'them'} into band: "
                f"compounds {', '.join(sorted(map(str, ids)))} may be divided"
            )
        if divided is not None or local_repartition:  # else nothing new to try
            repair_loop(state, reasons, local_repartition)
    for g in stuck_grids(state):
        reasons.append(
            f"{grid_name(p, g)}: {int(state.grid_households[g])} households, still out of band: no move, exchange, "
            "split, merge or local re-partition"
            + ("" if split_compounds else " that keeps compounds whole")
            + " brings it into band"
        )
    revert_pass(state, reasons)
    workload_pass(state, reasons)
    ring_pass(state, reasons)
    return result_from_state(p, state, reasons, _locked_out_of_band(p))


def _locked_out_of_band(p: Problem) -> list[str]:
    """Violations the change cannot help: locked grids out of band."""
    return [
        f"{p.codes[g]}: locked, {p.grid_households[g]} households, out of the band"
        for g in sorted(p.locked)
        if p.residential(g) and not p.lo <= p.grid_households[g] <= p.hi
    ]


def _neighbourhood(p: Problem, seeds: list[int], depth: int) -> list[int]:
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
