"""GCJ-02/BD-09 conversions and metric CRS choice."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmgmt.core import coords, crs


def test_gcj02_offset_in_beijing_is_hundreds_of_metres():
    lon, lat = coords.wgs84_to_gcj02(116.3972, 39.9075)  # Tiananmen
    # published GCJ-02 offset there: about +0.0062 lon, +0.0014 lat
    assert 0.0055 < lon - 116.3972 < 0.0068
    assert 0.0008 < lat - 39.9075 < 0.0020


def test_gcj02_round_trip_to_a_centimetre():
    rng = np.random.default_rng(1)
    lon = rng.uniform(100, 125, 1000)
    lat = rng.uniform(20, 45, 1000)
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert np.abs(back[0] - lon).max() < 1e-7 and np.abs(back[1] - lat).max() < 1e-7


def test_bd09_round_trip_within_half_a_metre():
    lon, lat = np.array([116.35, 121.47]), np.array([39.99, 31.23])
    back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    assert np.abs(back[0] - lon).max() < 5e-6 and np.abs(back[1] - lat).max() < 5e-6


def test_no_offset_outside_china():
    lon, lat = coords.wgs84_to_gcj02(2.35, 48.85)  # Paris
    assert float(lon) == 2.35 and float(lat) == 48.85


def test_to_wgs84_dispatch_and_unknown_system():
    assert coords.to_wgs84(117.0, 31.0, "CGCS2000")[0] == 117.0
    g = coords.wgs84_to_gcj02(117.0, 31.0)
    assert abs(float(coords.to_wgs84(*g, "gcj-02")[0]) - 117.0) < 1e-8
    with pytest.raises(ValueError, match="unknown coordinate system"):
        coords.to_wgs84(117.0, 31.0, "mars")


def test_transform_geometries_keeps_shape_type():
    poly = shapely.box(117.8, 30.9, 117.81, 30.91)
    (out,) = coords.transform_geometries([poly], coords.wgs84_to_gcj02)
    assert out.geom_type == "Polygon" and out.bounds[0] > 117.8


def test_metric_crs_picks_utm_zone():
    frame = gpd.GeoSeries([shapely.Point(117.81, 30.94)], crs=4326)
    assert crs.metric_crs(frame) == "EPSG:32650"
    assert crs.utm_epsg(121.47, 31.23) == 32651
    assert crs.cgcs2000_gk3_epsg(117.0) == 4548  # CM 117°E
    with pytest.raises(ValueError, match="no CRS"):
        crs.metric_crs(gpd.GeoSeries([shapely.Point(0, 0)]))
    with pytest.raises(ValueError, match="empty"):
        crs.metric_crs(gpd.GeoSeries([], crs=4326))
