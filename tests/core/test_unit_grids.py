"""The reach of 单位网格: the default area, empty land next to a unit, enclosures cut apart."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.core.atom_graph import AtomGraph
from gridmgmt.core.unit_grids import claim_empty_regions, default_area, unit_groups


def enclosures(*polygons, kinds=None):
    kinds = kinds or ["unit"] * len(polygons)
    landuse = ["university" if k == "unit" else "residential" for k in kinds]
    return gpd.GeoDataFrame(
        {"compound_kind": kinds, "landuse": landuse},
        geometry=list(polygons),
        crs=32650,
    )


def test_default_area_takes_a_reached_enclosure_whole():
    footprints = np.asarray([shapely.box(0, 0, 20, 20), shapely.box(100, 100, 120, 120)])
    campus = shapely.box(50, 50, 600, 600)  # holds the second building, reaches far beyond
    far = shapely.box(2000, 2000, 2400, 2400)  # a campus none of the data reaches
    area = default_area(footprints, enclosures(campus, far), 50_000)
    assert area.contains(campus)
    assert not area.intersects(far)


def test_default_area_takes_an_enclosure_across_a_street_with_the_strip_between():
    footprints = np.asarray([shapely.box(0, 0, 20, 20), shapely.box(100, 100, 120, 120)])
    # no building in it, 40 m beyond the hull's 30 m margin: a military compound over the road
    across = shapely.box(190, -100, 600, 300)
    area = default_area(footprints, enclosures(across), 50_000)
    assert area.geom_type == "Polygon"
    assert area.contains(across)
    assert area.contains(shapely.Point(170, 60))  # the street between is in the area too
    hull = default_area(footprints, None, 50_000)
    # nothing farther from the enclosure than the street is wide (plus the margin) is added
    assert area.difference(hull).difference(across.buffer(40 + 30)).area < 1e-6
    beyond = shapely.box(270, -100, 700, 300)  # 120 m beyond the margin: not the data's
    assert not default_area(footprints, enclosures(beyond), 50_000).intersects(beyond)


def test_default_area_leaves_small_and_residential_enclosures_alone():
    footprints = np.asarray([shapely.box(0, 0, 20, 20), shapely.box(100, 100, 120, 120)])
    small = shapely.box(50, 50, 250, 250)  # 4 ha: under the 5 ha criterion
    homes = shapely.box(50, 50, 600, 600)
    hull = default_area(footprints, None, 50_000)
    assert default_area(footprints, enclosures(small), 50_000).equals(hull)
    assert default_area(footprints, enclosures(homes, kinds=["residential"]), 50_000).equals(hull)


def test_empty_region_bordering_a_unit_most_is_claimed():
    # regions 0 (unit "U"), 1 (residential), 2 and 3 (empty, after the two atoms)
    graph = AtomGraph(
        4, np.asarray([0, 1, 1]), np.asarray([2, 2, 3]), np.asarray([300.0, 20.0, 50.0])
    )
    kind, unit_id = claim_empty_regions(
        np.asarray(["unit", "residential", "residential", "residential"], dtype=object),
        np.asarray(["U", None, None, None], dtype=object),
        2,
        graph,
    )
    assert kind.tolist() == ["unit", "residential", "unit", "residential"]
    assert unit_id.tolist() == ["U", None, "U", None]


def test_an_enclosure_cut_apart_gives_one_grid_per_large_part():
    # atoms 0-1 and 3 of enclosure "U" are not adjacent (2 is residential between them)
    graph = AtomGraph(5, np.asarray([0, 1, 2, 3]), np.asarray([1, 2, 3, 4]), np.ones(4))
    kind = np.asarray(["unit", "unit", "residential", "unit", "unit"], dtype=object)
    unit_id = np.asarray(["U", "U", None, "U", "U"], dtype=object)
    areas = np.asarray([40_000.0, 30_000.0, 5_000.0, 60_000.0, 2_000.0])
    groups, kinds, flags, leftovers = unit_groups(unit_id, kind, graph, areas, 50_000)
    assert [g.tolist() for g in groups] == [[0, 1], [3, 4]]
    assert flags == ["", "unit_in_parts"]
    assert leftovers == []
    areas[3:] = [1_000.0, 1_000.0]  # a small cut-off part joins a neighbour instead
    groups, _, flags, leftovers = unit_groups(unit_id, kind, graph, areas, 50_000)
    assert [g.tolist() for g in groups] == [[0, 1]] and flags == [""]
    assert [p.tolist() for p in leftovers] == [[3, 4]]
