"""Fewest households moved between grids to bring them all into the band: an exact program.

Atoms (nodes carrying households, with contacts between them) each lie in
one grid. :func:`min_moves` gives every atom a grid so that every grid
holds between ``lo`` and ``hi`` households and stays connected, moving as
few households as possible. The grids stay the same grids: no grid is
emptied, and none is opened but the ``openings`` given (splits and merges
are the caller's next step when this finds no answer).

An atom may stay or move to a grid it touches, and a moved atom must touch
an atom that ends in its new grid. Optionally, given sets of atoms may
instead leave together as a new grid (``openings``: a block of new
buildings with what it needs to reach the band); the program opens those
that lower the households moved. A chain of moves (A gives to B, B passes
its surplus on to C) or an exchange is a set of such one-hop moves, so one
program finds the cheapest combination for all grids together, where a
search grid by grid takes the first fix for one grid and pays for it in the
next.

Building-less regions (households 0) go with the atom of their grid they
share most boundary with, so they never cost or block anything. Contiguity
is added lazily: after each solve, every grid in pieces gets a separator cut
for each detached piece ``S`` (its heaviest atom and one of the main piece
may share the grid only if an atom bordering ``S`` is in it too), and the
program is solved again. Pieces that no contact joins (islands of the
contact graph) are left as they are.

Solved with HiGHS through :func:`scipy.optimize.milp`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: contiguity rounds before giving up
MAX_ROUNDS = 30
#: the solver's wall-clock limit, as a multiple of the CPU seconds left: the
#: budget is counted in this process's CPU time, so a busy machine (other
#: processes, a web server's requests) does not change the answer, and the wall
#: limit only stops a solve that something has starved for much longer
WALL_FACTOR = 4.0


@dataclass(frozen=True)
class MoveSolution:
    """Outcome of :func:`min_moves`.

    Attributes
    ----------
    labels : ndarray or None
        New grid per atom; None when there is no answer (see ``status``).
    moved : int
        Households whose grid changed (counted by ``cost``).
    status : str
        ``optimal`` (proved fewest), ``feasible`` (best found in the time
        allowed), ``infeasible`` (no arrangement of these atoms brings every
        grid into band) or ``timeout`` (none found in the time allowed).
    rounds : int
        Solves: one plus the contiguity rounds.
    opened : tuple of int
        Labels of the ``openings`` taken (their atoms carry that label).
    """

    labels: np.ndarray | None
    moved: int
    status: str
    rounds: int
    opened: tuple[int, ...] = ()


def min_moves(
    i: np.ndarray,
    j: np.ndarray,
    w: np.ndarray,
    households: np.ndarray,
    start: np.ndarray,
    *,
    lo: int,
    hi: int,
    cost: np.ndarray | None = None,
    openings: Sequence[tuple[int, np.ndarray]] = (),
    time_limit: float = 1.0,
) -> MoveSolution:
    """Move atoms between grids: every grid in band and connected, fewest households moved.

    Parameters
    ----------
    i, j : ndarray of int
        Contacts between atoms.
    w : ndarray of float
        Contact lengths: a building-less region goes with the atom of its
        grid it shares most boundary with.
    households : ndarray of int
        Households per atom (0 for building-less regions).
    start : ndarray of int
        Current grid per atom.
    lo, hi : int
        The band (inclusive).
    cost : ndarray of int, optional
        Households counted as moved when the atom changes grid (default
        ``households``; less when some are new and have no grid to leave).
        Atoms that cost nothing still stay put unless moving them helps.
    openings : sequence of (int, ndarray of int)
        ``(label, atoms)``: these atoms may together leave their grids as a
        new grid labelled ``label`` (not a label of ``start``), at the cost
        of their households. Each must hold ``lo`` to ``hi`` households and be
        connected; the building-less regions travelling with an atom go
        along. An opening whose atoms are not connected that way is ignored.
    time_limit : float
        CPU seconds of this process for all solves together (each solve is
        also stopped after :data:`WALL_FACTOR` times the seconds left, by
        the clock).

    Returns
    -------
    MoveSolution

    Raises
    ------
    ValueError
        ``lo > hi``, arrays of different lengths, an opening out of band or
        labelled like a current grid.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    began = time.process_time()
    hh = np.asarray(households, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    cost = hh if cost is None else np.asarray(cost, dtype=np.int64)
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    if lo > hi:
        raise ValueError(f"lo ({lo}) is greater than hi ({hi})")
    if len(start) != len(hh) or len(cost) != len(hh) or len(i) != len(j) or len(w) != len(i):
        raise ValueError("households, start and cost, and i, j and w, must have the same lengths")
    if (cost < 0).any() or (cost > hh).any():
        raise ValueError("cost must lie between 0 and the atom's households")
    if len(hh) == 0:
        return MoveSolution(start.copy(), 0, "optimal", 0)
    # building-less regions travel with a host: solve on the hosts
    host = _hosts(i, j, w, hh, start)
    keep, rep = np.unique(host, return_inverse=True)
    ri, rj = rep[i], rep[j]
    pair = np.unique(np.sort(np.column_stack([ri, rj])[ri != rj], axis=1), axis=0)
    model = _Model(
        pair[:, 0],
        pair[:, 1],
        np.bincount(rep, weights=hh, minlength=len(keep)).astype(np.int64),
        np.bincount(rep, weights=cost, minlength=len(keep)).astype(np.int64),
        start[keep],
        lo,
        hi,
        _openings(openings, hh, start, rep, lo, hi),
    )
    cuts: list[tuple[dict[int, float], float]] = []
    for rounds in range(1, MAX_ROUNDS + 1):
        left = time_limit - (time.process_time() - began)
        if left <= 0:
            return MoveSolution(None, 0, "timeout", rounds - 1)
        a, lb, ub = model.constraints(cuts)
        res = milp(
            model.cost,
            constraints=LinearConstraint(a, lb, ub),
            integrality=np.ones(model.nvar),
            bounds=Bounds(0, 1),
            options={"time_limit": left * WALL_FACTOR},
        )
        if res.status == 2:
            return MoveSolution(None, 0, "infeasible", rounds)
        if res.x is None:
            return MoveSolution(None, 0, "timeout", rounds)
        labels = model.labels(res.x)
        new_cuts = model.contiguity_cuts(labels)
        if not new_cuts:
            labels = labels[rep]
            moved = int(cost[labels != start].sum())
            status = "optimal" if res.status == 0 else "feasible"
            return MoveSolution(labels, moved, status, rounds, model.opened(res.x))
        cuts.extend(new_cuts)
    return MoveSolution(None, 0, "timeout", MAX_ROUNDS)


def _openings(openings, hh, start, rep, lo, hi) -> list[tuple[int, np.ndarray]]:
    """Openings as ``(label, host atoms)``, checked; the disconnected ones dropped later."""
    out = []
    labels = set(np.unique(start).tolist())
    for label, atoms in openings:
        atoms = np.asarray(atoms, dtype=np.int64)
        if int(label) in labels:
            raise ValueError(f"opening label {label} is a current grid's")
        if len(atoms) == 0 or atoms.min() < 0 or atoms.max() >= len(hh):
            raise ValueError(f"opening {label}: atoms missing or out of range")
        total = int(hh[atoms].sum())
        if not lo <= total <= hi:
            raise ValueError(f"opening {label}: {total} households, outside {lo}–{hi}")
        out.append((int(label), np.unique(rep[atoms[hh[atoms] > 0]])))
    return out


def _hosts(i, j, w, hh, start) -> np.ndarray:
    """Per atom, the atom it moves with: building-less regions join a neighbour with households.

    A region joins the atom of its own grid it shares most boundary with
    (through other building-less regions if need be); regions of a grid
    without households stay on their own.
    """
    host = np.arange(len(hh))
    same = start[i] == start[j]
    a, b, length = i[same], j[same], np.asarray(w, dtype=float)[same]
    loaded = hh > 0
    while True:
        # contacts of a region without a host yet with an atom that has one
        fwd = ~loaded[a] & loaded[b]
        bwd = loaded[a] & ~loaded[b]
        src = np.r_[a[fwd], b[bwd]]
        dst = np.r_[b[fwd], a[bwd]]
        if len(src) == 0:
            return host
        order = np.lexsort((-np.r_[length[fwd], length[bwd]], src))
        src, dst = src[order], dst[order]
        first = np.r_[True, src[1:] != src[:-1]]
        host[src[first]] = host[dst[first]]
        loaded[src[first]] = True


def component_labels(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected component of each of ``n`` nodes joined by the contacts ``(i, j)``."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    graph = sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


class _Model:
    """Variables ``x[u, g]`` (atom ``u`` in grid ``g``) and the constraints on them."""

    def __init__(self, i, j, hh, cost, start, lo, hi, openings=()):
        self.i, self.j, self.hh, self.start, self.lo, self.hi = i, j, hh, start, lo, hi
        n = self.n = len(hh)
        self.island = component_labels(n, i, j)
        self.adj: list[list[int]] = [[] for _ in range(n)]
        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            self.adj[a].append(b)
            self.adj[b].append(a)
        st = start.tolist()
        # candidates: its own grid and the grids it touches
        self.pairs = [
            (u, g) for u in range(n) for g in sorted({st[u], *(st[x] for x in self.adj[u])})
        ]
        self.var = {pg: k for k, pg in enumerate(self.pairs)}
        # openings: one 0/1 variable each, after the pairs (connected ones only)
        self.openings = [
            (g, nodes) for g, nodes in openings if len(nodes) and self._connected(nodes)
        ]
        self.nvar = len(self.pairs) + len(self.openings)
        # cost: households moved; atoms that cost nothing (building-less regions, new
        # buildings) a little, so they stay put unless moving them helps (all together < 1)
        eps = 0.5 / n
        self.cost = np.asarray(
            [0.0 if g == st[u] else float(cost[u]) or eps for u, g in self.pairs]
            + [float(cost[nodes].sum()) or eps for _, nodes in self.openings],
            dtype=float,
        )
        self._static = self._static_rows()

    def _static_rows(self):
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lb: list[float] = []
        ub: list[float] = []

        def row(entries, low, high):
            for c, v in entries:
                rows.append(len(lb))
                cols.append(c)
                vals.append(v)
            lb.append(low)
            ub.append(high)

        by_node: list[list[int]] = [[] for _ in range(self.n)]
        by_grid: dict[int, list[int]] = {}
        for k, (u, g) in enumerate(self.pairs):
            by_node[u].append(k)
            by_grid.setdefault(g, []).append(k)
        for k, (_, nodes) in enumerate(self.openings, start=len(self.pairs)):
            for u in nodes.tolist():
                by_node[u].append(k)
        for ks in by_node:  # one grid per atom (or one opening it leaves with)
            row([(k, 1.0) for k in ks], 1.0, 1.0)
        for ks in by_grid.values():  # the band
            row([(k, float(self.hh[self.pairs[k][0]])) for k in ks], self.lo, self.hi)
        # a moved atom touches an atom that ends in its new grid
        for k, (u, g) in enumerate(self.pairs):
            if g != self.start[u]:
                near = [self.var[x, g] for x in self.adj[u] if (x, g) in self.var]
                row([(k, 1.0), *((c, -1.0) for c in near)], -np.inf, 0.0)
        return rows, cols, vals, lb, ub

    def constraints(self, cuts):
        from scipy import sparse

        rows, cols, vals, lb, ub = (list(x) for x in self._static)
        for entries, high in cuts:
            for c, v in entries.items():
                rows.append(len(lb))
                cols.append(c)
                vals.append(v)
            lb.append(-np.inf)
            ub.append(high)
        a = sparse.csr_matrix((vals, (rows, cols)), shape=(len(lb), self.nvar))
        return a, np.asarray(lb), np.asarray(ub)

    def labels(self, x: np.ndarray) -> np.ndarray:
        out = self.start.copy()
        for k in np.flatnonzero(x[: len(self.pairs)] > 0.5).tolist():
            u, g = self.pairs[k]
            out[u] = g
        for k, (g, nodes) in enumerate(self.openings, start=len(self.pairs)):
            if x[k] > 0.5:
                out[nodes] = g
        return out

    def opened(self, x: np.ndarray) -> tuple[int, ...]:
        first = len(self.pairs)
        return tuple(g for k, (g, _) in enumerate(self.openings, start=first) if x[k] > 0.5)

    def _connected(self, nodes: np.ndarray) -> bool:
        inside = set(nodes.tolist())
        seen, stack = {int(nodes[0])}, [int(nodes[0])]
        while stack:
            for b in self.adj[stack.pop()]:
                if b in inside and b not in seen:
                    seen.add(b)
                    stack.append(b)
        return len(seen) == len(inside)

    def contiguity_cuts(self, labels: np.ndarray):
        """Separator cuts for every detached piece of every grid (none: all grids connected)."""
        same = labels[self.i] == labels[self.j]
        comp = component_labels(self.n, self.i[same], self.j[same])
        cuts = []
        new = {g for g, _ in self.openings}  # opened grids are connected as given
        for g in np.unique(labels).tolist():
            if g in new:
                continue
            nodes = np.flatnonzero(labels == g)
            if len(np.unique(comp[nodes])) < 2:
                continue
            for island in np.unique(self.island[nodes]).tolist():
                part = nodes[self.island[nodes] == island]
                pieces = np.unique(comp[part]).tolist()
                if len(pieces) < 2:
                    continue
                members = {c: part[comp[part] == c] for c in pieces}
                main = max(
                    pieces, key=lambda c: (int(self.hh[members[c]].sum()), len(members[c]), -c)
                )
                anchor = self._heaviest(members[main])
                cuts.extend(self._separator(members[c], anchor, g) for c in pieces if c != main)
        return cuts

    def _separator(self, piece: np.ndarray, anchor: int, g: int):
        """``x[u,g] + x[anchor,g] - (sum of x[b,g] over the piece's border) <= 1``."""
        inside = set(piece.tolist())
        border = {b for u in inside for b in self.adj[u]} - inside
        entries = {self.var[self._heaviest(piece), g]: 1.0, self.var[anchor, g]: 1.0}
        for b in border:
            if (b, g) in self.var:
                entries[self.var[b, g]] = entries.get(self.var[b, g], 0.0) - 1.0
        return entries, 1.0

    def _heaviest(self, nodes: np.ndarray) -> int:
        return int(nodes[np.argmax(self.hh[nodes])])
