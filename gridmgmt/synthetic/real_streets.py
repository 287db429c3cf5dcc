"""Generated flats in the street blocks of a real road network (our buildings, real streets).

A road-only extract (an OSMnx export of a dense district) has the street
pattern nobody here drew: dual carriageways, elevated roads, slip roads,
odd blocks. Filling its blocks with rows of flats makes a dense residential
district to test and time the partition on.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.core.crs import metric_crs
from gridmgmt.core.tessellation import BLOCK_ROAD_CLASSES


def flats_in_street_blocks(
    roads: gpd.GeoDataFrame,
    *,
    seed: int = 0,
    spacing: tuple[float, float] = (20.0, 16.0),
    size: tuple[float, float] = (14.0, 10.0),
    households: tuple[int, int] = (5, 30),
    fill: float = 0.8,
    setback_m: float = 12.0,
    min_block_m2: float = 3000.0,
) -> gpd.GeoDataFrame:
    """Rows of flats in the street blocks of ``roads``, seeded.

    Parameters
    ----------
    roads : GeoDataFrame
        Centre lines with ``road_class`` (any CRS); the classes that bound
        street blocks make the blocks.
    seed : int
        Which flats are left out and how many households each gets.
    spacing, size : (float, float)
        Distance between flats and their footprint, east-west and north-south (m).
    households : (int, int)
        Households per flat, drawn uniformly from ``[low, high)``.
    fill : float
        Share of the places in a block that get a flat.
    setback_m : float
        Distance of the flats from the block's edge (m).
    min_block_m2 : float
        Smaller blocks, and blocks within 50 m of the network's hull, stay empty.

    Returns
    -------
    GeoDataFrame
        ``building_id``, ``households``, ``building_type`` (residential), in EPSG:4326.
    """
    if roads is None or len(roads) == 0 or "road_class" not in roads.columns:
        raise ValueError("roads with a road_class column are needed to draw street blocks")
    rng = np.random.default_rng(seed)
    crs = metric_crs(roads)
    metric = roads.to_crs(crs)
    streets = metric.geometry.values[metric["road_class"].isin(BLOCK_ROAD_CLASSES).to_numpy()]
    lines = shapely.union_all(streets)
    area = shapely.buffer(shapely.convex_hull(lines), -50.0)
    blocks = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    blocks = blocks[(shapely.area(blocks) > min_block_m2) & shapely.within(blocks, area)]
    footprints = []
    for block in blocks:
        inner = shapely.buffer(block, -setback_m)
        if inner.is_empty:
            continue
        x0, y0, x1, y1 = inner.bounds
        xs, ys = np.meshgrid(np.arange(x0, x1, spacing[0]), np.arange(y0, y1, spacing[1]))
        x, y = xs.ravel(), ys.ravel()
        boxes = shapely.box(x, y, x + size[0], y + size[1])
        boxes = boxes[shapely.within(boxes, inner)]
        footprints.extend(boxes[rng.random(len(boxes)) < fill])
    n = len(footprints)
    return gpd.GeoDataFrame(
        {
            "building_id": [f"flat:{i}" for i in range(n)],
            "households": rng.integers(households[0], households[1], n),
            "building_type": "residential",
        },
        geometry=footprints,
        crs=crs,
    ).to_crs(4326)
