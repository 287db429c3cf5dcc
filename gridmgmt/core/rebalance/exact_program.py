"""The exact program's glue: the same atoms moved between the same grids, solved by
:func:`gridmgmt.core.min_moves.min_moves` (the fewest households moved), and its answer
applied and explained; :func:`fewest_moves` gives that floor over a whole 社区.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import geopandas as gpd
import numpy as np

from gridmgmt.core.min_moves import MoveSolution, component_labels, min_moves
from gridmgmt.core.rebalance.inputs import Problem, grid_name
from gridmgmt.core.rebalance.nodes import Nodes
from gridmgmt.core.rebalance.restructure import carve, carve_reason
from gridmgmt.core.rebalance.state import State

#: CPU seconds the exact program may take; past that the search's answer stands alone
#: (so only a program this hard makes the answer depend on the machine's speed, not
#: on how busy it is)
EXACT_SECONDS = 0.5


def possible_openings(p: Problem, nodes: Nodes) -> list[tuple[int, np.ndarray]]:
    """New grids the exact program may open: for each over-full grid with new buildings,
    the grid :func:`~gridmgmt.core.rebalance.restructure.carve` would cut around them
    (labelled after the current grids)."""
    if not p.placed.any():
        return []
    state = State(p, nodes)
    out = []
    for v in sorted(state.active):
        if state.movable(v) and state.grid_households[v] > p.hi:
            plan = carve(state, v)
            if plan:
                out.append((p.n_grids + len(out), plan[1][1]))
    return out


def solve_exact_program(
    nd: Nodes, start: np.ndarray, openings=(), time_limit: float = EXACT_SECONDS
) -> tuple[MoveSolution, float]:
    """The fewest households moved that brings every grid into band: atoms moved between
    the same grids, and new grids opened from ``openings`` (see :func:`possible_openings`).

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
        nd.households,
        start,
        lo=nd.problem.lo,
        hi=nd.problem.hi,
        cost=nd.move_cost,
        openings=openings,
        time_limit=time_limit,
    )
    return sol, time.perf_counter() - began


def apply_exact_program(
    state: State, solved: tuple[MoveSolution, float], reasons: list[str]
) -> bool:
    """Apply and explain :func:`solve_exact_program`'s answer; False (nothing changed) when moves
    alone cannot do it or the program ran out of time."""
    p, nd = state.problem, state.nodes
    sol, took = solved
    if sol.labels is None:
        return False
    new = {label: state.new_grid() for label in sorted(sol.opened)}
    before = state.grid_households.copy()
    flows: dict[tuple[int, int], int] = {}
    for u in np.flatnonzero(sol.labels != state.node_grid).tolist():
        src, dst = int(state.node_grid[u]), int(sol.labels[u])
        if dst in new:  # an opening: said below, as a carve is
            state.move(u, new[dst])
            continue
        flows[src, dst] = flows.get((src, dst), 0) + int(nd.households[u])
        state.move(u, dst)
    for g in new.values():
        nodes = np.asarray(sorted(state.members[g]), dtype=np.int64)
        v = int(nd.start_grid[nodes[0]])  # an opening is cut from one grid
        moved = int(nd.move_cost[nodes].sum())  # from the grids as they were
        reasons.append(carve_reason(state, v, int(before[v]), nodes, moved))
    # one reason per set of grids the moves join up
    ends = np.asarray(list(flows), dtype=np.int64).reshape(-1, 2)
    grid_ids, pair_ends = np.unique(ends, return_inverse=True)
    pair_ends = pair_ends.reshape(-1, 2)
    group = component_labels(len(grid_ids), pair_ends[:, 0], pair_ends[:, 1])
    groups: dict[int, list[tuple[int, int]]] = {}
    for pair, k in zip(flows, group[pair_ends[:, 0]].tolist(), strict=True):
        groups.setdefault(k, []).append(pair)
    for pairs in sorted(
        groups.values(), key=lambda ps: min(grid_name(p, x) for pr in ps for x in pr)
    ):
        grids = sorted({x for pr in pairs for x in pr}, key=lambda x: grid_name(p, x))
        bad = [x for x in grids if not p.lo <= before[x] <= p.hi]
        why = "; ".join(
            f"{grid_name(p, x)}: {int(before[x])} households, "
            + (f"over {p.hi}" if before[x] > p.hi else f"under {p.lo}")
            for x in bad
        )
        hops = "; ".join(
            f"{grid_name(p, a)} → {grid_name(p, b)} {flows[a, b]}"
            for a, b in sorted(pairs, key=lambda pr: (grid_name(p, pr[0]), grid_name(p, pr[1])))
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

    A yardstick for :func:`~gridmgmt.core.rebalance.rebalance`: the same atoms (whole compounds,
    building groups) over every grid that may change, solved exactly by
    :func:`gridmgmt.core.min_moves.min_moves`. No grid is opened or emptied
    and no compound divided, so when :func:`~gridmgmt.core.rebalance.rebalance` needs a split, a
    merge or a divided compound this answers ``infeasible``. Slower than
    :func:`~gridmgmt.core.rebalance.rebalance`; parameters as there.

    Returns
    -------
    MoveSolution
        ``moved`` households and ``status``; ``labels`` are per atom.
    """
    p = Problem(
        grids,
        buildings,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=min_households,
        max_households=max_households,
        locked=locked,
    )
    nd = Nodes(p, [g for g in range(p.n_grids) if p.movable(g)])
    return solve_exact_program(nd, nd.start_grid, time_limit=time_limit)[0]
