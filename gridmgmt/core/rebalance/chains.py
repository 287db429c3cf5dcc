"""Chains of boundary-atom moves: an over-full grid pushes atoms to a neighbour, which may
pass its surplus on; an under-full grid pulls from a neighbour, which may pull in turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridmgmt.core.rebalance.inputs import Problem, grid_name
from gridmgmt.core.rebalance.state import State

#: how many grids deep a chain of moves may reach
MAX_DEPTH = 3
#: neighbours tried at each step of a chain
BRANCHING = 4


@dataclass
class Chain:
    """A chain of moves found from one grid: what it gains and costs, and the moves."""

    gain: int  # reduction of the band distance of the grids it touched
    cost: int  # households it moves
    moves: list[tuple[int, int, int]]  # node, from, to
    path: list[int]
    full: bool  # every grid the chain touched ends in band

    def key(self):
        """Chains that settle every grid they touch first, by households moved; then by gain."""
        if self.full:
            return (0, 0, self.cost, len(self.moves))
        return (1, -self.gain, self.cost, len(self.moves))


def best_chain(state: State, v: int) -> Chain | None:
    """Best chain of moves that reduces the band distance around grid ``v``."""
    p = state.problem
    over = state.grid_households[v] > p.hi
    best: list[Chain | None] = [None]
    journal: list[tuple[int, int, int]] = []
    start_cost = state.moved_households
    distance_before: dict[int, int] = {}

    def remember(g):
        if g not in distance_before:
            distance_before[g] = state.band_distance(g)

    def consider(path):
        gain = sum(distance_before[g] - state.band_distance(g) for g in distance_before)
        if gain <= 0:
            return
        cost = state.moved_households - start_cost
        full = all(state.band_distance(g) == 0 for g in distance_before)
        cand = Chain(gain, cost, list(journal), list(path), full)
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
        wl = state.grid_workload
        return sorted(
            cands,
            key=lambda g: ((wl[g] if wl is not None else 0.0) * (1 if over else -1), key(g), g),
        )[:BRANCHING]

    def push(path):
        src = path[-1]
        nbrs = [g for g in state.neighbours(src) if state.movable(g) and g not in path]
        for dst in order(nbrs, lambda g: int(state.grid_households[g])):
            remember(dst)
            excess = int(state.grid_households[src]) - p.hi
            cap = int(state.grid_households[src]) - p.lo
            room = p.hi - int(state.grid_households[dst])
            aims = [excess] + ([min(excess, room)] if 0 < room < excess else [])
            for aim in aims:
                k = len(journal)
                nodes = state.hop_atoms(src, dst, aim, cap)
                if nodes:
                    apply(nodes, src, dst)
                    consider(path + [dst])
                    if state.grid_households[dst] > p.hi and len(path) < MAX_DEPTH:
                        push(path + [dst])
                undo(k)

    def pull(path):
        dst = path[-1]
        nbrs = [g for g in state.neighbours(dst) if state.movable(g) and g not in path]
        for src in order(nbrs, lambda g: -int(state.grid_households[g])):
            remember(src)
            need = p.lo - int(state.grid_households[dst])
            cap = p.hi - int(state.grid_households[dst])
            spare = int(state.grid_households[src]) - p.lo
            aims = [need] + ([spare] if 0 < spare < need else [])
            for aim in aims:
                k = len(journal)
                nodes = state.hop_atoms(src, dst, aim, cap)
                if nodes:
                    apply(nodes, src, dst)
                    consider(path + [src])
                    if state.grid_households[src] < p.lo and len(path) < MAX_DEPTH:
                        pull(path + [src])
                undo(k)

    remember(v)
    (push if over else pull)([v])
    return best[0]


def apply_chain(state: State, chain: Chain) -> None:
    """Make the chain's moves in ``state``."""
    for u, _src, dst in chain.moves:
        state.move(u, dst)


def chain_reason(p: Problem, state: State, v: int, before: int, chain: Chain) -> str:
    """Why and what the chain from grid ``v`` (``before`` households) moved, per hop."""
    side = f"over {p.hi}" if before > p.hi else f"under {p.lo}"
    hops = []
    for src, dst in _hops(chain):
        h = sum(int(state.nodes.households[u]) for u, s, d in chain.moves if s == src and d == dst)
        hops.append(f"{grid_name(p, src)} → {grid_name(p, dst)} {h}")
    return f"{grid_name(p, v)}: {before} households, {side}: moved " + "; ".join(hops)


def _hops(chain: Chain) -> list[tuple[int, int]]:
    """The chain's (from, to) grid pairs, in the order first moved."""
    seen = []
    for _, s, d in chain.moves:
        if (s, d) not in seen:
            seen.append((s, d))
    return seen
