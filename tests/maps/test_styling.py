"""Grid colours, labels and label places shared by the HTML map and the picture."""

from __future__ import annotations

import math

import shapely

from gridmgmt.maps.styling import (
    ABOVE_BAND,
    BELOW_BAND,
    IN_BAND,
    NO_COUNT,
    UNIT_GRID,
    grid_colour,
    grid_label,
    label_anchors,
)


def test_grid_colour_by_kind_and_band():
    assert grid_colour(249, "residential", 250, 500) == BELOW_BAND
    assert grid_colour(250, "residential", 250, 500) == IN_BAND[0]
    assert grid_colour(500, "residential", 250, 500) == IN_BAND[1]
    assert grid_colour(501, "residential", 250, 500) == ABOVE_BAND
    middle = grid_colour(375, "residential", 250, 500)
    assert middle not in IN_BAND and middle.startswith("#") and len(middle) == 7
    assert grid_colour(900, "unit", 250, 500) == UNIT_GRID
    assert grid_colour(None, "residential", 250, 500) == NO_COUNT
    assert grid_colour(math.nan, None, 250, 500) == NO_COUNT


def test_grid_label_is_the_last_three_characters():
    assert grid_label("340705001001017") == "017"
    assert grid_label(7) == "7"
    assert grid_label(None) == ""


def test_label_anchor_is_inside_an_l_shaped_grid():
    ell = shapely.Polygon([(0, 0), (100, 0), (100, 20), (20, 20), (20, 100), (0, 100)])
    (point,), (radius,) = label_anchors([ell], 0.1)
    assert ell.contains(point)
    assert 9 < radius < 15  # the arms are 20 wide, a little more where they meet
    assert not ell.contains(ell.centroid)  # where a centroid label would have gone
