"""Passes over the search state: the repair loop (chains and restructuring until no
progress), undoing moves no longer needed, and evening out the workload.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from gridmgmt.core.rebalance.chains import apply_chain, best_chain, chain_reason
from gridmgmt.core.rebalance.inputs import grid_name
from gridmgmt.core.rebalance.restructure import (
    apply_restructuring,
    best_restructuring,
    opening_cost,
    repartition_locally,
)
from gridmgmt.core.rebalance.state import State, bisector
from gridmgmt.core.rings import open_rings

#: random spanning trees per cut of the repair loop's splits and merges
REPAIR_TREE_TRIES = 4
#: rounds of the repair loop (each accepted change strictly reduces the band distance)
MAX_ROUNDS = 400


def stuck_grids(state: State) -> list[int]:
    """Grids still out of band, by name."""
    return sorted(
        (g for g in state.active if state.movable(g) and state.band_distance(g) > 0),
        key=lambda g: grid_name(state.problem, g),
    )


def repair_loop(state: State, reasons: list[str], local_repartition: bool) -> None:
    """Rounds of chains, exchanges, splits and merges (local re-partitions last) until no progress."""
    p = state.problem
    bis = bisector(state, REPAIR_TREE_TRIES)
    failed: dict[int, tuple] = {}
    for _ in range(MAX_ROUNDS):
        out_of_band = sorted(
            stuck_grids(state), key=lambda g: (-state.band_distance(g), grid_name(p, g))
        )
        if not out_of_band:
            break
        progress = False
        for v in out_of_band:
            if state.band_distance(v) == 0:
                continue
            before = int(state.grid_households[v])
            chain = best_chain(state, v)
            cheap = chain is not None and chain.full and chain.cost <= opening_cost(state, [v]) // 2
            bound = chain.cost if chain is not None and chain.full else math.inf
            option = None if cheap else best_restructuring(state, v, bis, bound)
            if option is not None and (chain is None or not chain.full or option[0] < chain.cost):
                apply_restructuring(state, v, option, reasons)
            elif chain is not None:
                apply_chain(state, chain)
                reasons.append(chain_reason(p, state, v, before, chain))
            else:
                continue
            progress = True
        if not progress and local_repartition:  # last resort: a grid with its neighbours
            for v in out_of_band:
                around = (
                    v,
                    *sorted((g, int(state.grid_households[g])) for g in state.neighbours(v)),
                )
                if failed.get(v) == around:
                    continue  # tried on this very neighbourhood before
                option = repartition_locally(state, v, bis)
                if option is not None:
                    apply_restructuring(state, v, option, reasons)
                    progress = True
                    break
                failed[v] = around
        if not progress:
            break


def ring_pass(state: State, reasons: list[str]) -> None:
    """Cut open grids the moves left wrapped all around others.

    Household-free regions of the ring go to a grid inside it
    (:func:`gridmgmt.core.rings.open_rings`): no household changes grid.
    """
    p, nd = state.problem, state.nodes
    grids = sorted(g for g, m in state.members.items() if m)
    groups = [np.fromiter(sorted(state.members[g]), dtype=np.int64) for g in grids]
    kinds = ["residential" if state.movable(g) and p.residential(g) else "unit" for g in grids]
    outline = shapely.boundary(p.union(nd.grids))
    on_outline = shapely.length(shapely.intersection(shapely.boundary(nd.region), outline)) > 1.0
    opened = open_rings(groups, kinds, nd.households, nd.graph, on_outline, shapely.area(nd.region))
    for g, before, after in zip(grids, groups, opened, strict=True):
        gained = np.setdiff1d(after, before)
        if len(gained) == 0:
            continue
        rings = sorted({int(state.node_grid[u]) for u in gained})
        for u in gained:
            state.move(int(u), g)
        reasons.append(
            f"{', '.join(grid_name(p, r) for r in rings)}: no longer wraps around "
            f"{grid_name(p, g)}, which takes land without households"
        )


def revert_pass(state: State, reasons: list[str]) -> None:
    """Send moved atoms back where they came from when both grids stay in band and connected.

    Chains and re-splits can move more than needed; this undoes every move
    that is not needed any more, largest first.
    """
    p, nd = state.problem, state.nodes
    hh = nd.households
    back = 0
    for _ in range(nd.n):
        done = False
        moved = sorted(
            (u for u in range(nd.n) if state.node_grid[u] != nd.start_grid[u] and hh[u] > 0),
            key=lambda u: (-int(hh[u]), u),
        )
        for u in moved:
            a, g = int(state.node_grid[u]), int(nd.start_grid[u])
            if not (state.movable(g) and state.members.get(g)):
                continue
            if not any(int(state.node_grid[x]) == g for x in nd.contacts[u]):
                continue
            take = state.detach(state.members[a], u)
            if take is None:
                continue
            h = int(hh[list(take)].sum())
            if not (
                p.lo <= state.grid_households[g] + h <= p.hi
                and p.lo <= state.grid_households[a] - h <= p.hi
            ):
                continue
            delta = sum(
                int(nd.move_cost[x]) * (int(g != nd.start_grid[x]) - int(a != nd.start_grid[x]))
                for x in take
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


def workload_pass(state: State, reasons: list[str]) -> None:
    """Even out workload between neighbours by single boundary-atom moves that keep the band."""
    p = state.problem
    if state.grid_workload is None:
        return
    moved = 0
    for _ in range(4 * max(1, len(state.active))):
        grids = sorted(
            (g for g in state.active if state.movable(g) and state.members.get(g)),
            key=lambda g: (-state.grid_workload[g], g),
        )
        done = False
        for a in grids:
            for b in sorted(state.neighbours(a), key=lambda g: (state.grid_workload[g], g)):
                if not state.movable(b):
                    continue
                diff = state.grid_workload[a] - state.grid_workload[b]
                if diff <= 0:
                    continue
                best = None
                rest = set(state.members[a])
                base = state.count_pieces(rest)
                for u in sorted(rest):
                    if not any(int(state.node_grid[x]) == b for x in state.nodes.contacts[u]):
                        continue
                    h, w = int(state.nodes.households[u]), float(state.nodes.workload[u])
                    if w <= 0 or len(rest) == 1:
                        continue
                    if not (
                        state.grid_households[a] - h >= p.lo
                        and state.grid_households[b] + h <= p.hi
                    ):
                        continue
                    new_diff = abs(diff - 2 * w)
                    if new_diff >= diff * 0.8:
                        continue
                    rest.discard(u)
                    ok = state.count_pieces(rest) <= base
                    rest.add(u)
                    if ok and (best is None or new_diff < best[0]):
                        best = (new_diff, u, h)
                if best is not None:
                    state.move(best[1], b)
                    moved += best[2]
                    reasons.append(
                        f"{grid_name(p, a)} → {grid_name(p, b)}: one atom ({best[2]} households) "
                        f"moved to even the workload ({diff:.0f} → {best[0]:.0f})"
                    )
                    done = True
                    break
            if done:
                break
        if not done:
            break
