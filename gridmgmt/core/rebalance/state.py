"""The search state (:class:`State`): node labels and grid totals under change."""

from __future__ import annotations

import numpy as np

from gridmgmt.core.bisection import TREE_TRIES, Bisector
from gridmgmt.core.rebalance.inputs import Problem
from gridmgmt.core.rebalance.nodes import Nodes


class State:
    """Node labels and grid totals under change, with the households moved kept current.

    Starts with every node in the grid it is in now; grids outside the
    nodes keep their totals from the problem.

    Attributes
    ----------
    problem : Problem
    nodes : Nodes
    node_grid : ndarray
        The grid of each node now.
    members : dict of int to set
        The nodes of each grid.
    grid_households, grid_workload : ndarray
        Per grid, its households and workload (None without workloads) now.
    active : set of int
        The grids of the nodes, and grids opened since.
    n_grids : int
        Grids so far, opened ones included.
    moved_households : int
        Households whose grid the changes so far move.
    """

    def __init__(self, p: Problem, nodes: Nodes):
        self.problem, self.nodes = p, nodes
        self.node_grid = nodes.start_grid.copy()
        self.grid_households = p.grid_households.astype(np.int64).copy()
        # grids' totals from their nodes (the nodes decide where buildings are)
        active = np.unique(nodes.start_grid)
        self.grid_households[active] = 0
        np.add.at(self.grid_households, self.node_grid, nodes.households)
        self.grid_workload = None
        if nodes.workload is not None:
            self.grid_workload = np.bincount(
                p.building_grid, weights=p.workload, minlength=p.n_grids
            )
            self.grid_workload[active] = 0
            np.add.at(self.grid_workload, self.node_grid, nodes.workload)
        self.members: dict[int, set[int]] = {}
        for u, g in enumerate(self.node_grid.tolist()):
            self.members.setdefault(g, set()).add(u)
        self.active = set(active.tolist())
        self.moved_households = 0
        self.n_grids = p.n_grids

    # -- band
    def band_distance(self, g: int) -> int:
        """Households grid ``g`` is out of band by (0 in band, or not residential)."""
        if not self.problem.residential(g):
            return 0
        h = int(self.grid_households[g])
        return max(0, self.problem.lo - h) + max(0, h - self.problem.hi)

    def movable(self, g: int) -> bool:
        """Whether grid ``g`` has nodes here and may change."""
        return g in self.active and self.problem.movable(g)

    # -- changes
    def move(self, u: int, to: int) -> None:
        """Move node ``u`` to grid ``to``, keeping totals and households moved current."""
        frm = int(self.node_grid[u])
        h = int(self.nodes.households[u])
        l0 = int(self.nodes.start_grid[u])
        self.moved_households += int(self.nodes.move_cost[u]) * (int(to != l0) - int(frm != l0))
        self.node_grid[u] = to
        self.members[frm].discard(u)
        self.members.setdefault(to, set()).add(u)
        self.grid_households[frm] -= h
        self.grid_households[to] += h
        if self.grid_workload is not None:
            self.grid_workload[frm] -= self.nodes.workload[u]
            self.grid_workload[to] += self.nodes.workload[u]

    def new_grid(self) -> int:
        """Open an empty grid; returns its number."""
        g = self.n_grids
        self.n_grids += 1
        self.grid_households = np.append(self.grid_households, 0)
        if self.grid_workload is not None:
            self.grid_workload = np.append(self.grid_workload, 0.0)
        self.members[g] = set()
        self.active.add(g)
        return g

    # -- graph
    def count_pieces(self, nodes: set[int]) -> int:
        """Number of connected pieces of ``nodes``."""
        return len(self.pieces(nodes))

    def neighbours(self, g: int) -> dict[int, float]:
        """Grids sharing boundary with ``g`` (within the active nodes), with the shared length."""
        out: dict[int, float] = {}
        for a in self.members.get(g, ()):
            for b, w in self.nodes.contacts[a].items():
                h = int(self.node_grid[b])
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
                for b in self.nodes.contacts[a]:
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
        hh = self.nodes.households
        left = rest - {u}
        if not left:
            return None
        near = set(self.nodes.contacts[u])
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

    def hop_atoms(self, src: int, dst: int, aim: int, cap: int) -> list[int]:
        """Atoms of ``src`` on its boundary with ``dst``: at least ``aim``, at most ``cap`` households.

        Greedy: an atom that completes the amount is taken if one exists (the
        smallest); otherwise the largest that fits; every step keeps ``src``
        as connected as it was (building-less regions cut off go along).
        Returns the atoms (possibly short of ``aim``).
        """
        hh = self.nodes.households
        rest = set(self.members.get(src, ()))
        target = set(self.members.get(dst, ()))
        chosen: list[int] = []
        total = 0
        while total < aim:
            touch: dict[int, float] = {}
            for a in target.union(chosen):
                for b, w in self.nodes.contacts[a].items():
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


def bisector(state: State, tree_tries: int = TREE_TRIES) -> Bisector:
    """A bisector over the state's nodes, in the problem's band, with ``tree_tries`` trees per cut."""
    nd = state.nodes
    return Bisector(
        nd.graph,
        nd.households,
        nd.xy,
        state.problem.lo,
        state.problem.hi,
        state.problem.seed,
        tree_tries,
    )
