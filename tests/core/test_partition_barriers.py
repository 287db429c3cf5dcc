"""Hard barriers (trunk and primary roads, railways, rivers) as grid boundaries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from gridmgmt.core.partition import partition

TO_WGS84 = Transformer.from_crs(32650, 4326, always_xy=True)
X0, Y0 = 500_000.0, 3_420_000.0


def wgs84(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(TO_WGS84.transform(*xy.T)))


def layout(right_households: list[int], road_class: str = "primary"):
    """Rows of 30 m buildings west of a north-south road at x=200 m, and some east of it."""
    geoms, hh = [], []
    for r in range(3):
        for c in range(3):  # west: 9 x 45 = 405 households
            geoms.append(shapely.box(X0 + c * 50, Y0 + r * 50, X0 + c * 50 + 30, Y0 + r * 50 + 30))
            hh.append(45)
    for k, h in enumerate(right_households):
        x = X0 + 230 + (k % 3) * 50
        y = Y0 + (k // 3) * 50
        geoms.append(shapely.box(x, y, x + 30, y + 30))
        hh.append(h)
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{i}" for i in range(len(hh))], "households": hh},
        geometry=[wgs84(g) for g in geoms],
        crs=4326,
    )
    road = shapely.LineString([(X0 + 200, Y0 - 100), (X0 + 200, Y0 + 250)])
    roads = gpd.GeoDataFrame({"road_class": [road_class]}, geometry=[wgs84(road)], crs=4326)
    boundary = wgs84(shapely.box(X0 - 20, Y0 - 20, X0 + 400, Y0 + 170))
    return buildings, roads, gpd.GeoSeries([boundary], crs=4326)


def test_grids_end_at_a_primary_road():
    buildings, roads, boundary = layout([45] * 9)
    result = partition(buildings, boundary=boundary, roads=roads, barriers=True)
    west = result.labels.iloc[:9]
    east = result.labels.iloc[9:]
    assert west.nunique() == 1 and east.nunique() == 1 and west.iloc[0] != east.iloc[0]
    assert (result.grids["crossed_m"] == 0).all()
    assert result.grids["flag"].isna().all()


def test_a_part_too_small_for_a_grid_crosses_and_is_flagged():
    buildings, roads, boundary = layout([60])  # 60 households east of the road: no grid of its own
    result = partition(buildings, boundary=boundary, roads=roads, barriers=True)
    assert len(result.grids) == 1
    grid = result.grids.iloc[0]
    assert grid["flag"] == "crosses_major_road"
    assert grid["crossed_m"] > 100


def test_a_road_ending_on_the_outline_splits_the_block():
    """A road clipped to the 社区 ends on its outline only up to rounding: it still cuts blocks."""
    from gridmgmt.core.tessellation import street_blocks

    boundary = shapely.Polygon([(0, 0), (1000.3, 13.7), (1010.1, 997.9), (-7.3, 1003.1)])
    for k in range(20):
        x = 100 + k * 41.3
        road = shapely.intersection(shapely.LineString([(x, -50), (x + 3.1, 1100)]), boundary)
        blocks = street_blocks(boundary, [road])
        assert len(blocks) == 2
        assert abs(shapely.area(blocks).sum() - boundary.area) < 1e-6 * boundary.area


def dual_carriageway(east_households: list[int], median_m: float = 20.0):
    """The layout of :func:`layout` with the road as two carriageways ``median_m`` apart."""
    buildings, roads, boundary = layout(east_households)
    lines = [
        shapely.LineString([(X0 + x, Y0 - 100), (X0 + x, Y0 + 250)])
        for x in (200 - median_m / 2, 200 + median_m / 2)
    ]
    roads = gpd.GeoDataFrame(
        {"road_class": ["primary", "primary"]}, geometry=[wgs84(g) for g in lines], crs=4326
    )
    return buildings, roads, boundary


def test_a_median_in_a_grid_is_not_a_crossing():
    """The strip between two carriageways goes to a grid on one side: that grid is not flagged."""
    buildings, roads, boundary = dual_carriageway([45] * 9)
    result = partition(buildings, boundary=boundary, roads=roads)
    west, east = result.labels.iloc[:9], result.labels.iloc[9:]
    assert west.nunique() == 1 and east.nunique() == 1 and west.iloc[0] != east.iloc[0]
    assert len(result.grids) == 2
    assert result.grids["flag"].isna().all()
    assert (result.grids["crossed_m"] == 0).all()


def test_a_part_too_small_across_a_dual_carriageway_is_flagged():
    buildings, roads, boundary = dual_carriageway([60])
    result = partition(buildings, boundary=boundary, roads=roads)
    assert len(result.grids) == 1
    assert result.grids.iloc[0]["flag"] == "crosses_major_road"
    assert result.grids.iloc[0]["crossed_m"] > 100
    assert result.grids.iloc[0]["crossed_why"] == "joins_part_below_min"


def test_pull_back_returns_atoms_to_their_side():
    """Atoms 0-1-2 | 3-4-5 in a row, a barrier between 2 and 3 and a path around its end (2-6-3).

    Grid A holds 0, 1, 2 and 3 (across the barrier); grid B holds 4 and 5: atom
    3 goes back to B when both stay in band, and stays when B would leave it.
    """
    from gridmgmt.core.atom_graph import AtomGraph
    from gridmgmt.core.barrier_moves import pull_back

    i = np.asarray([0, 1, 2, 3, 4, 2, 6])
    j = np.asarray([1, 2, 3, 4, 5, 6, 3])
    w = np.full(len(i), 10.0)
    across = np.where((i == 2) & (j == 3), 10.0, 0.0)
    graph = AtomGraph(7, i, j, w)
    groups = [np.asarray([0, 1, 2, 3, 6]), np.asarray([4, 5])]
    hh = np.asarray([100, 100, 100, 50, 100, 100, 0])
    moved = pull_back(groups, ["residential"] * 2, hh, graph, across, across == 0, (250, 500))
    assert moved[0].tolist() == [0, 1, 2, 6] and moved[1].tolist() == [3, 4, 5]
    hh_full = np.asarray([100, 100, 100, 50, 200, 290, 0])  # B would hold 540
    kept = pull_back(groups, ["residential"] * 2, hh_full, graph, across, across == 0, (250, 500))
    assert kept[0].tolist() == [0, 1, 2, 3, 6]


def blocks_split_by(secondary: str):
    """A 400 x 200 m 社区 of eight 100 m blocks (4 x 2), 100 households each.

    ``secondary`` says which street is a secondary road: the east-west one at
    y=100 m (400 m long) or the north-south one at x=200 m (200 m long); the
    other streets are residential.
    """
    geoms, hh = [], []
    for bx in range(4):
        for by in range(2):
            for dx in (20, 60):
                for dy in (20, 60):
                    x, y = X0 + bx * 100 + dx, Y0 + by * 100 + dy
                    geoms.append(shapely.box(x, y, x + 20, y + 20))
                    hh.append(25)
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{i}" for i in range(len(hh))], "households": hh},
        geometry=[wgs84(g) for g in geoms],
        crs=4326,
    )
    lines, classes = [], []
    for x in (100, 200, 300):
        lines.append(shapely.LineString([(X0 + x, Y0 - 10), (X0 + x, Y0 + 210)]))
        classes.append("secondary" if secondary == "x=200" and x == 200 else "residential")
    lines.append(shapely.LineString([(X0 - 10, Y0 + 100), (X0 + 410, Y0 + 100)]))
    classes.append("secondary" if secondary == "y=100" else "residential")
    roads = gpd.GeoDataFrame({"road_class": classes}, geometry=[wgs84(g) for g in lines], crs=4326)
    boundary = gpd.GeoSeries([wgs84(shapely.box(X0, Y0, X0 + 400, Y0 + 200))], crs=4326)
    return buildings, roads, boundary


def test_grids_rather_end_at_a_secondary_road_than_at_a_shorter_residential_street():
    for secondary, along in (("x=200", "x"), ("y=100", "y")):
        buildings, roads, boundary = blocks_split_by(secondary)
        result = partition(buildings, boundary=boundary, roads=roads, seed=0)
        grids = result.grids.to_crs(32650)
        assert grids["households"].tolist() == [400, 400]
        a, b = grids.geometry.values
        shared = a.intersection(b)
        x0, y0, x1, y1 = shared.bounds
        if along == "x":  # the 200 m north-south street at x=200
            assert abs(x0 - (X0 + 200)) < 1 and abs(x1 - (X0 + 200)) < 1
        else:  # the 400 m secondary road, though the cut is twice as long
            assert abs(y0 - (Y0 + 100)) < 1 and abs(y1 - (Y0 + 100)) < 1
