"""A synthetic city for tile benchmarks: N 社区 of Voronoi grids with buildings, stored directly.

Not a partitioned city (partitioning 1,000 社区 takes far longer than the
tiles it is meant to exercise): each 社区 is a ~1 km square of a lattice
(20 社区 to a 街道), cut into ``grids_per_community`` Voronoi cells from
random seeds, each cell holding ``buildings_per_grid`` rectangular
footprints. Vertex counts are those of real grid outlines (20–40 per grid).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

CRS = "EPSG:4326"
DISTRICT = "330106"  # not the demo's 区, so both fit in one database
WEST, SOUTH = 117.60, 30.70
SIDE = 0.01  # degrees (~1 km)
COMMUNITIES_PER_STREET = 20


def build_city(
    store,
    n_communities: int = 1000,
    *,
    grids_per_community: int = 8,
    buildings_per_grid: int = 12,
    seed: int = 0,
) -> dict:
    """Write the city into ``store``; returns counts and its bbox."""
    rng = np.random.default_rng(seed)
    cols = math.ceil(math.sqrt(n_communities * 1.6))
    levels, codes, names, parents, geoms = [], [], [], [], []
    n_streets = math.ceil(n_communities / COMMUNITIES_PER_STREET)
    squares = []
    for k in range(n_communities):
        row, col = divmod(k, cols)
        x0, y0 = WEST + col * SIDE, SOUTH + row * SIDE
        squares.append(shapely.box(x0, y0, x0 + SIDE, y0 + SIDE))
    for s in range(n_streets):
        members = squares[s * COMMUNITIES_PER_STREET : (s + 1) * COMMUNITIES_PER_STREET]
        street_code = f"{DISTRICT}{s + 1:03d}"
        levels.append("street")
        codes.append(street_code)
        names.append(f"第{s + 1}街道")
        parents.append(DISTRICT)
        geoms.append(shapely.union_all(members).envelope)
    community_codes = []
    for k, square in enumerate(squares):
        s, c = divmod(k, COMMUNITIES_PER_STREET)
        code = f"{DISTRICT}{s + 1:03d}{c + 1:03d}"
        community_codes.append(code)
        levels.append("community")
        codes.append(code)
        names.append(f"第{k + 1}社区")
        parents.append(f"{DISTRICT}{s + 1:03d}")
        geoms.append(square)
    levels.insert(0, "district")
    codes.insert(0, DISTRICT)
    names.insert(0, "合成区")
    parents.insert(0, None)
    geoms.insert(0, shapely.union_all(squares).envelope)
    boundaries = gpd.GeoDataFrame(
        {"level": levels, "code": codes, "name": names, "parent_code": parents},
        geometry=geoms,
        crs=CRS,
    )
    grid_frames, labels, building_rows = {}, {}, []
    for code, square in zip(community_codes, squares, strict=True):
        x0, y0, x1, y1 = square.bounds
        seeds = shapely.points(
            rng.uniform(x0, x1, grids_per_community), rng.uniform(y0, y1, grids_per_community)
        )
        cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=square)
        cells = [shapely.intersection(c, square) for c in shapely.get_parts(cells)]
        cells = [shapely.segmentize(c, SIDE / 12) for c in cells if not c.is_empty]
        grid_codes = [f"{code}{i + 1:03d}" for i in range(len(cells))]
        community_labels = {}
        for grid_code, cell in zip(grid_codes, cells, strict=True):
            gx0, gy0, gx1, gy1 = cell.bounds
            placed = 0
            for _try in range(buildings_per_grid * 4):
                if placed == buildings_per_grid:
                    break
                cx, cy = rng.uniform(gx0, gx1), rng.uniform(gy0, gy1)
                w, h = rng.uniform(0.0002, 0.0005), rng.uniform(0.0001, 0.0002)
                footprint = shapely.box(cx, cy, cx + w, cy + h)
                if not cell.contains(footprint):
                    continue
                building_id = f"B{len(building_rows)}"
                building_rows.append((building_id, footprint))
                community_labels[building_id] = grid_code
                placed += 1
        households = [
            30 * sum(1 for g in community_labels.values() if g == gc) for gc in grid_codes
        ]
        grid_frames[code] = gpd.GeoDataFrame(
            {
                "code": grid_codes,
                "kind": ["residential"] * len(cells),
                "households": households,
                "n_buildings": [h // 30 for h in households],
                "flag": [None] * len(cells),
            },
            geometry=cells,
            crs=CRS,
        )
        labels[code] = community_labels
    n = len(building_rows)
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [b for b, _g in building_rows],
            "building_type": ["apartments"] * n,
            "floors": [6.0] * n,
            "households": [30] * n,
            "households_source": ["ledger"] * n,
            "households_confidence": ["high"] * n,
            "population": [90] * n,
            "name": [f"{i % 40 + 1}号楼" for i in range(n)],
        },
        geometry=[g for _b, g in building_rows],
        crs=CRS,
    )
    store.write_layers({"boundaries": boundaries, "buildings": buildings}, source="city")
    for code, frame in grid_frames.items():
        store.write_grid_version(code, frame, labels[code])
    return {
        "communities": n_communities,
        "grids": sum(len(f) for f in grid_frames.values()),
        "buildings": n,
        "bbox": shapely.union_all(squares).bounds,
        "first_street_bbox": geoms[1].bounds,
    }
