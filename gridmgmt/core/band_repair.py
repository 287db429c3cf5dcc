"""Band repair: bring out-of-band grids into band by re-splitting them with neighbours.

    groups = repair_band(groups, graph, bisector)

Each group is one grid's atoms. A grid outside the band is re-split together
with one to three neighbours (a few atoms by enumerating every assignment,
so exchanges are found; more by balanced bisection); the change is kept
when every grid involved ends in band.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.bisection import Bisector

#: random spanning trees per cut in the repair: many small re-splits, fewer trees each
REPAIR_TREE_TRIES = 3


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


def repair_band(
    groups: list[np.ndarray],
    graph: AtomGraph,
    bis: Bisector,
    rounds: int = 8,
    tree_tries: int = REPAIR_TREE_TRIES,
) -> list[np.ndarray]:
    """Bring out-of-band grids into band by re-splitting them together with neighbours.

    For a grid outside the band, its union with neighbouring grids (see
    :func:`_repair_combos`) is split again into as many grids, or one fewer,
    by the bisector; the change is kept when every grid involved ends in band.

    Parameters
    ----------
    groups : list of ndarray
        Atoms per grid.
    graph : AtomGraph
        The atoms' adjacency (the bisector's).
    bis : Bisector
        Cuts the unions; its band is the band repaired to.
    rounds : int
        Passes over the grids still out of band.
    tree_tries : int
        Random spanning trees per cut of the bisector's splits.

    Returns
    -------
    list of ndarray
        The grids' atoms after the repair (empty grids dropped).
    """
    hh, lo, hi = bis.households, bis.lo, bis.hi
    groups = [g for g in groups if len(g)]

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
                        pieces = bis.exhaustive_split(union, k)
                        if pieces is None:  # too many atoms to enumerate
                            pieces = bis.split(union, k, tree_tries=tree_tries)
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
    return groups
