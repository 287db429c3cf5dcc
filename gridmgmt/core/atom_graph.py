"""The atom graph: atoms (or any regions) joined by their shared boundaries, for subset queries.

    graph = AtomGraph(n, i, j, w)       # edges (i[k], j[k]) of length w[k]
    graph.connected(nodes)              # do ``nodes`` induce a connected subgraph?
    graph.components(nodes)             # their connected parts
    graph.inner_edges(nodes, in_set)    # edges with both ends among them

Used by the partition's bisection (:mod:`gridmgmt.core.bisection`), its band
repair (:mod:`gridmgmt.core.band_repair`) and the rebalancer.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def count_components(n: int, a: np.ndarray, b: np.ndarray) -> int:
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


class AtomGraph:
    """Atom adjacency with weights (shared boundary length), for subset queries.

    Parameters
    ----------
    n : int
        Number of nodes (atoms), ``0..n-1``.
    i, j, w : ndarray
        The edges: ends ``(i[k], j[k])`` sharing a boundary of length ``w[k]``;
        kept as given (``graph.i``, ``graph.j``, ``graph.w``).
    """

    def __init__(self, n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray):
        self.n = n
        self.i, self.j, self.w = i, j, w
        data = np.r_[w, w].astype(float) + 1e-12  # explicit entries even for zero-length contacts
        self.csr = sparse.csr_matrix((data, (np.r_[i, j], np.r_[j, i])), shape=(n, n))

    def incident(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        r, c, w = self.incident(nodes)
        keep = in_set[c] & (r < c)
        return r[keep], c[keep], w[keep]

    def components(self, nodes: np.ndarray) -> list[np.ndarray]:
        """The connected parts of the subgraph ``nodes`` induce."""
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
        """Nodes sharing an edge with ``node``."""
        row = self.csr.indptr
        return self.csr.indices[row[node] : row[node + 1]]
