"""Assignment benchmark: ours vs geopandas.sjoin(predicate="within") vs shapely.STRtree, same run.

    python benchmarks/bench_assign.py [--points 1000000] [--grids 2000]

Grids: a Voronoi tessellation of random seeds clipped to a box near 铜陵
(lon/lat). Points: uniform random in the box. The answers of all three are
asserted equal (points on edges have probability zero here; our tie rule is
tested in tests/core/test_assignment.py). Also: the live index's single
lookups per second.
"""

from __future__ import annotations

import argparse

import geopandas as gpd
import numpy as np
import shapely
from _common import table, timed

from gridmgmt.core.assignment import assign, prepare_grids
from gridmgmt.core.live_index import GridIndex


def make_grids(n: int, rng) -> gpd.GeoDataFrame:
    box = shapely.box(117.78, 30.92, 117.90, 31.00)
    seeds = shapely.multipoints(
        np.column_stack([rng.uniform(117.78, 117.90, n), rng.uniform(30.92, 31.00, n)])
    )
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)), box
    )
    codes = [f"340705001{k // 999 + 1:03d}{k % 999 + 1:03d}" for k in range(len(cells))]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs=4326)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=2_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    grids = make_grids(args.grids, rng)
    lon = rng.uniform(117.78, 117.90, args.points)
    lat = rng.uniform(30.92, 31.00, args.points)
    points = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)

    prepared, t_prep = timed(prepare_grids, grids, lattice=True)
    ours, t_ours = timed(assign, points, prepared)
    joined, t_sjoin = timed(gpd.sjoin, points, grids, predicate="within", how="left")
    tree = shapely.STRtree(grids.geometry.values)
    (pi, gi), t_tree = timed(tree.query, points.geometry.values, predicate="within")

    sjoin_codes = joined["code"].groupby(level=0).first().reindex(points.index)
    tree_codes = np.full(len(points), None, dtype=object)
    tree_codes[pi] = grids["code"].to_numpy()[gi]
    a = ours["grid_code"].to_numpy(dtype=object)
    assert (a == sjoin_codes.to_numpy(dtype=object)).all() or (
        (sjoin_codes.isna().to_numpy() == (ours["grid_code"].isna().to_numpy())).all()
        and (a[sjoin_codes.notna().to_numpy()] == sjoin_codes.dropna().to_numpy()).all()
    ), "ours and sjoin disagree"
    assert (a == tree_codes).all(), "ours and STRtree disagree"

    index = GridIndex(grids, version=1)
    sample = rng.integers(0, len(points), args.lookups)

    def single_lookups():
        for k in sample:
            index.lookup(lon[k], lat[k])

    _, t_live = timed(single_lookups)
    n = len(points)
    rows = [
        {
            "method": "gridmgmt assign",
            "seconds": f"{t_ours:.2f}",
            "points_per_s": f"{n / t_ours:,.0f}",
            "vs_sjoin": f"{t_sjoin / t_ours:.1f}x faster",
        },
        {
            "method": "geopandas.sjoin(within)",
            "seconds": f"{t_sjoin:.2f}",
            "points_per_s": f"{n / t_sjoin:,.0f}",
            "vs_sjoin": "1.0x",
        },
        {
            "method": "shapely.STRtree.query(within)",
            "seconds": f"{t_tree:.2f}",
            "points_per_s": f"{n / t_tree:,.0f}",
            "vs_sjoin": f"{t_sjoin / t_tree:.1f}x",
        },
    ]
    print(
        f"{n:,} points into {len(grids):,} grids; answers identical. Index preparation (validation,"
        f" STRtree, lattice; once per grid version): {t_prep:.2f} s; ours including it:"
        f" {t_sjoin / (t_ours + t_prep):.1f}x sjoin"
    )
    print(table(rows, ["method", "seconds", "points_per_s", "vs_sjoin"]))
    print(f"live index: {args.lookups / t_live:,.0f} single lookups per second")


if __name__ == "__main__":
    main()
