"""Why a grid is not compact: its enclosure, the 社区 outline, a thin compound, or the band."""

from __future__ import annotations

import numpy as np
import shapely

from gridmgmt.core.quality import COMPACTNESS_REASONS, compactness_reasons


def test_each_thin_grid_says_what_shapes_it_and_compact_ones_say_nothing():
    outline = shapely.box(0, 0, 1000, 1000)
    strip_on_outline = shapely.box(0, 0, 1000, 20)  # its long edges: one on the outline
    square = shapely.box(300, 300, 500, 500)
    thin_unit = shapely.box(100, 600, 900, 630)
    in_thin_compound = shapely.box(100, 700, 900, 725)
    thin_elsewhere = shapely.box(100, 800, 900, 825)
    compound = shapely.box(90, 695, 910, 730)  # a long 小区, itself not compact
    polygons = np.asarray(
        [strip_on_outline, square, thin_unit, in_thin_compound, thin_elsewhere], dtype=object
    )
    kinds = ["residential", "residential", "unit", "residential", "residential"]
    why = compactness_reasons(polygons, kinds, outline, np.asarray([compound], dtype=object))
    assert why[1] is None
    assert why[2] == "unit_enclosure"
    assert why[3] == "compound_shape"
    assert why[4] == "band"
    # the strip's bottom and both ends lie on the outline: 1,040 of its 2,040 m
    assert why[0] == "community_outline"
    assert set(w for w in why if w) <= set(COMPACTNESS_REASONS)


def test_a_grid_along_the_outline_is_told_by_it():
    outline = shapely.Polygon([(0, 0), (1000, 0), (1000, 30), (0, 30)])  # a strip 社区
    grid = shapely.box(0, 0, 600, 30)  # three of its sides on the outline
    (why,) = compactness_reasons(np.asarray([grid], dtype=object), ["residential"], outline)
    assert why == "community_outline"
