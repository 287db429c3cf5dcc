"""Household-free regions move between grids only where that shortens boundaries and splits none."""

from __future__ import annotations

import numpy as np

from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.boundary_smoothing import (
    cut_length,
    enclosed_count,
    regrow_household_free,
    smooth_boundaries,
)


def strip_graph():
    """Regions 0..5 in a row; 2 and 3 hold no households; 3 borders 4 more than 2."""
    i = np.asarray([0, 1, 2, 3, 4])
    j = np.asarray([1, 2, 3, 4, 5])
    w = np.asarray([10.0, 10.0, 5.0, 30.0, 10.0])
    return AtomGraph(6, i, j, w)


def test_a_free_region_moves_to_the_grid_it_borders_most():
    graph = strip_graph()
    hh = np.asarray([100, 100, 0, 0, 100, 100])
    groups = [np.asarray([0, 1, 2, 3]), np.asarray([4, 5])]
    smoothed = smooth_boundaries(groups, ["residential", "residential"], hh, graph)
    assert [g.tolist() for g in smoothed] == [[0, 1, 2], [3, 4, 5]]
    assert cut_length(smoothed, graph) < cut_length(groups, graph)
    assert [hh[g].sum() for g in smoothed] == [hh[g].sum() for g in groups]


def test_no_move_splits_a_grid_or_touches_a_unit():
    graph = strip_graph()
    hh = np.asarray([100, 0, 0, 0, 100, 100])
    # region 1 joins 0 to the rest of its grid: it may not leave
    groups = [np.asarray([0, 1, 2, 3]), np.asarray([4, 5])]
    graph_bridge = AtomGraph(6, graph.i, graph.j, np.asarray([10.0, 1.0, 50.0, 1.0, 10.0]))
    smoothed = smooth_boundaries(groups, ["residential", "residential"], hh, graph_bridge)
    assert all(AtomGraph.connected(graph_bridge, g) for g in smoothed)
    assert [hh[g].sum() for g in smoothed] == [100, 200]
    # a unit grid neither gives nor takes
    same = smooth_boundaries(groups, ["residential", "unit"], hh, graph)
    assert [g.tolist() for g in same] == [g.tolist() for g in groups]


def test_regrowing_hands_free_regions_to_the_nearest_households():
    graph = strip_graph()
    hh = np.asarray([100, 100, 0, 0, 0, 100])
    xy = np.column_stack([[0.0, 100.0, 200.0, 300.0, 400.0, 600.0], np.zeros(6)])
    groups = [np.asarray([0, 1, 2, 3, 4]), np.asarray([5])]  # 4 is nearer to 5's households
    regrown = regrow_household_free(groups, ["residential", "residential"], hh, graph, xy)
    assert [g.tolist() for g in regrown] == [[0, 1, 2, 3], [4, 5]]


def test_an_island_inside_one_other_grid_is_counted():
    # 0 is surrounded by 1 and does not touch the outline
    graph = AtomGraph(3, np.asarray([0, 1]), np.asarray([1, 2]), np.ones(2))
    on_outline = np.asarray([False, True, True])
    groups = [np.asarray([0]), np.asarray([1, 2])]
    assert enclosed_count(groups, graph, on_outline) == 1
    assert enclosed_count(groups, graph, np.ones(3, dtype=bool)) == 0
