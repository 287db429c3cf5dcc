"""Recursive balanced bisection of atoms into grids within a household band.

    bisector = Bisector(graph, households, xy, lo, hi, seed)
    k, feasible = bisector.count(total)     # grids for a connected part
    parts = bisector.split(nodes, k)        # k connected parts, as balanced as the atoms allow

For a dozen directions, atoms are ordered along the direction and the
household-feasible prefix nearest the target is tried; cuts that leave
either side disconnected are rejected, and among the rest the shortest cut
(the most compact halves) wins. Random spanning-tree cuts (as GerryChain's
``recursive_tree_part``) and region growing cover awkward shapes. A few
atoms can instead be split by enumerating every assignment
(:meth:`Bisector.exhaustive_split`).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from gridmgmt.core.atom_graph import AtomGraph, count_components

N_DIRECTIONS = 12
CANDIDATES_PER_DIRECTION = 4
#: how much a cut's distance from the balanced target weighs against its length
BALANCE_WEIGHT = 2.0
#: band repair enumerates every k-way assignment of at most this many atoms (k = 2, 3)
EXHAUSTIVE_ATOMS = {2: 14, 3: 9}
#: random spanning trees drawn per tree cut, unless a call asks for another number
TREE_TRIES = 12


class Bisector:
    """Cuts connected sets of atoms into grids of ``lo``–``hi`` households.

    Parameters
    ----------
    graph : AtomGraph
        The atoms' adjacency.
    households : ndarray
        Households per atom.
    xy : ndarray
        Atom centroids (metric), one row per atom.
    lo, hi : int
        The household band (inclusive).
    seed : int
        Rotates the directions tried and seeds the random spanning trees.
    tree_tries : int
        Random spanning trees per tree cut, for calls that do not say.
    """

    def __init__(
        self,
        graph: AtomGraph,
        households: np.ndarray,
        xy: np.ndarray,
        lo: int,
        hi: int,
        seed: int,
        tree_tries: int = TREE_TRIES,
    ):
        self.graph, self.households, self.xy, self.lo, self.hi, self.seed = (
            graph,
            households,
            xy,
            lo,
            hi,
            seed,
        )
        self.tree_tries = tree_tries
        offset = (seed % N_DIRECTIONS) * (2 * math.pi / N_DIRECTIONS) / 7.0
        self.angles = [offset + 2 * math.pi * a / N_DIRECTIONS for a in range(N_DIRECTIONS)]

    def count(self, households: int) -> tuple[int, bool]:
        """Grids for a connected part: nearest to the mid-band mean, feasible if possible."""
        if households < self.lo:
            return 1, False
        kmin, kmax = math.ceil(households / self.hi), math.floor(households / self.lo)
        k = round(households / ((self.lo + self.hi) / 2))
        if kmin <= kmax:
            return min(max(k, kmin), kmax), True
        return kmin, False

    def split(
        self, nodes: np.ndarray, k: int, *, tree_tries: int | None = None
    ) -> list[np.ndarray]:
        """``nodes`` cut into ``k`` connected parts by recursive bisection.

        Parameters
        ----------
        nodes : ndarray
            Atoms of one connected part.
        k : int
            Parts wanted.
        tree_tries : int, optional
            Random spanning trees per tree cut (default: the bisector's).

        Returns
        -------
        list of ndarray
            The parts; fewer than ``k`` when no connected cut was found.
        """
        if k <= 1 or len(nodes) <= 1:
            return [nodes]
        tries = self.tree_tries if tree_tries is None else tree_tries
        k1, k2 = k // 2, k - k // 2
        total = self.households[nodes].sum()
        lo = max(k1 * self.lo, total - k2 * self.hi)
        hi = min(k1 * self.hi, total - k2 * self.lo)
        if lo > hi:  # infeasible: aim at proportional shares
            lo = hi = total * k1 / k
        target = total * k1 / k
        best = self._cut(nodes, lo, hi, target, total / k, tries)
        if best is None:  # the planned halves cannot be cut: another split of the count may
            for j in sorted(range(1, k), key=lambda j: (abs(j - k1), j)):
                lo_j = max(j * self.lo, total - (k - j) * self.hi)
                hi_j = min(j * self.hi, total - (k - j) * self.lo)
                if j != k1 and lo_j <= hi_j:
                    best = self._cut(nodes, lo_j, hi_j, total * j / k, total / k, tries)
                    if best is not None:
                        break
        if best is None:  # no cut keeps the band: the connected cut nearest the target
            best = self._tree_cut(nodes, 1, total - 1, target, tries=tries)
        if best is None:
            return [nodes]
        left, right = best
        k1 = self._allot(self.households[left].sum(), self.households[right].sum(), k, k1)
        return self.split(left, k1, tree_tries=tries) + self.split(right, k - k1, tree_tries=tries)

    def _cut(self, nodes, lo, hi, target, per_grid, tries):
        """A connected two-way cut with the first part's households in ``[lo, hi]``, or None."""
        return (
            self._directional(nodes, lo, hi, target, per_grid)
            or self._tree_cut(nodes, lo, hi, target, tries=tries)
            or self._grow(nodes, lo, hi, target, strict=False)
        )

    def exhaustive_split(self, nodes: np.ndarray, k: int) -> list[np.ndarray] | None:
        """The k-way split of a few atoms with every part in band, connected, least cut.

        Every assignment of the atoms holding households to ``k`` parts is
        enumerated (``k`` of 2 or 3 and at most :data:`EXHAUSTIVE_ATOMS` atoms);
        atoms without households join the part they share most boundary
        with. Finds the exchanges that ordered and tree cuts miss when atoms
        are coarse (whole compounds). Returns None when there are too many
        atoms to enumerate, ``[]`` when no split qualifies.
        """
        pos = nodes[self.households[nodes] > 0]
        zero = nodes[self.households[nodes] == 0]
        n = len(pos)
        if k not in EXHAUSTIVE_ATOMS or n > EXHAUSTIVE_ATOMS[k] or n < k:
            return None
        digits = (np.arange(k**n)[:, None] // (k ** np.arange(n))[None, :]) % k
        digits = digits[digits[:, 0] == 0]  # parts are unordered: the first atom is in part 0
        ok = np.ones(len(digits), bool)
        hh = self.households[pos].astype(np.int64)
        for part in range(k):
            tot = (digits == part) @ hh
            ok &= (tot >= self.lo) & (tot <= self.hi)
        if not ok.any():
            return []
        digits = digits[ok]
        in_set = np.zeros(self.graph.n, bool)
        in_set[pos] = True
        ei, ej, ew = self.graph.inner_edges(pos, in_set)
        index = np.full(self.graph.n, -1)
        index[pos] = np.arange(n)
        cut = (digits[:, index[ei]] != digits[:, index[ej]]) @ ew
        for row in np.argsort(cut, kind="stable")[:50]:
            side = np.full(self.graph.n, -1)
            side[pos] = digits[row]
            self._attach_zero(zero, side)
            parts = [nodes[side[nodes] == part] for part in range(k)]
            if all(len(q) and self.graph.connected(q) for q in parts):
                return parts
        return []

    def _attach_zero(self, zero: np.ndarray, side: np.ndarray) -> None:
        """Give each household-less atom the side of its strongest assigned neighbour."""
        pending = list(zero.tolist())
        while pending:
            still = []
            for z in pending:
                r, c, w = self.graph.incident(np.asarray([z]))
                known = side[c] >= 0
                if known.any():
                    side[z] = side[c[known]][np.argmax(w[known])]
                else:
                    still.append(z)
            if len(still) == len(pending):
                side[still] = 0
                break
            pending = still

    def _allot(self, left: float, right: float, k: int, preferred: int) -> int:
        """Grids for the left part: the count that leaves both parts least out of band.

        An exact cut keeps the planned count; after an imperfect one (atoms
        too coarse), the count follows the households actually on each side
        instead of forcing, say, two grids onto 460 households.
        """

        j = np.arange(1, k)
        out = (
            np.maximum(0.0, j * self.lo - left)
            + np.maximum(0.0, left - j * self.hi)
            + np.maximum(0.0, (k - j) * self.lo - right)
            + np.maximum(0.0, right - (k - j) * self.hi)
        )
        return int(j[np.lexsort((j, np.abs(j - preferred), out))[0]])

    def _directional(self, nodes, lo, hi, target, per_grid):
        """Best connected prefix cut over all directions: scored first, checked in score order.

        For one ordering, an edge crosses the cut after position ``c`` when its
        end ranks straddle ``c``, so the cut lengths of all prefixes come from
        one cumulative sum over the edges.
        """
        in_set = np.zeros(self.graph.n, bool)
        in_set[nodes] = True
        ei, ej, ew = self.graph.inner_edges(nodes, in_set)
        unit = max(per_grid, 1.0)
        m = len(nodes)
        # every direction at once: one row per direction
        cos, sin = np.cos(self.angles), np.sin(self.angles)
        proj = self.xy[nodes, 0][None, :] * cos[:, None] + self.xy[nodes, 1][None, :] * sin[:, None]
        local = np.argsort(proj, axis=1, kind="stable")  # positions in ``nodes``, per direction
        cum = np.cumsum(self.households[nodes][local], axis=1)[:, :-1]
        feasible = (cum >= lo) & (cum <= hi)
        if not feasible.any():
            return None
        rank = np.empty_like(local)
        np.put_along_axis(rank, local, np.arange(m)[None, :], axis=1)
        index = np.full(self.graph.n, -1)
        index[nodes] = np.arange(m)
        r1, r2 = rank[:, index[ei]], rank[:, index[ej]]
        rows = len(self.angles)
        shift = (np.arange(rows) * (m + 1))[:, None]
        weights = np.tile(ew, rows)
        size = rows * (m + 1)
        diff = np.bincount((np.minimum(r1, r2) + shift).ravel(), weights, minlength=size)
        diff -= np.bincount((np.maximum(r1, r2) + shift).ravel(), weights, minlength=size)
        cut = np.cumsum(diff.reshape(rows, m + 1), axis=1)
        # per direction, the CANDIDATES_PER_DIRECTION feasible prefixes nearest the target,
        # one per household total (cum is non-decreasing: equal totals form runs, keep the first)
        gap = np.abs(cum - target)
        first_of_run = np.ones_like(feasible)
        first_of_run[:, 1:] = cum[:, 1:] != cum[:, :-1]
        gap_or_inf = np.where(feasible & first_of_run, gap, np.inf)
        nearest = np.argsort(gap_or_inf, axis=1, kind="stable")[:, :CANDIDATES_PER_DIRECTION]
        rows_c = np.repeat(np.arange(rows), nearest.shape[1])
        cols_c = nearest.ravel()
        ok = np.isfinite(gap_or_inf[rows_c, cols_c])
        rows_c, cols_c = rows_c[ok], cols_c[ok]
        score = cut[rows_c, cols_c] * (1.0 + BALANCE_WEIGHT * gap[rows_c, cols_c] / unit)
        scored = np.lexsort((np.arange(len(score)), score))  # by score, then direction order
        li, lj = index[ei], index[ej]
        for a, c in zip(rows_c[scored].tolist(), cols_c[scored].tolist(), strict=True):
            # both halves connected <=> the edges not crossing the cut leave two components
            keep = (rank[a, li] <= c) == (rank[a, lj] <= c)
            if count_components(m, li[keep], lj[keep]) == 2:
                order = nodes[local[a]]
                return order[: c + 1], order[c + 1 :]
        return None

    def _tree_cut(self, nodes, lo, hi, target, tries: int):
        """Cut a random spanning tree at an edge whose subtree is within ``[lo, hi]``.

        Both sides of a tree cut are connected by construction (the approach
        of GerryChain's recursive_tree_part), so this succeeds where ordered
        cuts cannot, at the price of less compact halves.
        """
        sub = self.graph.csr[nodes][:, nodes].tocoo()
        if sub.nnz == 0:
            return None
        rng = np.random.default_rng(self.seed * 7919 + len(nodes))
        weights = self.households[nodes].astype(float)
        # the sparse structure once; each try only draws new weights (in the entries' order)
        w = sparse.csr_matrix((np.arange(1.0, sub.nnz + 1), (sub.row, sub.col)), shape=sub.shape)
        entry = w.data.astype(np.intp) - 1
        best, best_gap = None, math.inf
        for _ in range(tries):
            w.data = (rng.random(sub.nnz) + 0.1)[entry]
            tree = minimum_spanning_tree(w)
            order, pred = breadth_first_order(tree, 0, directed=False, return_predecessors=True)
            if len(order) < len(nodes):
                return None  # not connected
            sums = weights.copy()
            for v in order[:0:-1]:
                sums[pred[v]] += sums[v]
            cand = np.flatnonzero((sums >= lo) & (sums <= hi))
            cand = cand[cand != order[0]]
            if len(cand) == 0:
                continue
            v = int(cand[np.argmin(np.abs(sums[cand] - target))])
            gap = abs(sums[v] - target)
            if gap < best_gap:
                inside = np.zeros(len(nodes), bool)
                inside[v] = True
                for u in order[1:]:
                    if inside[pred[u]]:
                        inside[u] = True
                best, best_gap = (nodes[inside], nodes[~inside]), gap
                if gap <= 0.05 * (hi - lo + 1):
                    break
        return best

    def _grow(self, nodes, lo, hi, target, *, strict: bool):
        """Grow a connected region from an extreme atom in each direction until it reaches the target.

        ``strict`` accepts only regions within ``[lo, hi]``; otherwise the first
        connected region past ``lo`` is taken even if it overshoots (last resort).
        """
        node_set = set(nodes.tolist())
        best, best_gap = None, math.inf
        for theta in self.angles[::3]:
            proj = dict(
                zip(
                    nodes.tolist(),
                    (
                        self.xy[nodes, 0] * math.cos(theta) + self.xy[nodes, 1] * math.sin(theta)
                    ).tolist(),
                    strict=True,
                )
            )
            start = min(proj, key=proj.get)
            taken, total, heap, seen = [], 0, [(proj[start], start)], {start}
            while heap:
                _, a = heapq.heappop(heap)
                taken.append(a)
                total += self.households[a]
                if strict and total > hi:
                    break
                if total >= lo:
                    left = np.asarray(taken)
                    right = np.asarray(sorted(node_set - set(taken)))
                    if len(right) and self.graph.connected(right):
                        gap = abs(total - target)
                        if gap < best_gap:
                            best, best_gap = (left, right), gap
                        break
                    if total > hi:
                        break
                for b in self.graph.neighbours(a):
                    b = int(b)
                    if b in node_set and b not in seen:
                        seen.add(b)
                        heapq.heappush(heap, (proj[b], b))
        return best
