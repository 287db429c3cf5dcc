"""Assignment benchmark: ours vs geopandas.sjoin(predicate="within") vs shapely.STRtree, same run.

    python benchmarks/bench_assign.py [--n 1000000] [--grids 2000] [--skip-memory] [--skip-files]
    python benchmarks/bench_assign.py --grids 50000 --skip-files   # a city's worth of grids

Two parts: in memory (ours vs ``sjoin`` vs ``STRtree``; first one bulk call
as ``bench_city.py`` makes it, ``prepare_grids`` with its validation and
``assign``, then ``assign`` on grids prepared once with their lattice), and end to end,
file in and file out, as ``gridmgmt assign POINTS --grids G --out OUT``
runs it: GeoPackage -> GeoPackage (and GeoParquet -> GeoParquet), against a
plain geopandas script (``read_file`` -> ``sjoin`` -> ``to_file``) on the
same files in the same run; the answers are compared.

Grids: a Voronoi tessellation of random seeds clipped to a box near 铜陵
(lon/lat). Points: uniform random in the box. The answers of all three are
asserted equal (points on edges have probability zero here; our tie rule is
tested in tests/core/test_assignment.py). Also: the live index's single
lookups per second.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from _common import table, timed

from gridmgmt.core.assignment import assign, prepare_grids, validate_grids
from gridmgmt.core.live_index import GridIndex
from gridmgmt.domain.file_assignment import assign_file


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
    parser.add_argument("--n", "--points", dest="points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=2_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--skip-memory", action="store_true", help="only the end-to-end part")
    parser.add_argument("--skip-files", action="store_true", help="only the in-memory part")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    grids = make_grids(args.grids, rng)
    lon = rng.uniform(117.78, 117.90, args.points)
    lat = rng.uniform(30.92, 31.00, args.points)
    points = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)
    if not args.skip_memory:
        one_call(grids, points)
        in_memory(args, grids, points, lon, lat, rng)
    if not args.skip_files:
        end_to_end(grids, points, rng)


def timed_cpu(func, *args):
    """(result, wall seconds, CPU seconds of this process) of one call."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    out = func(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def plain_geopandas(points_path: Path, grids_path: Path, out: Path) -> None:
    """What a plain geopandas script does: read, sjoin, write."""
    pts = gpd.read_file(points_path)
    grids = gpd.read_file(grids_path, layer="grids")
    joined = gpd.sjoin(pts, grids[["code", "geometry"]], predicate="within", how="left")
    joined.to_file(out, driver="GPKG" if out.suffix == ".gpkg" else None)


def end_to_end(grids: gpd.GeoDataFrame, points: gpd.GeoDataFrame, rng) -> None:
    """``gridmgmt assign`` file in, file out, against plain geopandas on the same files."""
    n = len(points)
    frame = points.assign(
        pid=np.arange(n, dtype=np.int64), kind=rng.choice(["fire", "noise", "litter"], n)
    )[["pid", "kind", "geometry"]]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-assign-") as tmp:
        tmp = Path(tmp)
        grids.to_file(tmp / "grids.gpkg", layer="grids", driver="GPKG")
        frame.to_file(tmp / "points.gpkg", layer="points", driver="GPKG", engine="pyogrio")
        frame.to_parquet(tmp / "points.parquet")
        _, t_plain, c_plain = timed_cpu(
            plain_geopandas, tmp / "points.gpkg", tmp / "grids.gpkg", tmp / "gp.gpkg"
        )
        summary, t_ours, c_ours = timed_cpu(
            assign_file, tmp / "points.gpkg", tmp / "grids.gpkg", tmp / "o.gpkg"
        )
        _, t_pq, c_pq = timed_cpu(
            assign_file, tmp / "points.parquet", tmp / "grids.gpkg", tmp / "o.parquet"
        )
        ours = gpd.read_file(tmp / "o.gpkg", engine="pyogrio", use_arrow=True)
        theirs = gpd.read_file(tmp / "gp.gpkg", engine="pyogrio", use_arrow=True)
        assert list(ours.columns[:2]) == ["pid", "kind"], "input columns not kept"
        theirs = theirs.drop_duplicates("pid").set_index("pid")["code"].reindex(ours["pid"])
        same = (ours["grid_code"].fillna("").to_numpy() == theirs.fillna("").to_numpy()).mean()
        assert same == 1.0, f"ours and sjoin disagree on {1 - same:.4%} of points"
        size = (tmp / "o.gpkg").stat().st_size / 1e6
    for method, t, c in (
        ("plain geopandas (read_file, sjoin, to_file), GPKG", t_plain, c_plain),
        ("gridmgmt assign, GPKG -> GPKG", t_ours, c_ours),
        ("gridmgmt assign, GeoParquet -> GeoParquet", t_pq, c_pq),
    ):
        rows.append(
            {
                "method": method,
                "seconds": f"{t:.2f}",
                "ratio": f"{t_plain / t:.1f}x" + (" faster" if t < t_plain else ""),
                "cpu_seconds": f"{c:.2f}",
                "cpu_ratio": f"{c_plain / c:.1f}x",
            }
        )
    print(
        f"\nend to end, {n:,} points (pid, kind) into {len(grids):,} grids, file in, file out "
        f"({summary['assigned']:,} assigned; output GPKG {size:.0f} MB; answers identical):"
    )
    print(table(rows, ["method", "seconds", "ratio", "cpu_seconds", "cpu_ratio"]))
    print(
        "cpu_seconds: CPU time of this process (all its threads, GDAL's included); on a shared "
        "machine the wall-clock ratio is noisier than the CPU one"
    )


def one_call(grids: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> None:
    """``prepare_grids`` (validation included) and ``assign`` once, against ``sjoin``."""
    joined, t_sjoin, c_sjoin = timed_cpu(
        lambda: gpd.sjoin(points, grids[["code", "geometry"]], predicate="within", how="left")
    )
    prepared, t_prep, c_prep = timed_cpu(prepare_grids, grids)
    ours, t_assign, c_assign = timed_cpu(assign, points, prepared)
    sjoin_codes = joined["code"].groupby(level=0).first().reindex(points.index)
    assert (ours["grid_code"].fillna("") == sjoin_codes.fillna("")).all(), "ours and sjoin disagree"
    t_ours, c_ours = t_prep + t_assign, c_prep + c_assign
    print(
        f"one bulk call, {len(points):,} points into {len(grids):,} grids (answers identical):\n"
        f"  prepare_grids (validation included) {t_prep:.2f} s + assign {t_assign:.2f} s = "
        f"{t_ours:.2f} s ({c_ours:.2f} CPU s); geopandas.sjoin(within) {t_sjoin:.2f} s "
        f"({c_sjoin:.2f} CPU s): {t_sjoin / t_ours:.2f}x sjoin (CPU {c_sjoin / c_ours:.2f}x)\n"
        f"  without the validation (grids validated when read or stored): "
        f"{t_sjoin / (t_ours - validation_seconds(grids)):.2f}x sjoin\n"
    )


def validation_seconds(grids: gpd.GeoDataFrame) -> float:
    """Seconds :func:`validate_grids` takes on ``grids``."""
    _, seconds, _ = timed_cpu(validate_grids, grids)
    return seconds


def in_memory(args, grids, points, lon, lat, rng) -> None:
    """Ours vs sjoin vs STRtree on frames already in memory, and the live index."""

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
