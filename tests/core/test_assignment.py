"""Bulk assignment and the live index: edges, vertices, holes, lines, polygons, the unassigned queue."""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmgmt.core.assignment import MISSING, OUTSIDE, assign, validate_grids
from gridmgmt.core.live_index import GridIndex
from tests.factories import CELL as D
from tests.factories import HOLED_GRID_CODES, X0, Y0, holed_grids

A, B, C, E = HOLED_GRID_CODES


def points(xy):
    return gpd.GeoSeries([shapely.Point(x, y) if x is not None else None for x, y in xy], crs=4326)


def test_points_inside_edges_vertices_holes_and_outside():
    xy = [
        (X0 + 0.5 * D, Y0 + 0.5 * D),  # inside A
        (X0 + D, Y0 + 0.5 * D),  # edge A|B -> A (smaller code)
        (X0 + D, Y0 + D),  # vertex of A, B, C, E -> A
        (X0 + 1.5 * D, Y0 + D),  # edge B|E -> B
        (X0 + 0.45 * D, Y0 + 1.45 * D),  # in C's hole -> unassigned
        (X0 + 3.5 * D, Y0 + 0.5 * D),  # E's second part
        (X0 + 10 * D, Y0),  # far away
        (None, None),
    ]
    out = assign(points(xy), holed_grids())
    assert out["grid_code"].tolist() == [A, A, A, B, None, E, None, None]
    assert out["reason"].tolist() == [None, None, None, None, OUTSIDE, None, OUTSIDE, MISSING]
    assert 10 < out["distance_m"].iloc[4] < 20  # ~ 0.15 D to the hole's edge
    assert 500 < out["distance_m"].iloc[6] < 700
    assert np.isnan(out["distance_m"].iloc[7])


def test_polygons_largest_share_and_lines_largest_length():
    b = gpd.GeoSeries(
        [
            shapely.box(X0 + 0.7 * D, Y0 + 0.2 * D, X0 + 1.1 * D, Y0 + 0.4 * D),  # 3/4 in A
            shapely.box(X0 + 0.95 * D, Y0 + 0.2 * D, X0 + 1.4 * D, Y0 + 0.4 * D),  # mostly B
            shapely.LineString([(X0 + 0.9 * D, Y0 + 0.5 * D), (X0 + 1.8 * D, Y0 + 0.5 * D)]),
        ],
        crs=4326,
    )
    assert assign(b, holed_grids())["grid_code"].tolist() == [A, B, B]


def test_reprojected_objects_and_index_kept():
    pts = points([(X0 + 0.5 * D, Y0 + 0.5 * D)]).to_crs(32650)
    pts.index = [42]
    out = assign(pts, holed_grids())
    assert out.index.tolist() == [42] and out["grid_code"].tolist() == [A]


def test_bad_grids_and_objects_refused():
    overlapping = holed_grids()
    overlapping.loc[1, "geometry"] = shapely.box(X0, Y0, X0 + 1.5 * D, Y0 + D)
    with pytest.raises(ValueError, match=f"overlapping grids: {B}/{A}"):
        validate_grids(overlapping)
    bowtie = holed_grids()
    bowtie.loc[0, "geometry"] = shapely.Polygon(
        [(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)]
    )
    with pytest.raises(ValueError, match=f"invalid grid polygons: {B}: Self-intersection"):
        assign(points([(X0, Y0)]), bowtie)
    dup = holed_grids()
    dup.loc[0, "code"] = A
    with pytest.raises(ValueError, match="duplicate grid codes"):
        assign(points([(X0, Y0)]), dup)
    with pytest.raises(ValueError, match="objects have no CRS"):
        assign(gpd.GeoSeries([shapely.Point(X0, Y0)]), holed_grids())
    with pytest.raises(ValueError, match="look swapped"):
        assign(gpd.GeoSeries([shapely.Point(Y0, X0)], crs=4326), holed_grids())


def test_live_index_agrees_with_bulk_and_refreshes():
    rng = np.random.default_rng(0)
    lon = X0 + rng.uniform(-D, 5 * D, 2000)
    lat = Y0 + rng.uniform(-D, 3 * D, 2000)
    edge_lon = np.r_[X0 + D, X0 + D, X0 + 1.5 * D, X0]
    edge_lat = np.r_[Y0 + D, Y0 + 0.5 * D, Y0 + D, Y0]
    lon, lat = np.r_[lon, edge_lon], np.r_[lat, edge_lat]
    index = GridIndex(holed_grids(), version=1)
    bulk = assign(points(list(zip(lon, lat, strict=True))), holed_grids())["grid_code"].tolist()
    assert index.lookup_many(lon, lat) == [c if isinstance(c, str) else None for c in bulk]
    assert index.lookup(X0 + D, Y0 + D) == A
    merged = gpd.GeoDataFrame(
        {"code": ["340705001001009"]},
        geometry=[shapely.box(X0, Y0, X0 + 2 * D, Y0 + 2 * D)],
        crs=4326,
    )
    index.refresh(merged, version=2)
    assert index.version == 2 and index.lookup(X0 + 0.45 * D, Y0 + 1.45 * D) == "340705001001009"


def test_live_index_refresh_under_concurrent_lookups():
    index = GridIndex(holed_grids(), version=1)
    seen, errors = set(), []

    def reader():
        for _ in range(200):
            try:
                seen.add(index.lookup(X0 + 0.5 * D, Y0 + 0.5 * D))
            except Exception as err:  # noqa: BLE001 - any failure is the finding
                errors.append(err)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    other = holed_grids()
    other["code"] = other["code"].str.replace("001001", "001002")
    index.refresh(other, version=2)
    for t in threads:
        t.join()
    assert not errors and seen <= {A, "340705001002001"}


def test_lattice_fast_path_agrees_with_the_exact_rule_at_edges_vertices_and_holes():
    """Bulk lookups (the lattice) give the same grid as the exact test, ties included."""
    from gridmgmt.core.assignment import (
        EDGE_TOLERANCE_M,
        LATTICE_MIN_POINTS,
        _exact_covering,
        prepare_grids,
    )

    rng = np.random.default_rng(3)
    box = shapely.box(117.78, 30.92, 117.80, 30.94)
    seeds = shapely.multipoints(rng.uniform([117.78, 30.92], [117.80, 30.94], (60, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)), box
    )
    hole = shapely.buffer(shapely.centroid(cells[0]), 0.0003)
    cells[0] = cells[0].difference(hole)  # a hole no grid fills
    codes = [f"340705001001{k:03d}" for k in rng.permutation(len(cells)) + 1]
    frame = gpd.GeoDataFrame({"code": codes}, geometry=list(cells), crs=4326)
    prepared = prepare_grids(frame)
    boundary = shapely.boundary(prepared.native)
    on_edges = shapely.line_interpolate_point(
        np.repeat(boundary, 40), rng.uniform(0, 1, 40 * len(cells)), normalized=True
    )
    vertices = shapely.points(shapely.get_coordinates(boundary))
    inside = shapely.points(rng.uniform([117.775, 30.915], [117.805, 30.945], (30_000, 2)))
    pts = np.concatenate([on_edges, vertices, inside, [shapely.centroid(hole)]])
    assert len(pts) >= LATTICE_MIN_POINTS
    out = assign(gpd.GeoSeries(pts, crs=4326), prepared)
    expected = _exact_covering(prepared, pts)
    want = np.where(expected >= 0, prepared.codes[np.maximum(expected, 0)], None)
    got = out["grid_code"].to_numpy(dtype=object)
    covered = expected >= 0
    assert (got[covered] == want[covered]).all()
    # points a hair outside every grid (on the outer edge, after rounding) go to the nearest one
    edge = ~covered & (out["distance_m"].to_numpy() <= EDGE_TOLERANCE_M)
    assert edge.any() and pd.notna(got[edge]).all()
    assert pd.isna(got[~covered & ~edge]).all()
    # the ties really occur: shared vertices are covered by two or three grids
    pi, _ = prepared.tree.query(vertices, predicate="intersects")
    assert (np.bincount(pi) > 1).any()
    assert out["reason"].iloc[-1] == OUTSIDE


def test_assign_xy_gives_what_assign_gives_on_the_same_points():
    """Coordinates alone (the file path of a million points) follow the rules of assign."""
    from gridmgmt.core.assignment import LATTICE_MIN_POINTS, assign_xy

    rng = np.random.default_rng(8)
    grids = holed_grids()
    n = LATTICE_MIN_POINTS + 500
    x = rng.uniform(X0 - 0.2 * D, X0 + 4.2 * D, n)
    y = rng.uniform(Y0 - 0.2 * D, Y0 + 2.2 * D, n)
    x[:4] = [X0 - 1e-12, X0 + D, X0 + 2 * D, np.nan]  # a hair outside, on shared edges, missing
    y[:4] = [Y0 + 0.5 * D, Y0 + 0.5 * D, Y0 + D, np.nan]
    want = assign(gpd.GeoSeries(shapely.points(x, y), crs=4326), grids)
    got = assign_xy(x, y, "EPSG:4326", grids)
    pd.testing.assert_frame_equal(got, want)
    assert got["grid_code"].iloc[0] == HOLED_GRID_CODES[0] and got["reason"].iloc[3] == MISSING
    # the same points given in a projected CRS land in the same grids
    metric = gpd.GeoSeries(shapely.points(x[4:], y[4:]), crs=4326).to_crs(32650)
    projected = assign_xy(metric.x.to_numpy(), metric.y.to_numpy(), 32650, grids)
    assert (projected["grid_code"].fillna("") == want["grid_code"].iloc[4:].fillna("").values).all()


def test_live_index_follows_the_one_centimetre_rule():
    index = GridIndex(holed_grids(), version=1)
    assert index.lookup(X0 - 1e-12, Y0 + 0.5 * D) == HOLED_GRID_CODES[0]  # a hair outside A
    assert index.lookup(X0 - 1e-6, Y0 + 0.5 * D) is None  # 10 cm outside
    assert index.lookup(X0 + 0.5 * D, Y0 + 0.5 * D) == HOLED_GRID_CODES[0]


def test_a_bulk_lookup_with_few_points_per_grid_skips_the_lattice():
    """Building a lattice costs more than querying the index when points are sparse."""
    from gridmgmt.core.assignment import LATTICE_MIN_POINTS, _exact_covering, prepare_grids

    rng = np.random.default_rng(5)
    box = shapely.box(117.78, 30.92, 117.80, 30.94)
    seeds = shapely.multipoints(rng.uniform([117.78, 30.92], [117.80, 30.94], (400, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)), box
    )
    codes = [f"340705001{k:06d}" for k in range(1, len(cells) + 1)]
    prepared = prepare_grids(gpd.GeoDataFrame({"code": codes}, geometry=list(cells), crs=4326))
    pts = shapely.points(rng.uniform([117.78, 30.92], [117.80, 30.94], (LATTICE_MIN_POINTS, 2)))
    out = assign(gpd.GeoSeries(pts, crs=4326), prepared)  # 50 points a grid
    assert not prepared.has_lattice
    expected = prepared.codes[_exact_covering(prepared, pts)]
    assert (out["grid_code"].to_numpy(dtype=object) == expected).all()
