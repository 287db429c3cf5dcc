"""The exact fewest-moves program on small atom graphs whose answers can be worked out by hand."""

import numpy as np
import pytest

from gridmgmt.core.min_moves import min_moves


def solve(edges, households, start, lo, hi, lengths=None):
    i, j = (np.asarray(x) for x in zip(*edges, strict=True))
    w = np.ones(len(i)) if lengths is None else np.asarray(lengths, dtype=float)
    return min_moves(i, j, w, np.asarray(households), np.asarray(start), lo=lo, hi=hi)


def test_the_cheapest_boundary_atom_moves():
    # grid 0: a0 - a1 - a2 (a2 on the boundary with grid 1: b0)
    sol = solve([(0, 1), (1, 2), (2, 3)], [100, 100, 80, 100], [0, 0, 0, 1], lo=150, hi=250)
    assert sol.status == "optimal"
    assert sol.labels.tolist() == [0, 0, 1, 1]
    assert sol.moved == 80


def test_a_chain_passes_the_surplus_on():
    # a path a0 a1 | b0 b1 | c0: grid 0 is over and can only give a1 to grid 1, which
    # then has to pass b1 on to grid 2
    edges = [(0, 1), (1, 2), (2, 3), (3, 4)]
    sol = solve(edges, [200, 90, 160, 80, 170], [0, 0, 1, 1, 2], lo=150, hi=250)
    assert sol.labels.tolist() == [0, 1, 1, 2, 2]
    assert sol.moved == 90 + 80


def test_a_grid_is_never_left_in_pieces():
    # grid 0 is the path a0 - a1 - a2; b0 touches a1 and a2. Moving a1 (60) would be
    # cheapest but leaves a0 and a2 apart: a2 (200) has to go instead.
    edges = [(0, 1), (1, 2), (1, 3), (2, 3)]
    sol = solve(edges, [100, 60, 200, 100], [0, 0, 0, 1], lo=150, hi=310)
    assert sol.labels.tolist() == [0, 0, 1, 1]
    assert sol.moved == 200
    assert sol.rounds >= 2  # the disconnected answer was found first, then cut off


def test_building_less_regions_go_with_their_atom():
    # z (no households) touches a1 more than a0: it follows a1 into grid 1
    edges = [(0, 1), (1, 2), (0, 3), (1, 3)]
    sol = solve(
        edges, [150, 80, 100, 0], [0, 0, 1, 0], lo=100, hi=200, lengths=[5.0, 5.0, 1.0, 9.0]
    )
    assert sol.labels.tolist() == [0, 1, 1, 1]
    assert sol.moved == 80


def test_islands_stay_as_they_are():
    # atom 2 touches nothing: grid 0 cannot be joined up, and is not asked to be
    sol = solve([(0, 1)], [120, 120, 50], [0, 1, 0], lo=100, hi=200)
    assert sol.status == "optimal"
    assert sol.moved == 0
    assert sol.labels.tolist() == [0, 1, 0]


def test_new_buildings_move_first_as_they_move_no_family():
    # grid 0: a0 with a1 (a new tower: 80 households, none with a grid yet) and a2 (70);
    # both touch b0 of grid 1. Shedding a2 moves 70 households, placing a1 there none.
    edges = [(0, 1), (1, 3), (0, 2), (2, 3)]
    hh = np.array([100, 80, 70, 100])
    start = np.array([0, 0, 0, 1])
    i, j = (np.asarray(x) for x in zip(*edges, strict=True))
    by_households = min_moves(i, j, np.ones(4), hh, start, lo=100, hi=200)
    assert by_households.labels.tolist() == [0, 0, 1, 1] and by_households.moved == 70
    placed = min_moves(
        i, j, np.ones(4), hh, start, lo=100, hi=200, cost=np.array([100, 0, 70, 100])
    )
    assert placed.status == "optimal"
    assert placed.labels.tolist() == [0, 1, 0, 1] and placed.moved == 0


def test_free_atoms_stay_unless_moving_them_helps():
    # nothing is out of band: the new tower (cost 0) stays where it lies
    sol = min_moves(
        np.array([0]),
        np.array([1]),
        np.ones(1),
        np.array([150, 150]),
        np.array([0, 1]),
        lo=100,
        hi=200,
        cost=np.array([0, 150]),
    )
    assert sol.labels.tolist() == [0, 1] and sol.moved == 0


def _graph(edges):
    i, j = (np.asarray(x) for x in zip(*edges, strict=True))
    return i, j, np.ones(len(i))


def test_a_new_block_opens_a_grid_when_moves_cannot_do():
    # grid 0: a0 (300) and a1 (260 new households); grid 1: b0 (400) touching both.
    # Neither atom fits in grid 1; a1 alone as a new grid moves no family.
    i, j, w = _graph([(0, 1), (0, 2), (1, 2)])
    hh, start, cost = np.array([300, 260, 400]), np.array([0, 0, 1]), np.array([300, 0, 400])
    assert min_moves(i, j, w, hh, start, lo=250, hi=500, cost=cost).status == "infeasible"
    sol = min_moves(i, j, w, hh, start, lo=250, hi=500, cost=cost, openings=[(7, np.array([1]))])
    assert sol.status == "optimal" and sol.opened == (7,)
    assert sol.labels.tolist() == [0, 7, 1] and sol.moved == 0


def test_an_opening_dearer_than_moves_stays_shut():
    # grid 0: a0 (300) - a1 (180 new) - a2 (70); a2 touches b0 (420) of grid 1.
    # Moving a2 costs 70; opening {a0, a1} would move a0's 300.
    i, j, w = _graph([(0, 1), (1, 2), (2, 3)])
    hh, start, cost = (
        np.array([300, 180, 70, 420]),
        np.array([0, 0, 0, 1]),
        np.array([300, 0, 70, 420]),
    )
    sol = min_moves(i, j, w, hh, start, lo=250, hi=500, cost=cost, openings=[(9, np.array([0, 1]))])
    assert sol.opened == () and sol.labels.tolist() == [0, 0, 1, 1] and sol.moved == 70


def test_openings_checked():
    i, j, w = _graph([(0, 1), (1, 2)])
    hh, start = np.array([300, 260, 400]), np.array([0, 0, 1])
    with pytest.raises(ValueError, match="current grid"):
        min_moves(i, j, w, hh, start, lo=250, hi=500, openings=[(1, np.array([1]))])
    with pytest.raises(ValueError, match="outside 250"):
        min_moves(i, j, w, hh, start, lo=250, hi=500, openings=[(5, np.array([0, 1]))])
    # atoms 0 and 2 do not touch: that opening is ignored (moves alone cannot do it)
    sol = min_moves(
        i,
        j,
        w,
        np.array([130, 300, 130]),
        np.array([0, 0, 0]),
        lo=250,
        hi=500,
        openings=[(5, np.array([0, 2]))],
    )
    assert sol.status == "infeasible" and sol.opened == ()


def test_no_arrangement_is_reported_infeasible():
    # one atom alone is over the ceiling
    sol = solve([(0, 1)], [600, 100], [0, 1], lo=100, hi=500)
    assert sol.status == "infeasible"
    assert sol.labels is None


def test_bad_input():
    with pytest.raises(ValueError, match="greater"):
        solve([(0, 1)], [1, 1], [0, 1], lo=5, hi=1)
    with pytest.raises(ValueError, match="same lengths"):
        min_moves(
            np.array([0]), np.array([1]), np.ones(1), np.array([1, 1]), np.array([0]), lo=0, hi=5
        )
    with pytest.raises(ValueError, match="cost must lie"):
        min_moves(
            np.array([0]),
            np.array([1]),
            np.ones(1),
            np.array([1, 1]),
            np.array([0, 1]),
            lo=0,
            hi=5,
            cost=np.array([2, 1]),
        )
