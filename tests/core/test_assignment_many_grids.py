"""Assignment at city scale: the fast overlap check and the point lookup against plain references."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmgmt.core.assignment import (
    MISSING,
    OUTSIDE,
    OVERLAP_TOLERANCE_M2,
    assign,
    assign_xy,
    overlapping_pairs,
    prepare_grids,
    validate_grids,
)
from gridmgmt.core.crs import metric_crs
from gridmgmt.core.live_index import GridIndex
from tests.factories import X0, Y0

D = 0.001  # ~100 m


def frame(geoms, codes=None) -> gpd.GeoDataFrame:
    codes = codes or [f"340705001001{k:03d}" for k in range(1, len(geoms) + 1)]
    return gpd.GeoDataFrame({"code": codes}, geometry=list(geoms), crs=4326)


def every_pair_overlap(grids: gpd.GeoDataFrame) -> list[list[int]]:
    """The plain check: the shared area of every intersecting pair, in metres."""
    metric = grids.to_crs(metric_crs(grids)).geometry.values
    i, j = shapely.STRtree(metric).query(metric, predicate="intersects")
    i, j = i[i < j], j[i < j]
    area = shapely.area(shapely.intersection(metric[i], metric[j]))
    keep = area > OVERLAP_TOLERANCE_M2
    return sorted([int(a), int(b)] for a, b in zip(i[keep], j[keep], strict=True))


def box(x0, y0, x1, y1) -> shapely.Polygon:
    return shapely.box(X0 + x0 * D, Y0 + y0 * D, X0 + x1 * D, Y0 + y1 * D)


def voronoi(n: int, seed: int, extent=(0, 0, 20, 20)) -> np.ndarray:
    """A clean coverage of ``n`` Voronoi cells clipped to ``extent`` (in units of D)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = extent
    outline = box(x0, y0, x1, y1)
    seeds = shapely.multipoints(
        np.column_stack(
            [X0 + rng.uniform(x0, x1, n) * D, Y0 + rng.uniform(y0, y1, n) * D],
        )
    )
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline))
    return shapely.intersection(cells, outline)


LAYER = [(0, 1.3), (1.3, 1.7), (1.7, 3)]
CASES = {
    "edges shared": [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 2, 2)],
    "a vertex in the middle of a neighbour's edge": [
        box(0, 0, 1, 2),
        box(1, 0, 2, 1),
        box(1, 1, 2, 2),
    ],
    "corners touching": [box(0, 0, 1, 1), box(1, 1, 2, 2)],
    "a gap": [box(0, 0, 1, 1), box(1.01, 0, 2, 1)],
    "a sliver overlap (0.5 m x 100 m)": [box(0, 0, 1, 1), box(0.995, 0, 2, 1)],
    "a sliver under the tolerance (1 mm x 100 m)": [box(0, 0, 1, 1), box(1 - 1e-8, 0, 2, 1)],
    "a grid inside another": [box(0, 0, 3, 3), box(1, 1, 2, 2), box(3, 0, 4, 3)],
    "a grid inside another sharing its corner": [box(0, 0, 3, 3), box(0, 0, 1, 1)],
    "duplicate grids": [box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 0, 2, 1)],
    "a diagonal cutting a square": [
        box(0, 0, 2, 2),
        shapely.Polygon([(X0, Y0), (X0 + 2 * D, Y0 + 2 * D), (X0 - D, Y0 + 3 * D)]),
    ],
    "a hole filled exactly": [box(0, 0, 3, 3).difference(box(1, 1, 2, 2)), box(1, 1, 2, 2)],
    "a hole overfilled": [box(0, 0, 3, 3).difference(box(1, 1, 2, 2)), box(0.9, 0.9, 2, 2)],
    # every edge of the two middle squares is matched by a neighbour of its own layer
    "two layers of the same area": [box(i, j, i + 1, j + 1) for i in range(3) for j in range(3)]
    + [box(a, b, c, d) for a, c in LAYER for b, d in LAYER],
    "a multipolygon part on a neighbour": [
        shapely.MultiPolygon([box(0, 0, 1, 1), box(2.5, 0, 3.5, 1)]),
        box(1, 0, 3, 1),
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_overlap_check_finds_what_the_pairwise_check_finds(name):
    grids = frame(CASES[name])
    geoms = np.asarray(grids.geometry.values)
    found = overlapping_pairs(geoms, grids.crs, metric_crs(grids)).tolist()
    assert found == every_pair_overlap(grids)
    overlapping = name.startswith(("a sliver overlap", "a grid inside", "duplicate", "a diag"))
    overlapping |= name in ("a hole overfilled", "a multipolygon part on a neighbour")
    overlapping |= name.startswith("two layers")
    assert bool(found) == overlapping


def test_overlaps_in_a_large_coverage_are_found_and_named():
    cells = voronoi(3000, seed=1)
    grids = frame(cells, [f"340705001{k:06d}" for k in range(1, len(cells) + 1)])
    validate_grids(grids)  # a clean coverage passes
    geoms = np.asarray(grids.geometry.values).copy()
    geoms[10] = shapely.buffer(geoms[10], 2e-5)  # spills ~2 m into its neighbours
    geoms[500] = geoms[501]  # a duplicate
    geoms[900] = shapely.buffer(shapely.centroid(geoms[901]), 1e-5)  # a small grid inside another
    geoms[1200] = shapely.buffer(geoms[1200], 1e-9)  # a hair over: under the tolerance
    broken = grids.set_geometry(list(geoms))
    want = every_pair_overlap(broken)
    assert [500, 501] in want and any(10 in p for p in want) and any(900 in p for p in want)
    assert not any(1200 in p for p in want)
    assert overlapping_pairs(geoms, broken.crs, metric_crs(broken)).tolist() == want
    listed = ", ".join(f"{grids['code'].iloc[a]}/{grids['code'].iloc[b]}" for a, b in want)
    with pytest.raises(ValueError, match=f"^overlapping grids: {listed}$"):
        validate_grids(broken)


def test_gaps_and_invalid_grids_are_still_told_apart():
    cells = voronoi(300, seed=2)
    grids = frame(cells, [f"340705001{k:06d}" for k in range(1, len(cells) + 1)])
    gap = grids.drop(index=[5])  # a hole in the coverage is not an overlap
    validate_grids(gap)
    bowtie = grids.copy()
    bowtie.loc[3, "geometry"] = shapely.Polygon(
        [(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)]
    )
    with pytest.raises(ValueError, match="invalid grid polygons: 340705001000004: Self-inter"):
        validate_grids(bowtie)


def sjoin_reference(points: gpd.GeoSeries, grids: gpd.GeoDataFrame) -> list:
    """The rules spelt out with geopandas: covering grids by sjoin, the smallest code; else the
    nearest grid within 1 cm (metres), the smallest code among equals; else None."""
    pts = gpd.GeoDataFrame(geometry=points)
    hit = gpd.sjoin(pts, grids, predicate="intersects", how="inner")
    codes = hit.groupby(level=0)["code"].min().reindex(pts.index)
    located = ~shapely.is_missing(pts.geometry.values) & ~shapely.is_empty(pts.geometry.values)
    left = pts[codes.isna().to_numpy() & located]
    if len(left):
        crs = metric_crs(grids)
        metric = grids.to_crs(crs)
        near = gpd.sjoin(left.to_crs(crs), metric, predicate="dwithin", distance=0.01)
        near["d"] = near.geometry.distance(metric.geometry.loc[near["index_right"]], align=False)
        near["d"] = near["d"].round(6)  # equal to the micrometre
        best = near.sort_values(["d", "code"]).groupby(level=0)["code"].first()
        codes.loc[best.index] = best
    return [c if isinstance(c, str) else None for c in codes]


def many_grids(n: int, seed: int, extent=(0, 0, 20, 20)) -> gpd.GeoDataFrame:
    """Voronoi grids with shuffled codes (the smallest code is not the first row), one with a hole."""
    rng = np.random.default_rng(seed)
    cells = voronoi(n, seed, extent)
    cells[0] = cells[0].difference(shapely.buffer(shapely.centroid(cells[0]), D / 20))
    codes = [f"340705001{k:06d}" for k in rng.permutation(len(cells)) + 1]
    return frame(cells, codes)


def awkward_points(grids: gpd.GeoDataFrame, n_random: int, seed: int) -> gpd.GeoSeries:
    """Random points in and around the grids, on shared edges and vertices, a hair outside the
    outer edge, in a hole, far away, and missing."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = grids.total_bounds
    dx, dy = (x1 - x0) / 10, (y1 - y0) / 10
    rand = shapely.points(
        rng.uniform(x0 - dx, x1 + dx, n_random), rng.uniform(y0 - dy, y1 + dy, n_random)
    )
    boundary = shapely.boundary(grids.geometry.values)
    on_edges = shapely.line_interpolate_point(
        np.repeat(boundary, 5), rng.uniform(0, 1, 5 * len(grids)), normalized=True
    )
    vertices = shapely.points(np.unique(shapely.get_coordinates(boundary), axis=0))
    hair = shapely.points(
        np.r_[x0 - 1e-12, x1 + 1e-12, x0 - 1e-6], np.r_[(y0 + y1) / 2, (y0 + y1) / 3, y0 + dy]
    )
    # a hair west of the outer vertices: two grids equally near, the smaller code wins
    west = shapely.get_coordinates(vertices)
    west = west[west[:, 0] == x0]
    hair = np.concatenate([hair, shapely.points(west[:, 0] - 1e-12, west[:, 1])])
    hole = shapely.centroid(grids.geometry.values[:1])
    pts = np.concatenate([rand, on_edges, vertices, hair, hole, [None, shapely.Point()]])
    return gpd.GeoSeries(pts, crs=4326)


@pytest.mark.parametrize(
    ("n_grids", "n_random", "path"),
    [(400, 40_000, "fine"), (3000, 25_000, "coarse"), (3000, 5_000, "index")],
    ids=["fine lattice", "coarse lattice", "index only"],
)
def test_assign_equals_an_sjoin_reference_on_many_grids(n_grids, n_random, path):
    grids = many_grids(n_grids, seed=n_grids)
    points = awkward_points(grids, n_random, seed=7)
    want = sjoin_reference(points, grids)
    prepared = prepare_grids(grids)
    got = assign(points, prepared)
    assert got["grid_code"].tolist() == want
    assert path == ("fine" if prepared.has_lattice else "coarse" if prepared._coarse else "index")
    # ties really occur: some vertices are shared by three grids
    hits = gpd.sjoin(gpd.GeoDataFrame(geometry=points), grids).index.value_counts()
    assert (hits >= 3).any()
    # a covered point (on the outer edge too) is in its grid, not a hair outside
    assert (got["distance_m"].loc[hits.index] == 0).all() and got["reason"].loc[
        hits.index
    ].isna().all()
    outside = got["reason"] == OUTSIDE
    assert outside.sum() > n_random // 10 and (got["distance_m"][outside] > 0.01).all()
    assert got["reason"].iloc[-2:].tolist() == [MISSING, MISSING]
    xy = points.get_coordinates(ignore_index=True).reindex(range(len(points)))
    by_xy = assign_xy(xy["x"].to_numpy(), xy["y"].to_numpy(), 4326, prepared)
    assert by_xy["grid_code"].iloc[:-1].tolist() == want[:-1]  # the empty point has no x, y
    live = GridIndex(grids).lookup_many(xy["x"].to_numpy()[:-2], xy["y"].to_numpy()[:-2])
    assert live == want[:-2]
