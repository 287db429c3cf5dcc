"""Ring grids are cut open by handing a household-free chain to a grid inside them."""

import numpy as np

from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.rings import articulation_points, enclosed_by, group_contacts, open_rings


def lattice(n: int) -> AtomGraph:
    """Unit squares ``n`` x ``n`` (index ``r * n + c``), 4-adjacent, sharing 1 m each."""
    i, j = [], []
    for r in range(n):
        for c in range(n):
            if c + 1 < n:
                i.append(r * n + c), j.append(r * n + c + 1)
            if r + 1 < n:
                i.append(r * n + c), j.append((r + 1) * n + c)
    return AtomGraph(n * n, np.asarray(i), np.asarray(j), np.ones(len(i)))


def outline_of(n: int) -> np.ndarray:
    r, c = np.divmod(np.arange(n * n), n)
    return (r == 0) | (c == 0) | (r == n - 1) | (c == n - 1)


def labels_of(groups, n):
    label = np.full(n, -1)
    for g, nodes in enumerate(groups):
        label[nodes] = g
    return label


def ring_around_centre(households):
    """3 x 3: the centre (4) is grid 1, the eight around it grid 0."""
    graph = lattice(3)
    groups = [np.asarray([0, 1, 2, 3, 5, 6, 7, 8]), np.asarray([4])]
    return graph, groups, np.asarray(households), outline_of(3), np.ones(9)


def test_a_ring_gives_the_grid_inside_a_way_out_without_moving_households():
    # households in the ring's corners and the centre only: the edges are free land
    hh = [100, 0, 100, 0, 300, 0, 100, 0, 100]
    graph, groups, hh, outline, areas = ring_around_centre(hh)
    contacts, outer = group_contacts(labels_of(groups, 9), graph, outline)
    assert outer == 2
    assert [e.tolist() for e in enclosed_by(0, contacts, outer)] == [[1]]
    assert enclosed_by(1, contacts, outer) == []

    opened = open_rings(groups, ["residential", "residential"], hh, graph, outline, areas)

    assert enclosed_by(0, *group_contacts(labels_of(opened, 9), graph, outline)) == []
    assert [hh[g].sum() for g in opened] == [400, 300]
    assert len(opened[1]) == 2  # the centre and one free edge square to the outline
    assert all(graph.connected(g) for g in opened)


def test_the_thinnest_chain_is_taken():
    graph, groups, hh, outline, _ = ring_around_centre([100, 0, 100, 0, 300, 0, 100, 0, 100])
    areas = np.asarray([1, 5, 1, 5, 1, 2, 1, 5, 1], dtype=float)  # square 5 is the narrowest

    opened = open_rings(groups, ["residential", "residential"], hh, graph, outline, areas)

    assert sorted(opened[1].tolist()) == [4, 5]


def test_a_ring_without_free_land_next_to_the_grid_inside_stays():
    # every square touching the centre holds households: opening would move some
    graph, groups, hh, outline, areas = ring_around_centre([0, 50, 0, 50, 300, 50, 0, 50, 0])

    opened = open_rings(groups, ["residential", "residential"], hh, graph, outline, areas)

    assert opened is groups


def test_unit_grids_keep_their_ground():
    graph, groups, hh, outline, areas = ring_around_centre([0, 0, 0, 0, 300, 0, 0, 0, 0])

    assert open_rings(groups, ["unit", "residential"], hh, graph, outline, areas) is groups


def test_a_ring_inside_other_grids_opens_towards_them():
    # 5 x 5: the outer ring is grid 0, the ring around the centre grid 1, the centre grid 2
    graph = lattice(5)
    r, c = np.divmod(np.arange(25), 5)
    rim = np.flatnonzero((r == 0) | (c == 0) | (r == 4) | (c == 4))
    inner = np.flatnonzero(~np.isin(np.arange(25), rim) & (np.arange(25) != 12))
    groups = [rim, inner, np.asarray([12])]
    hh = np.zeros(25, dtype=int)
    hh[rim] = 30
    hh[[6, 8, 16, 18]] = 100  # the inner ring's corners
    hh[12] = 300
    outline = outline_of(5)

    opened = open_rings(groups, ["residential"] * 3, hh, graph, outline, np.ones(25))

    contacts, outer = group_contacts(labels_of(groups, 25), graph, outline)
    assert [e.tolist() for e in enclosed_by(1, contacts, outer)] == [[2]]
    assert [e.tolist() for e in enclosed_by(0, contacts, outer)] == [[1, 2]]
    assert enclosed_by(1, *group_contacts(labels_of(opened, 25), graph, outline)) == []
    assert [hh[g].sum() for g in opened] == [hh[rim].sum(), 400, 300]
    assert np.array_equal(opened[0], rim)  # the chain ends at grid 0, which keeps its land
    assert len(opened[2]) == 2


def pieces(n: int, edges: np.ndarray, without: int | None = None) -> int:
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    keep = np.ones(len(edges), bool) if without is None else (edges != without).all(axis=1)
    e = edges[keep]
    m = sparse.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, comp = connected_components(m, directed=False)
    present = np.unique(edges) if without is None else np.setdiff1d(np.unique(edges), [without])
    return len(np.unique(comp[present]))


def test_articulation_points_are_the_groups_whose_removal_cuts_the_graph():
    rng = np.random.default_rng(7)
    for trial in range(60):
        n = int(rng.integers(3, 14))
        k = int(rng.integers(n - 1, 2 * n))
        edges = np.sort(rng.integers(0, n, size=(k, 2)), axis=1)
        edges = np.unique(edges[edges[:, 0] != edges[:, 1]], axis=0)
        if len(edges) == 0:
            continue
        expected = {v for v in np.unique(edges).tolist() if pieces(n, edges, v) > pieces(n, edges)}
        assert articulation_points(edges) == expected, (trial, edges.tolist())
