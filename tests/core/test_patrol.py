"""Patrol measures on hand-built tracks with known answers (metres in UTM 50N, near Beijing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmgmt.core.patrol import PatrolRules, patrol_measures

UTM = 32650
X0, Y0 = 440_000.0, 4_420_000.0
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def to_lonlat(xs, ys):
    pts = gpd.GeoSeries(shapely.points(np.asarray(xs) + X0, np.asarray(ys) + Y0), crs=UTM)
    pts = pts.to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def layer(geoms, crs=UTM, **cols):
    shifted = [shapely.affinity.translate(g, X0, Y0) for g in geoms]
    return gpd.GeoDataFrame(cols, geometry=shifted, crs=crs).to_crs(4326)


@pytest.fixture
def world():
    grids = layer([shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200)], code=["G1", "G2"])
    # buildings 10 m, 25 m and 50 m from the walked line y = 100, one in G2
    buildings = layer(
        [
            shapely.box(95, 108, 105, 112),
            shapely.box(45, 123, 55, 127),
            shapely.box(145, 148, 155, 152),
            shapely.box(300, 95, 310, 105),
        ],
        building_id=["near", "edge", "far", "other"],
        grid_code=["G1", "G1", "G1", "G2"],
    )
    roads = layer(
        [shapely.LineString([(0, 100), (400, 100)]), shapely.LineString([(0, 180), (200, 180)])]
    )
    return grids, buildings, roads


def track(xs, ys, step_s=30, patrol="p1", start=T0):
    lon, lat = to_lonlat(xs, ys)
    t = [start + timedelta(seconds=step_s * i) for i in range(len(xs))]
    return pd.DataFrame({"patrol_id": patrol, "t": t, "lon": lon, "lat": lat})


def measure(points, world, codes=("G1",), **rules):
    grids, buildings, roads = world
    patrols = pd.DataFrame({"patrol_id": points["patrol_id"].unique()})
    patrols["grid_codes"] = [list(codes)] * len(patrols)
    return patrol_measures(points, patrols, grids, buildings, roads, PatrolRules(**rules))


def test_a_walk_along_the_road(world):
    xs = np.arange(10, 191, 20.0)  # 10 fixes, 20 m apart, every 30 s: 2.4 km/h
    m = measure(track(xs, np.full(len(xs), 100.0)), world).loc["p1"]
    assert m["points"] == 10
    assert m["duration_min"] == pytest.approx(4.5)
    assert m["length_m"] == pytest.approx(180.0, abs=0.5)
    assert m["inside_share"] == 1.0
    assert (m["buildings_total"], m["buildings_passed"]) == (3, 2)  # 10 m and 25 m, not 50 m
    assert m["building_share"] == pytest.approx(2 / 3)
    assert m["road_m"] == pytest.approx(400.0, abs=1)  # the main road's 200 m in G1 + the back road
    assert m["road_share"] == pytest.approx(0.5, abs=0.01)
    assert m["max_speed_kmh"] == pytest.approx(2.4, abs=0.01)
    assert m["jumps"] == 0 and m["anomalies"] == ""


def test_wider_distance_reaches_the_far_building(world):
    xs = np.arange(10, 191, 20.0)
    m = measure(track(xs, np.full(len(xs), 100.0)), world, distance=60.0).loc["p1"]
    assert m["buildings_passed"] == 3 and m["road_share"] == pytest.approx(0.5, abs=0.01)


def test_a_gps_jump_is_flagged_and_not_walked(world):
    xs = [10.0, 30.0, 5030.0, 50.0, 70.0]  # 5 km away and back within 30 s each
    m = measure(track(xs, [100.0] * 5), world).loc["p1"]
    assert m["jumps"] == 2 and "jumps" in m["anomalies"]
    assert m["length_m"] == pytest.approx(20.0 + 20.0, abs=0.5)


def test_long_stationary_span(world):
    xs = [50.0] + [50.0 + (i % 3) for i in range(90)] + [150.0]  # 45 min on one spot
    m = measure(track(xs, [100.0] * len(xs)), world).loc["p1"]
    assert m["stationary_min"] == pytest.approx(45.5, abs=0.6)
    assert "long_stationary" in m["anomalies"]
    m = measure(track(xs, [100.0] * len(xs)), world, stationary_limit_min=60).loc["p1"]
    assert "long_stationary" not in m["anomalies"]


def test_a_track_mostly_outside_the_grid(world):
    xs = [150.0, 250.0, 300.0, 350.0, 390.0]  # one interval in G1, three in G2
    m = measure(track(xs, [100.0] * 5), world).loc["p1"]
    assert m["inside_share"] == pytest.approx(0.25)
    assert "mostly_outside" in m["anomalies"]
    both = measure(track(xs, [100.0] * 5), world, codes=("G1", "G2")).loc["p1"]
    assert both["inside_share"] == 1.0 and both["buildings_total"] == 4


def test_many_patrols_at_once_and_bad_input(world):
    a = track(np.arange(10, 191, 20.0), np.full(10, 100.0), patrol="a")
    b = track([10.0, 20.0], [180.0, 180.0], patrol="b", start=T0 + timedelta(hours=2))
    m = measure(pd.concat([b, a]), world)
    assert list(m.index) == ["a", "b"] and m.loc["b", "points"] == 2
    assert m.loc["b", "buildings_passed"] == 0 and m.loc["b", "road_share"] > 0
    shuffled = a.iloc[[0, 2, 1]]
    with pytest.raises(ValueError, match="out of order"):
        measure(shuffled, world)
    with pytest.raises(ValueError, match="missing column"):
        measure(a.drop(columns="lat"), world)


def test_coverage_per_own_grid(world):
    """A walk along the road in G1 only: G1's buildings are covered, G2's not."""
    xs = np.arange(10, 191, 20.0)
    m = measure(track(xs, np.full(len(xs), 100.0)), world, codes=("G1", "G2")).loc["p1"]
    shares = m["grid_shares"]
    assert shares["G1"]["building_share"] == pytest.approx(2 / 3)
    assert shares["G2"]["building_share"] == 0.0
    assert shares["G1"]["road_share"] == pytest.approx(0.5, abs=0.01)
    # the walk ends 10 m short of G2: its first 20 m road piece is within 30 m
    assert shares["G2"]["road_share"] == pytest.approx(20 / 200, abs=0.01)
    assert m["building_share"] == pytest.approx(2 / 4)  # over both grids
