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
