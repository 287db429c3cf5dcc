"""The partition engine: cut a 社区 into 责任网格 of ``min``–``max`` households.

    result = partition(buildings, boundary=community, roads=roads, compounds=compounds)
    result.grids    # GeoDataFrame: code, kind, households, n_buildings, flag, geometry
    result.labels   # building index -> grid code
    result.report   # QualityReport

How (see :mod:`gridmgmt.core.atoms` for the atoms):

1. **Atoms** are built from street blocks, compounds and buildings; their
   regions tile the 社区. Large non-residential enclosures become
   单位网格 (``kind="unit"``, outside the household band).
2. The other atoms (and regions without buildings, as zero-household
   atoms) form a graph whose edges are shared boundaries. ``zones`` cut
   the edges that cross a zone boundary, so no grid straddles one.
3. Each connected part gets ``k`` grids, the count nearest to an average of
   (min + max) / 2 households that keeps every grid feasible, and is
   split by **recursive balanced bisection**: for a dozen directions, atoms
   are ordered along the direction and the household-feasible prefix nearest
   the target is tried; cuts that leave either side disconnected are
   rejected, and among the rest the shortest cut (the most compact halves)
   wins. A region-growing fallback covers awkward shapes.
4. Grids still outside the band (atoms are coarse) are repaired: each is
   re-split together with one to three neighbours (a few atoms are split
   by enumerating every assignment, so exchanges are found); what is left
   goes to the rebalancer (:mod:`gridmgmt.core.rebalance`), whose chains
   of boundary moves reach grids two steps away. Compounds stay whole, so
   a grid may stay out of band, flagged ``out_of_band``.
5. Grid polygons are the unions of their atoms' regions, so they tile the
   社区 exactly; codes run west→east, north→south (:mod:`gridmgmt.core.codes`).

Deterministic: ties are broken by ``seed`` only through a fixed rotation of
the directions tried.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree

from gridmgmt.core import codes as gc
from gridmgmt.core.atoms import Atoms, adjacency, build_atoms, road_classes
from gridmgmt.core.crs import metric_crs
from gridmgmt.core.layers import WGS84
from gridmgmt.core.quality import QualityReport, polsby_popper, road_aligned_share
from gridmgmt.core.tessellation import grid_polygon, polygonal_part

N_DIRECTIONS = 12
CANDIDATES_PER_DIRECTION = 4
#: how much a cut's distance from the balanced target weighs against its length
BALANCE_WEIGHT = 2.0
#: band repair enumerates every k-way assignment of at most this many atoms (k = 2, 3)
EXACT_ATOMS = {2: 14, 3: 9}


@dataclass
class PartitionResult:
    """Grids (EPSG:4326), building labels and the quality report of one run."""

    grids: gpd.GeoDataFrame
    labels: pd.Series
    report: QualityReport
    atoms: Atoms
    metric_crs: str


# ----------------------------------------------------------------- validate
def _as_polygon(boundary, crs, target_crs):
    if boundary is None:
        return None
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise ValueError("boundary has no CRS")
        geoms = boundary.to_crs(target_crs).geometry.values
    else:
        geoms = gpd.GeoSeries([boundary], crs=crs).to_crs(target_crs).values
    geom = shapely.make_valid(shapely.union_all(np.asarray(geoms, dtype=object)))
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    geom = shapely.union_all(polys) if polys else shapely.Polygon()
    if geom.is_empty or geom.area <= 0:
        raise ValueError("boundary is empty")
    return geom


def _metric_layer(frame, crs, name):
    if frame is None or len(frame) == 0:
        return None
    if frame.crs is None:
        raise ValueError(f"{name} have no CRS")
    return frame.to_crs(crs)


def _validate(buildings, boundary, min_households, max_households, code_prefix):
    if min_households > max_households:
        raise ValueError(
            f"min households ({min_households}) is greater than max ({max_households})"
        )
    if min_households < 0 or max_households <= 0:
        raise ValueError("household bounds must be positive")
    if code_prefix is not None:
        gc.validate_prefix(code_prefix)
    if buildings is None or len(buildings) == 0:
        raise ValueError("no buildings to partition")
    if "households" not in buildings.columns:
        raise ValueError("buildings: missing column households")
    if buildings.crs is None:
        raise ValueError("buildings have no CRS")
    hh = pd.to_numeric(buildings["households"], errors="coerce")
    if hh.isna().any() or (hh < 0).any():
        bad = buildings.index[hh.isna() | (hh < 0)][:10].tolist()
        raise ValueError(f"buildings: households missing or negative for {bad}")
    if hh.sum() <= 0:
        raise ValueError(
            "no households anywhere: estimate or import households before partitioning"
        )
    return hh.to_numpy(dtype=np.int64)


def _ids(buildings) -> np.ndarray:
    return (
        (
            buildings["building_id"]
            if "building_id" in buildings.columns
            else buildings.index.to_series()
        )
        .astype(str)
        .to_numpy()
    )


# ------------------------------------------------------------------ compute
def _count_components(n: int, a: np.ndarray, b: np.ndarray) -> int:
    """Connected components of nodes ``0..n-1`` with edges ``(a, b)``.

    Minimum-label propagation with pointer jumping, all in numpy: for the
    small graphs of one bisection step several times faster than building a
    sparse matrix for scipy's ``connected_components``.
    """
    label = np.arange(n)
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            return int(np.count_nonzero(label == np.arange(n)))
        label = new


class _Graph:
    """Atom adjacency with weights (shared boundary length), for subset queries."""

    def __init__(self, n, i, j, w):
        self.n = n
        self.i, self.j, self.w = i, j, w
        data = np.r_[w, w].astype(float) + 1e-12  # explicit entries even for zero-length contacts
        self.csr = sparse.csr_matrix((data, (np.r_[i, j], np.r_[j, i])), shape=(n, n))

    def _incident(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, weight) of every edge entry leaving ``nodes``, in time O(their degree)."""
        indptr = self.csr.indptr
        starts, ends = indptr[nodes], indptr[nodes + 1]
        counts = ends - starts
        total = int(counts.sum())
        offsets = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts)
        pos = np.arange(total) + offsets
        return np.repeat(nodes, counts), self.csr.indices[pos], self.csr.data[pos]

    def inner_edges(self, nodes: np.ndarray, in_set: np.ndarray):
        """Edges with both ends in ``nodes`` (``in_set`` is their mask), each once, with weights."""
        r, c, w = self._incident(nodes)
        keep = in_set[c] & (r < c)
        return r[keep], c[keep], w[keep]

    def components(self, nodes: np.ndarray) -> list[np.ndarray]:
        if len(nodes) == 0:
            return []
        sub = self.csr[nodes][:, nodes]
        count, label = connected_components(sub, directed=False)
        return [nodes[label == c] for c in range(count)]

    def connected(self, nodes: np.ndarray) -> bool:
        """Whether ``nodes`` induce a connected subgraph (vectorised breadth-first search)."""
        if len(nodes) <= 1:
            return True
        inside = np.zeros(self.n, bool)
        inside[nodes] = True
        seen = np.zeros(self.n, bool)
        frontier = np.asarray([nodes[0]])
        seen[frontier] = True
        reached = 1
        indptr, indices = self.csr.indptr, self.csr.indices
        while len(frontier):
            starts, ends = indptr[frontier], indptr[frontier + 1]
            counts = ends - starts
            if counts.sum() == 0:
                break
            offsets = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts)
            nbrs = indices[np.arange(counts.sum()) + offsets]
            nbrs = nbrs[inside[nbrs] & ~seen[nbrs]]
            frontier = np.unique(nbrs)
            seen[frontier] = True
            reached += len(frontier)
        return reached == len(nodes)

    def neighbours(self, node: int) -> np.ndarray:
        row = self.csr.indptr
        return self.csr.indices[row[node] : row[node + 1]]


class _Bisector:
    def __init__(self, graph, hh, xy, lo, hi, seed):
        self.g, self.hh, self.xy, self.lo, self.hi, self.seed = graph, hh, xy, lo, hi, seed
        self.tree_tries = 12
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

    def split(self, nodes: np.ndarray, k: int) -> list[np.ndarray]:
        if k <= 1 or len(nodes) <= 1:
            return [nodes]
        k1, k2 = k // 2, k - k // 2
        total = self.hh[nodes].sum()
        lo = max(k1 * self.lo, total - k2 * self.hi)
        hi = min(k1 * self.hi, total - k2 * self.lo)
        if lo > hi:  # infeasible: aim at proportional shares
            lo = hi = total * k1 / k
        target = total * k1 / k
        best = self._cut(nodes, lo, hi, target, total / k)
        if best is None:  # the planned halves cannot be cut: another split of the count may
            for j in sorted(range(1, k), key=lambda j: (abs(j - k1), j)):
                lo_j = max(j * self.lo, total - (k - j) * self.hi)
                hi_j = min(j * self.hi, total - (k - j) * self.lo)
                if j != k1 and lo_j <= hi_j:
                    best = self._cut(nodes, lo_j, hi_j, total * j / k, total / k)
                    if best is not None:
                        break
        if best is None:  # no cut keeps the band: the connected cut nearest the target
            best = self._tree_cut(nodes, 1, total - 1, target, tries=self.tree_tries)
        if best is None:
            return [nodes]
        left, right = best
        k1 = self._allot(self.hh[left].sum(), self.hh[right].sum(), k, k1)
        return self.split(left, k1) + self.split(right, k - k1)

    def _cut(self, nodes, lo, hi, target, per_grid):
        """A connected two-way cut with the first part's households in ``[lo, hi]``, or None."""
        return (
            self._directional(nodes, lo, hi, target, per_grid)
            or self._tree_cut(nodes, lo, hi, target, tries=self.tree_tries)
            or self._grow(nodes, lo, hi, target, strict=False)
        )

    def exact(self, nodes: np.ndarray, k: int) -> list[np.ndarray] | None:
        """The k-way split of a few atoms with every part in band, connected, least cut.

        Every assignment of the atoms holding households to ``k`` parts is
        enumerated (``k`` of 2 or 3 and at most :data:`EXACT_ATOMS` atoms);
        atoms without households join the part they share most boundary
        with. Finds the exchanges that ordered and tree cuts miss when atoms
        are coarse (whole compounds). Returns None when there are too many
        atoms to enumerate, ``[]`` when no split qualifies.
        """
        pos = nodes[self.hh[nodes] > 0]
        zero = nodes[self.hh[nodes] == 0]
        n = len(pos)
        if k not in EXACT_ATOMS or n > EXACT_ATOMS[k] or n < k:
            return None
        digits = (np.arange(k**n)[:, None] // (k ** np.arange(n))[None, :]) % k
        digits = digits[digits[:, 0] == 0]  # parts are unordered: the first atom is in part 0
        ok = np.ones(len(digits), bool)
        hh = self.hh[pos].astype(np.int64)
        for part in range(k):
            tot = (digits == part) @ hh
            ok &= (tot >= self.lo) & (tot <= self.hi)
        if not ok.any():
            return []
        digits = digits[ok]
        in_set = np.zeros(self.g.n, bool)
        in_set[pos] = True
        ei, ej, ew = self.g.inner_edges(pos, in_set)
        index = np.full(self.g.n, -1)
        index[pos] = np.arange(n)
        cut = (digits[:, index[ei]] != digits[:, index[ej]]) @ ew
        for row in np.argsort(cut, kind="stable")[:50]:
            side = np.full(self.g.n, -1)
            side[pos] = digits[row]
            self._attach_zero(zero, side)
            parts = [nodes[side[nodes] == part] for part in range(k)]
            if all(len(q) and self.g.connected(q) for q in parts):
                return parts
        return []

    def _attach_zero(self, zero: np.ndarray, side: np.ndarray) -> None:
        """Give each household-less atom the side of its strongest assigned neighbour."""
        pending = list(zero.tolist())
        while pending:
            still = []
            for z in pending:
                r, c, w = self.g._incident(np.asarray([z]))
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
        in_set = np.zeros(self.g.n, bool)
        in_set[nodes] = True
        ei, ej, ew = self.g.inner_edges(nodes, in_set)
        unit = max(per_grid, 1.0)
        m = len(nodes)
        # every direction at once: one row per direction
        cos, sin = np.cos(self.angles), np.sin(self.angles)
        proj = self.xy[nodes, 0][None, :] * cos[:, None] + self.xy[nodes, 1][None, :] * sin[:, None]
        local = np.argsort(proj, axis=1, kind="stable")  # positions in ``nodes``, per direction
        cum = np.cumsum(self.hh[nodes][local], axis=1)[:, :-1]
        feasible = (cum >= lo) & (cum <= hi)
        if not feasible.any():
            return None
        rank = np.empty_like(local)
        np.put_along_axis(rank, local, np.arange(m)[None, :], axis=1)
        index = np.full(self.g.n, -1)
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
            if _count_components(m, li[keep], lj[keep]) == 2:
                order = nodes[local[a]]
                return order[: c + 1], order[c + 1 :]
        return None

    def _tree_cut(self, nodes, lo, hi, target, tries: int = 12):
        """Cut a random spanning tree at an edge whose subtree is within ``[lo, hi]``.

        Both sides of a tree cut are connected by construction (the approach
        of GerryChain's recursive_tree_part), so this succeeds where ordered
        cuts cannot, at the price of less compact halves.
        """
        sub = self.g.csr[nodes][:, nodes].tocoo()
        if sub.nnz == 0:
            return None
        rng = np.random.default_rng(self.seed * 7919 + len(nodes))
        weights = self.hh[nodes].astype(float)
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
                total += self.hh[a]
                if strict and total > hi:
                    break
                if total >= lo:
                    left = np.asarray(taken)
                    right = np.asarray(sorted(node_set - set(taken)))
                    if len(right) and self.g.connected(right):
                        gap = abs(total - target)
                        if gap < best_gap:
                            best, best_gap = (left, right), gap
                        break
                    if total > hi:
                        break
                for b in self.g.neighbours(a):
                    b = int(b)
                    if b in node_set and b not in seen:
                        seen.add(b)
                        heapq.heappush(heap, (proj[b], b))
        return best


def _repair_combos(g, near, label, groups, graph, in_band):
    """Neighbour sets to re-split with an out-of-band grid ``g``, smallest first.

    One to three of its nearest neighbours (by shared edges); then a
    neighbour together with another out-of-band grid beyond it, so two
    grids that are each short on either side of a full one can share it.
    """
    for size, first in ((1, 6), (2, 5), (3, 4)):
        yield size, (list(c) for c in itertools.combinations(near[:first], size))
    pairs = []
    for h in near[:4]:
        beyond = np.unique(label[graph.csr[groups[h]].indices])
        pairs += [[h, int(b)] for b in beyond if b not in (g, h, -1) and not in_band(groups[b])]
    yield 2, iter(pairs[:6])


def _repair_band(
    groups: list[np.ndarray], graph: _Graph, bis: _Bisector, rounds: int = 8
) -> list[np.ndarray]:
    """Bring out-of-band grids into band by re-splitting them together with neighbours.

    For a grid outside the band, its union with neighbouring grids (see
    :func:`_repair_combos`) is split again into as many grids, or one fewer,
    by the bisector; the change is kept when every grid involved ends in band.
    """
    hh, lo, hi = bis.hh, bis.lo, bis.hi
    groups = [g for g in groups if len(g)]
    tries, bis.tree_tries = bis.tree_tries, 3  # many small re-splits: fewer random trees each

    def in_band(nodes):
        return lo <= hh[nodes].sum() <= hi

    failed: set[bytes] = set()
    for _ in range(rounds):
        label = np.full(graph.n, -1)
        for g, nodes in enumerate(groups):
            label[nodes] = g
        bad = [g for g, nodes in enumerate(groups) if not in_band(nodes)]
        if not bad:
            break
        changed = False
        for g in bad:
            nodes = groups[g]
            if len(nodes) == 0 or in_band(nodes):
                continue
            nbr = graph.csr[nodes].indices
            shared = pd.Series(label[nbr]).value_counts()
            near = [int(h) for h in shared.index if h not in (g, -1)]
            done = False
            for size, combos in _repair_combos(g, near, label, groups, graph, in_band):
                for combo in combos:
                    union = np.concatenate([nodes, *(groups[h] for h in combo)])
                    key = np.sort(union).tobytes()
                    if key in failed:  # tried in an earlier round, unchanged since
                        continue
                    failed.add(key)
                    total = hh[union].sum()
                    for k in (size + 1, size, size + 2):  # as many grids, one fewer, one more
                        if not (k * lo <= total <= k * hi):
                            continue
                        pieces = bis.exact(union, k)
                        if pieces is None:  # too many atoms to enumerate
                            pieces = bis.split(union, k)
                        if len(pieces) == k and all(
                            in_band(p) and graph.connected(p) for p in pieces
                        ):
                            slots = [g, *combo]
                            while len(slots) < len(pieces):  # one grid more
                                groups.append(np.zeros(0, dtype=int))
                                slots.append(len(groups) - 1)
                            for slot, piece in zip(slots, pieces, strict=False):
                                groups[slot] = piece
                                label[piece] = slot
                            for slot in slots[len(pieces) :]:
                                groups[slot] = np.zeros(0, dtype=int)
                            done = changed = True
                            break
                    if done:
                        break
                if done:
                    break
        groups = [grp for grp in groups if len(grp)]
        if not changed:
            break
    bis.tree_tries = tries
    return groups


# ------------------------------------------------------------------ public
def partition(
    buildings: gpd.GeoDataFrame,
    *,
    boundary=None,
    roads: gpd.GeoDataFrame | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    min_households: int = 250,
    max_households: int = 500,
    unit_min_area_m2: float = 50_000,
    code_prefix: str | None = "000000000000",
    seed: int = 0,
    repair: bool = True,
) -> PartitionResult:
    """Partition one 社区 into 责任网格.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints with ``households`` (and optionally ``building_id``,
        ``compound_id``), any CRS.
    boundary : Polygon, GeoSeries or GeoDataFrame, optional
        The 社区. Default: the buildings' convex hull buffered by 30 m.
        A bare shapely geometry is taken to be in the buildings' CRS.
    roads : GeoDataFrame, optional
        Centre lines with ``road_class``; arterial to residential classes
        bound street blocks, service roads and paths split large compounds.
    compounds : GeoDataFrame, optional
        Enclosures with ``compound_id``, ``compound_kind``, ``landuse``.
    zones : GeoDataFrame, optional
        Polygons (school catchments, property or police areas) whose
        boundaries grids must not cross.
    min_households, max_households : int
        The band for residential grids (inclusive).
    unit_min_area_m2 : float
        Smallest non-residential enclosure that becomes a 单位网格.
    code_prefix : str or None
        12-digit 社区 code; grid codes append a 3-digit sequence. ``None``
        numbers grids with bare 6-digit sequences (for areas larger than a
        社区, e.g. benchmarks; such codes cannot be stored).
    seed : int
        Makes tie-breaking reproducible.
    repair : bool
        Hand grids still out of band to the rebalancer's boundary moves
        (default). ``False`` returns the bisection's grids as they are.

    Returns
    -------
    PartitionResult

    Raises
    ------
    ValueError
        Bad bounds, no households anywhere, an empty boundary, buildings
        outside the boundary (listed), missing columns.
    """
    started = time.perf_counter()
    hh_all = _validate(buildings, boundary, min_households, max_households, code_prefix)
    crs = metric_crs(buildings)
    b = buildings.to_crs(crs)
    ids = _ids(buildings)
    geom = np.asarray(b.geometry.values, dtype=object)
    area = _as_polygon(boundary, buildings.crs, crs)
    if area is None:
        area = shapely.buffer(shapely.convex_hull(shapely.union_all(geom)), 30.0)
    rep = shapely.point_on_surface(geom)
    outside = ~shapely.covers(area, rep)
    if outside.any():
        listed = ", ".join(ids[outside][:10]) + (
            f" and {outside.sum() - 10} more" if outside.sum() > 10 else ""
        )
        raise ValueError(f"{outside.sum()} building(s) lie outside the boundary: {listed}")

    r = _metric_layer(roads, crs, "roads")
    c = _metric_layer(compounds, crs, "compounds")
    if c is not None:
        for col, default in (("compound_kind", "residential"), ("landuse", "residential")):
            if col not in c.columns:
                c[col] = default
        if "compound_id" not in c.columns:
            c["compound_id"] = [f"compound:{i}" for i in range(len(c))]
        c = c[c.intersects(area)]
    building_compound = _building_compounds(b, rep, c)

    atoms = build_atoms(
        area,
        geom,
        hh_all,
        building_compound,
        roads_geom=None if r is None else r.geometry.values,
        road_class=road_classes(r),
        compounds=c,
        min_households=min_households,
        max_households=max_households,
        unit_min_area_m2=unit_min_area_m2,
        cut_lines=None
        if zones is None or len(zones) == 0
        else shapely.boundary(zones.to_crs(crs).geometry.values),
    )
    groups, kinds, flags = _group(atoms, area, zones, crs, min_households, max_households, seed)
    grids_metric = _assemble_polygons(atoms, groups)
    needs_repair = repair and "out_of_band" in flags
    result = _assemble(
        buildings,
        ids,
        atoms,
        groups,
        kinds,
        flags,
        grids_metric,
        crs,
        (r, c, area),
        code_prefix,
        min_households,
        max_households,
        started,
        with_report=not needs_repair,  # else reported once, after the repair
    )
    if needs_repair:
        result = _rebalanced(
            result,
            buildings,
            ids,
            (r, c, zones, area),
            (min_households, max_households),
            code_prefix,
            seed,
            started,
        )
    return result


def _rebalanced(result: PartitionResult, buildings, ids, layers, band, prefix, seed, started):
    """The partition with its out-of-band grids rebalanced, renumbered in reading order.

    ``layers`` are the metric (roads, compounds, zones, 社区 polygon), ``band`` is (min, max).
    Kept only when fewer grids end out of band.
    """
    from gridmgmt.core.rebalance import rebalance  # it builds on this module

    roads, compounds, zones, area = layers
    lo, hi = band
    frame = gpd.GeoDataFrame(
        {"id": ids, "households": buildings["households"].to_numpy(), "grid_code": result.labels},
        geometry=buildings.geometry.values,
        crs=buildings.crs,
    )
    for col in ("compound_id",):
        if col in buildings.columns:
            frame[col] = buildings[col].to_numpy()
    fixed = rebalance(
        result.grids,
        frame,
        roads=roads,
        compounds=compounds,
        zones=zones,
        min_households=lo,
        max_households=hi,
        seed=seed,
        local_repartition=False,
        split_compounds=False,  # the partition keeps compounds that fit whole
    )
    if len(fixed.report.out_of_band_after) >= len(fixed.report.out_of_band_before):
        grids = result.grids.to_crs(result.metric_crs)
        result.report = _quality(grids, (roads, compounds, area), lo, hi, result.atoms, started)
        return result
    grids = fixed.grids.to_crs(result.metric_crs)
    c = shapely.centroid(grids.geometry.values)
    codes = gc.assign_codes(
        prefix, shapely.get_x(c), shapely.get_y(c), shapely.area(grids.geometry.values)
    )
    renumber = dict(zip(grids["code"], codes, strict=True))
    grids["code"] = codes
    grids = grids.sort_values("code", kind="stable").reset_index(drop=True)
    labels = pd.Series(
        fixed.labels.reindex(ids).map(renumber).to_numpy(),
        index=buildings.index,
        name="grid_code",
    )
    report = _quality(grids, (roads, compounds, area), lo, hi, result.atoms, started)
    return PartitionResult(
        grids=_to_wgs84(grids),
        labels=labels,
        report=report,
        atoms=result.atoms,
        metric_crs=result.metric_crs,
    )


def _building_compounds(b, rep, compounds) -> np.ndarray:
    given = (
        b["compound_id"].to_numpy(dtype=object)
        if "compound_id" in b.columns
        else np.full(len(b), None, dtype=object)
    )
    given = np.asarray([v if isinstance(v, str) and v else None for v in given], dtype=object)
    if compounds is None or len(compounds) == 0:
        return np.full(len(b), None, dtype=object)
    known = set(compounds["compound_id"])
    given = np.asarray([v if v in known else None for v in given], dtype=object)
    missing = np.flatnonzero(np.asarray([v is None for v in given]))
    if len(missing):
        tree = shapely.STRtree(compounds.geometry.values)
        bi, ci = tree.query(rep[missing], predicate="within")
        area = shapely.area(compounds.geometry.values)
        order = np.lexsort((area[ci], bi))  # smallest enclosing compound first
        seen = set()
        cids = compounds["compound_id"].to_numpy(dtype=object)
        for k in order:
            if bi[k] not in seen:
                seen.add(bi[k])
                given[missing[bi[k]]] = cids[ci[k]]
    return given


def _group(atoms: Atoms, area, zones, crs, lo, hi, seed):
    """Atom index groups, one per grid, with kind and flag."""
    empty = atoms.empty_regions
    regions = np.concatenate([atoms.region, empty]) if len(empty) else atoms.region
    total_n = len(regions)
    hh = np.concatenate([atoms.households, np.zeros(len(empty), dtype=np.int64)])
    kind = np.concatenate([atoms.kind, np.full(len(empty), "residential", dtype=object)])
    flag = np.concatenate([atoms.flag, np.full(len(empty), "", dtype=object)])
    c = shapely.centroid(regions)
    # to the millimetre: regular layouts have exact ties, which float noise must not decide
    xy = np.round(np.column_stack([shapely.get_x(c), shapely.get_y(c)]), 3)
    i, j, w = adjacency(regions, grid_size=None)  # atoms' regions are a clean coverage
    full_graph = _Graph(total_n, i, j, w)

    if hh.sum() < lo:  # the whole 社区 is one grid
        return [np.arange(total_n)], ["residential"], ["community_below_min"]

    groups, kinds, flags = [], [], []
    for unit in pd.unique(atoms.unit_id[atoms.kind == "unit"]):
        groups.append(np.flatnonzero(atoms.unit_id == unit))
        kinds.append("unit")
        flags.append("")
    indivisible = np.flatnonzero(flag == "indivisible_building")
    for a in indivisible:
        groups.append(np.asarray([a]))
        kinds.append("residential")
        flags.append("indivisible_building")

    residential = (kind == "residential") & (flag != "indivisible_building")
    keep_edge = residential[i] & residential[j]
    if zones is not None and len(zones):
        z = zones.to_crs(crs)
        tree = shapely.STRtree(z.geometry.values)
        pi, zi = tree.query(shapely.point_on_surface(regions), predicate="within")
        zone_of = np.full(total_n, -1)
        zone_of[pi] = zi
        keep_edge &= zone_of[i] == zone_of[j]
    graph = _Graph(total_n, i[keep_edge], j[keep_edge], w[keep_edge])
    bis = _Bisector(graph, hh, xy, lo, hi, seed)
    voids = []
    for part in graph.components(np.flatnonzero(residential)):
        total = hh[part].sum()
        if total == 0:
            voids.append(part)
            continue
        k, _ = bis.count(total)
        pieces = bis.split(part, k)
        pieces = _repair_band(pieces, graph, bis) if len(pieces) > 1 else pieces
        for p in pieces:
            if len(p) == 0:
                continue
            groups.append(p)
            kinds.append("residential")
            flags.append(
                "" if lo <= hh[p].sum() <= hi else "part_below_min" if total < lo else "out_of_band"
            )
    _attach_voids(voids, groups, full_graph)
    return groups, kinds, flags


def _attach_voids(voids, groups, graph: _Graph) -> None:
    """Give regions without households to the neighbouring grid with the longest shared boundary."""
    label = np.full(graph.n, -1)
    for g, nodes in enumerate(groups):
        label[nodes] = g
    pending = [int(v) for part in voids for v in part]
    for _ in range(len(pending) + 1):
        if not pending:
            break
        still = []
        for v in pending:
            e = (graph.i == v) | (graph.j == v)
            other = np.where(graph.i[e] == v, graph.j[e], graph.i[e])
            lengths = graph.w[e]
            ok = label[other] >= 0
            if ok.any():
                by_grid = pd.Series(lengths[ok]).groupby(label[other][ok]).sum()
                label[v] = int(by_grid.idxmax())
            else:
                still.append(v)
        if len(still) == len(pending):
            break
        pending = still
    for g in range(len(groups)):
        groups[g] = np.flatnonzero(label == g)


def _assemble_polygons(atoms: Atoms, groups) -> list:
    regions = (
        np.concatenate([atoms.region, atoms.empty_regions])
        if len(atoms.empty_regions)
        else atoms.region
    )
    return [grid_polygon(regions[nodes]) for nodes in groups]


def _assemble(
    buildings,
    ids,
    atoms,
    groups,
    kinds,
    flags,
    polys,
    crs,
    layers,
    prefix,
    lo,
    hi,
    started,
    *,
    with_report: bool = True,
):
    """The result of a run; ``layers`` are the metric (roads, compounds, 社区 polygon).

    ``with_report=False`` leaves the report None, for a caller that reports later.
    """
    n_atoms = len(atoms)
    hh_atoms = np.concatenate(
        [atoms.households, np.zeros(len(atoms.empty_regions), dtype=np.int64)]
    )
    nb_atoms = np.concatenate(
        [atoms.n_buildings, np.zeros(len(atoms.empty_regions), dtype=np.int64)]
    )
    households = [int(hh_atoms[g].sum()) for g in groups]
    n_buildings = [int(nb_atoms[g].sum()) for g in groups]
    poly_arr = np.asarray(polys, dtype=object)
    c = shapely.centroid(poly_arr)
    codes = gc.assign_codes(prefix, shapely.get_x(c), shapely.get_y(c), shapely.area(poly_arr))
    multipart = [p.geom_type != "Polygon" for p in polys]
    flags = [f or ("multipart" if m else "") for f, m in zip(flags, multipart, strict=True)]
    grids = gpd.GeoDataFrame(
        {
            "code": codes,
            "kind": kinds,
            "households": households,
            "n_buildings": n_buildings,
            "flag": [f or None for f in flags],
        },
        geometry=list(polys),
        crs=crs,
    )
    order = np.argsort(codes)
    grids = grids.iloc[order].reset_index(drop=True)

    atom_grid = np.full(n_atoms + len(atoms.empty_regions), "", dtype=object)
    for code, nodes in zip(codes, groups, strict=True):
        atom_grid[nodes] = code
    labels = pd.Series(atom_grid[atoms.building_atom], index=buildings.index, name="grid_code")

    report = _quality(grids, layers, lo, hi, atoms, started) if with_report else None
    return PartitionResult(
        grids=_to_wgs84(grids), labels=labels, report=report, atoms=atoms, metric_crs=crs
    )


def _quality(grids, layers, lo, hi, atoms: Atoms, started: float) -> QualityReport:
    """The quality report of grids in a metric CRS; ``layers`` as for :func:`_assemble`."""
    roads, compounds, area = layers
    res = grids[grids["kind"] == "residential"]
    hh = res["households"].to_numpy()
    edges = []
    if roads is not None:
        edges.extend(roads.geometry.values)
    if compounds is not None:
        edges.extend(shapely.boundary(compounds.geometry.values))
    return QualityReport(
        grids=len(grids),
        residential_grids=len(res),
        unit_grids=int((grids["kind"] == "unit").sum()),
        households_min=int(hh.min()) if len(hh) else 0,
        households_median=float(np.median(hh)) if len(hh) else 0.0,
        households_max=int(hh.max()) if len(hh) else 0,
        share_in_band=float(((hh >= lo) & (hh <= hi)).mean()) if len(hh) else 1.0,
        mean_polsby_popper=float(polsby_popper(grids.geometry.values).mean()),
        road_aligned_share=road_aligned_share(grids.geometry.values, edges, outline=area),
        compounds_split=atoms.compounds_split,
        atoms=len(atoms),
        runtime_s=time.perf_counter() - started,
        flags=grids["flag"].dropna().value_counts().to_dict(),
    )


def _to_wgs84(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = grids.to_crs(WGS84)
    invalid = ~out.is_valid
    if invalid.any():  # reprojection can make a ring touch itself
        out.loc[invalid, "geometry"] = [
            polygonal_part(shapely.make_valid(g)) for g in out.geometry[invalid]
        ]
    return out
