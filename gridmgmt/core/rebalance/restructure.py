"""Restructuring moves for a grid out of band, when chains of moves cannot fix it cheaply.

Exchanges among two or three grids (every assignment of their atoms
enumerated), a split by balanced bisection, a new grid carved around new
buildings, a merge with a neighbour (re-split if too large), a local
re-partition with rings of neighbours (the last resort), and atoms rebuilt
with compounds divided between buildings.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.band_repair import repair_band
from gridmgmt.core.bisection import Bisector
from gridmgmt.core.rebalance.chains import BRANCHING
from gridmgmt.core.rebalance.inputs import grid_name
from gridmgmt.core.rebalance.nodes import Nodes
from gridmgmt.core.rebalance.state import State

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


def best_restructuring(state: State, v: int, bis: Bisector, bound: float = math.inf):
    """Best exchange, split, carve or merge (re-split if needed) for grid ``v``.

    ``bound`` is the cost of a known fix: cuts that open a new grid (which
    moves at least ``min_households``, less those in new buildings) are not
    tried when it is below that. Returns ``(cost, kind, grids, plan)`` with
    every piece in band and connected, or None.
    """
    p = state.problem
    hh = state.nodes.households
    options = []
    total_v = int(state.grid_households[v])
    opening = opening_cost(state, [v])
    near = sorted(
        (u for u in state.neighbours(v) if state.movable(u)),
        key=lambda g: (state.grid_households[g], g),
    )
    enumerated = set()  # neighbours with whom every two-way redraw was tried
    for u in near:
        plan = _exhaustive_redraw(state, [v, u], PAIR_LIMIT)
        if plan is not None:
            options.append(("exchange", [v, u], plan))
        if sum(1 for x in state.members[v] | state.members[u] if hh[x] > 0) <= PAIR_LIMIT:
            enumerated.add(u)
    if not any(kind == "exchange" for kind, _, _ in options):
        for a in range(len(near)):
            for b in range(a + 1, len(near)):
                plan = _exhaustive_redraw(state, [v, near[a], near[b]], TRIPLE_LIMIT)
                if plan is not None:
                    options.append(("exchange", [v, near[a], near[b]], plan))
    for _kind, _grids, plan in options:
        if _valid(state, plan):
            bound = min(bound, _plan_cost(state, plan))
    if total_v > p.hi and bound >= opening:
        k, feasible = bis.count(total_v)
        plan = carve(state, v)  # first: of equal costs, the first option found wins
        if plan:
            options.append(("carve", [v], plan))
        if feasible and k > 1:
            plan = _resplit(state, [v], k, bis)
            if plan:
                options.append(("split", [v], plan))
    for u in near[:BRANCHING]:
        total = total_v + int(state.grid_households[u])
        k, feasible = bis.count(total)
        if (
            not feasible
            or (k == 2 and u in enumerated)
            or (k > 2 and bound < opening_cost(state, [v, u]))
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


def _resplit(state: State, grids: list[int], k: int, bis: Bisector):
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


def _match(state: State, grids: list[int], pieces: list[np.ndarray]):
    """Pair pieces with grids, most shared households first; unmatched pieces become new grids.

    Households in new buildings are not counted: they have no grid to keep.
    """
    kept = state.nodes.move_cost  # households that keep their grid when a piece goes to it
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


def _plan_cost(state: State, plan) -> int:
    """Households the plan moves, beyond those the state has moved already."""
    start = state.nodes.start_grid
    moving = state.nodes.move_cost
    cost = 0
    for owner, piece in plan:
        for u in piece.tolist():
            now = owner if owner is not None else -1
            cost += int(moving[u]) * (int(now != start[u]) - int(state.node_grid[u] != start[u]))
    return cost


def _valid(state: State, plan) -> bool:
    """Every piece of ``plan`` in band and connected."""
    p, hh = state.problem, state.nodes.households
    return all(p.lo <= int(hh[piece].sum()) <= p.hi for _, piece in plan) and all(
        state.count_pieces(set(piece.tolist())) == 1 for _, piece in plan
    )


def _exhaustive_redraw(state: State, grids: list[int], limit: int):
    """Cheapest redrawing of the boundaries among ``grids`` (2 or 3), by enumeration.

    Every assignment of the grids' atoms holding households to one grid or
    another is tried (when there are at most ``limit`` of them); building-less
    regions then join the neighbouring side they share most boundary with.
    The cheapest assignment leaving every grid in band and connected wins.
    This finds exchanges (atoms moving both ways) that one-way moves miss.
    Returns a plan ``[(grid, nodes)]`` or None.
    """
    p = state.problem
    nd = state.nodes
    union = sorted(set().union(*(state.members[g] for g in grids)))
    pos = [x for x in union if nd.households[x] > 0]
    zero = [x for x in union if nd.households[x] == 0]
    n, m = len(pos), len(grids)
    if n > limit or n < m:
        return None
    hh = nd.households[pos].astype(np.int64)
    mc = nd.move_cost[pos].astype(np.int64)
    start = nd.start_grid[pos]
    now = state.node_grid[pos]
    digits, sides = _assignments(m, n)
    ok = np.ones(len(digits), bool)
    for side_of in sides:
        tot = side_of @ hh
        ok &= (tot >= p.lo) & (tot <= p.hi)
    if not ok.any():
        return None
    gid = np.asarray(grids)
    moved = gid[digits[ok]] != start[None, :]
    cost = moved @ mc - int((mc * (now != start)).sum())
    cand = np.flatnonzero(ok)[np.argsort(cost, kind="stable")]
    for row in cand[:200]:
        side = {x: grids[d] for x, d in zip(pos, digits[row].tolist(), strict=True)}
        pending = list(zero)
        while pending:
            still = []
            for z in pending:
                votes: dict[int, float] = {}
                for b, w in nd.contacts[z].items():
                    if b in side:
                        votes[side[b]] = votes.get(side[b], 0.0) + w
                if votes:
                    side[z] = max(sorted(votes), key=lambda g: votes[g])
                else:
                    still.append(z)
            if len(still) == len(pending):
                for z in still:
                    side[z] = int(state.node_grid[z])
                break
            pending = still
        parts = {g: {x for x, s in side.items() if s == g} for g in grids}
        if all(parts[g] and state.count_pieces(parts[g]) == 1 for g in grids):
            return [(g, np.asarray(sorted(parts[g]), dtype=np.int64)) for g in grids]
    return None


@functools.lru_cache(maxsize=64)
def _assignments(m: int, n: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Every assignment of ``n`` atoms to ``m`` grids (rows of digits), and each grid's 0/1 mask."""
    digits = (np.arange(m**n)[:, None] // (m ** np.arange(n))[None, :]) % m
    digits.setflags(write=False)
    sides = tuple((digits == j).astype(np.int64) for j in range(m))
    for side in sides:
        side.setflags(write=False)
    return digits, sides


def _new_households(nd: Nodes, nodes) -> int:
    """Households of new buildings (placed, never moved) among ``nodes``."""
    nodes = np.asarray(list(nodes), dtype=np.int64)
    return int((nd.households[nodes] - nd.move_cost[nodes]).sum())


def opening_cost(state: State, grids: list[int]) -> int:
    """The fewest households a new grid cut from ``grids`` can move: ``min_households``
    less the households of new buildings there (they have no grid to leave)."""
    nodes = set().union(*(state.members.get(g, ()) for g in grids))
    return max(0, state.problem.lo - _new_households(state.nodes, nodes))


def carve(state: State, v: int):
    """A new grid grown around the new buildings of over-full ``v``, taking from ``v`` only
    the households it needs to reach the band, those moving fewest families first.

    A new block of flats is usually a grid of its own: this moves far fewer
    households than a balanced split. Returns a plan ``[(v, rest), (None,
    new)]`` with both in band and connected, or None.
    """
    p, nd = state.problem, state.nodes
    hh, cost = nd.households, nd.move_cost
    members = state.members.get(v, set())
    total = int(state.grid_households[v])
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
            for u in {b for a in grown for b in nd.contacts[a]} & rest:
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


def carve_reason(state: State, v: int, before: int, nodes: np.ndarray, moved: int) -> str:
    """Why grid ``v`` (``before`` households) lost ``nodes`` to a new grid around new buildings."""
    p = state.problem
    new = _new_households(state.nodes, nodes)
    return (
        f"{grid_name(p, v)}: {before} households over {p.hi}, {new} of them in new buildings: "
        f"a new grid formed around those ({moved} households moved)"
    )


def repartition_locally(state: State, v: int, bis: Bisector):
    """Last resort: re-partition ``v`` with all its neighbours as the partition engine would."""
    p = state.problem
    hh = state.nodes.households
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
                pieces = repair_band(pieces, bis.graph, bis, rounds=CLUSTER_REPAIR_ROUNDS)
            if all(
                p.lo <= int(hh[q].sum()) <= p.hi and state.count_pieces(set(q.tolist())) == 1
                for q in pieces
            ):
                plan = _match(state, grids, pieces)
                return _plan_cost(state, plan), "cluster", grids, plan
    return None


def apply_restructuring(state: State, v: int, option, reasons: list[str]) -> None:
    """Make a restructuring ``option`` for grid ``v`` (``(cost, kind, grids, plan)``) and say why."""
    p = state.problem
    cost, kind, grids, plan = option
    total_v = int(state.grid_households[v])
    new = []
    for owner, piece in plan:
        g = owner if owner is not None else state.new_grid()
        if owner is None:
            new.append(g)
        for u in piece.tolist():
            if state.node_grid[u] != g:
                state.move(u, g)
    names = ", ".join(grid_name(p, g) for g in grids)
    if kind == "carve":
        reasons.append(carve_reason(state, v, total_v, plan[1][1], cost))
    elif kind == "split":
        reasons.append(
            f"{names}: {total_v} households over {p.hi} and no neighbour could take the surplus: "
            f"split into {len(plan)} grids ({cost} households moved)"
        )
    elif kind == "merge":
        reasons.append(
            f"{grid_name(p, v)}: {total_v} households, no neighbour could give enough: "
            f"merged with {', '.join(grid_name(p, g) for g in grids if g != v)} "
            f"({cost} households moved)"
        )
    elif kind == "exchange":
        others = [g for g in grids if g != v]
        now = ", ".join(f"{grid_name(p, g)} {int(state.grid_households[g])}" for g in grids)
        reasons.append(
            f"{grid_name(p, v)}: {total_v} households, out of band: boundary with "
            f"{' and '.join(grid_name(p, g) for g in others)} redrawn "
            f"({cost} households moved; now {now})"
        )
    elif kind == "cluster":
        reasons.append(
            f"{grid_name(p, v)}: {total_v} households, out of band, and no move, exchange, "
            f"split or merge could fix it: {names} re-partitioned into {len(plan)} grids "
            f"({cost} households moved)"
        )
    else:
        reasons.append(
            f"{grid_name(p, v)}: {total_v} households, out of band, and moves along the boundary "
            "could not fix it as cheaply: "
            f"{names} redrawn as {len(plan)} grids ({cost} households moved)"
        )


def divide_compounds(state: State, stuck: list[int]):
    """The state on atoms where the compounds of ``stuck`` grids and their neighbours are divided.

    The last resort when no arrangement of whole compounds brings a grid
    into band. Atoms are rebuilt with those compounds cut into pieces (as
    loose buildings are); every new atom lies in one old atom, so the
    changes made so far carry over. Returns ``(state, compound ids)`` or
    None when there is no compound of several buildings to divide.
    """
    p, nd = state.problem, state.nodes
    around = set(stuck) | {u for g in stuck for u in state.neighbours(g) if state.movable(u)}
    ids = {
        nd.compound_id[u]
        for g in around
        for u in state.members.get(g, ())
        if nd.compound_id[u] is not None and nd.households[u] > 0
    }
    several = pd.Series(nd.building_node).map(pd.Series(nd.compound_id)).value_counts()
    ids = frozenset(c for c in ids if several.get(c, 0) > 1)
    if not ids:
        return None
    # rebuild the grids these atoms came from, when that is a small part of all
    origin = {int(nd.start_grid[u]) for g in around for u in state.members.get(g, ())}
    fine = None
    if len(origin) < len(nd.grids) // 2:
        fine = Nodes.spliced(nd, Nodes(p, sorted(origin), divisible=ids))
    if fine is None:
        fine = Nodes(p, nd.grids, divisible=ids)
    old_of = np.full(fine.n, -1, dtype=np.int64)
    old_of[fine.building_node] = nd.building_node
    bare = np.flatnonzero(old_of < 0)
    if len(bare):
        tree = shapely.STRtree(nd.region)
        pos = shapely.point_on_surface(fine.region[bare])
        bi, oi = tree.query(pos, predicate="within")
        old_of[bare[bi]] = oi
        lost = bare[(old_of[bare] < 0) & ~shapely.is_empty(fine.region[bare])]
        if len(lost):
            old_of[lost] = tree.nearest(shapely.point_on_surface(fine.region[lost]))
        old_of[old_of < 0] = 0  # empty regions hold nothing: any node will do
    out = State(p, fine)
    while out.n_grids < state.n_grids:
        out.new_grid()
    for u in np.flatnonzero(state.node_grid[old_of] != out.node_grid).tolist():
        out.move(u, int(state.node_grid[old_of[u]]))
    return out, ids
