"""Boundary files that miss the data, sit off it by the GCJ-02 offset, or are not boundaries.

Each is refused with a message naming the file and what to do, and nothing
is written; a real outline that merely cuts through the data is not taken
for an offset one.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmgmt.core import coords as cc
from gridmgmt.domain.partitioning import partition_files
from gridmgmt.io.errors import InputError
from tests.test_boundaries import _cut_layout, run


def _as_gcj02(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with WGS84 coordinates moved to GCJ-02 but still labelled EPSG:4326."""
    moved = cc.transform_geometries(frame.geometry.values, cc.wgs84_to_gcj02)
    return frame.set_geometry(list(moved), crs=4326)


def _outline(folder, geom, name="outline.geojson"):
    path = folder / name
    gpd.GeoDataFrame({"name": ["街道"]}, geometry=[geom], crs=4326).to_file(path, driver="GeoJSON")
    return path


def test_gcj02_boundary_declared_wgs84_is_refused_then_converted(tmp_path):
    files, _b, (_w, _e, outer) = _cut_layout(tmp_path)
    shifted = _as_gcj02(gpd.GeoDataFrame(geometry=[outer], crs=4326))
    boundary = tmp_path / "gcj.geojson"
    shifted.to_file(boundary, driver="GeoJSON")
    out = tmp_path / "grids.gpkg"
    with pytest.raises(InputError) as err:
        partition_files(files["buildings"], out, boundary=boundary, roads=files["roads"])
    message = str(err.value)
    assert message.startswith("gcj.geojson: the boundary looks like GCJ-02 coordinates")
    assert "--boundary-coords gcj02" in message and "Nothing was written" in message
    assert not out.exists()
    result = partition_files(
        files["buildings"], out, boundary=boundary, roads=files["roads"], boundary_coords="gcj02"
    )
    assert out.exists() and len(result.grids) > 5
    assert result.report.share_in_band == 1.0


def test_correct_boundary_passes_and_a_declared_system_skips_the_offset_check(tmp_path):
    files, _b, (_w, _e, outer) = _cut_layout(tmp_path)
    boundary = _outline(tmp_path, outer)
    result = partition_files(
        files["buildings"], tmp_path / "a.gpkg", boundary=boundary, roads=files["roads"]
    )
    listed = result.boundary_buildings
    assert set(listed["status"]) == {"straddling", "straddling_left_out", "outside"}
    shifted = _as_gcj02(gpd.GeoDataFrame(geometry=[outer], crs=4326))
    trusted = tmp_path / "trusted.geojson"
    shifted.to_file(trusted, driver="GeoJSON")
    kept = partition_files(
        files["buildings"], tmp_path / "b.gpkg", boundary=trusted, boundary_coords="wgs84"
    )
    assert (kept.boundary_buildings["status"] != "straddling").sum() > 100  # taken as given


def test_boundary_missing_the_data_is_refused(tmp_path):
    files, _b, (_w, _e, outer) = _cut_layout(tmp_path)
    far = _outline(tmp_path, shapely.affinity.translate(outer, xoff=0.06), "far.geojson")
    out = tmp_path / "grids.gpkg"
    with pytest.raises(InputError, match=r"far.geojson: the boundary covers none of the 294"):
        partition_files(files["buildings"], out, boundary=far)
    assert not out.exists()
    result = run(
        "partition", files["buildings"], "--boundary", far, "--out", out, "--workdir", tmp_path
    )
    assert result.exit_code == 1 and "(they lie 4." in result.output and "km away)" in result.output
    assert not out.exists()


def test_outline_cutting_through_real_data_is_not_taken_for_an_offset(tmp_path, realdata):
    osm = realdata / "osm" / "bj_cau_xueyuanlu.osm"
    from gridmgmt.io import read_layers

    buildings = read_layers(osm).buildings
    minx, miny, maxx, maxy = buildings.total_bounds
    west = _outline(tmp_path, shapely.box(minx - 0.01, miny - 0.01, (minx + maxx) / 2, maxy + 0.01))
    result = partition_files(osm, tmp_path / "west.gpkg", boundary=west)
    listed = result.boundary_buildings
    assert (listed["status"] == "straddling").sum() >= 1
    assert (listed["status"] == "outside").sum() > 50
    assert result.labels.notna().sum() == len(buildings) - (listed["status"] != "straddling").sum()


def test_shenzhen_gcj02_file_against_buildings_at_the_wgs84_position(tmp_path, realdata):
    """The real 街道 file (GCJ-02 declared as EPSG:4326) against buildings where 华强北 really is."""
    source = realdata / "boundaries" / "shenzhen_jiedao_gcj02.geojson"
    jiedao = gpd.read_file(source)
    huaqiangbei = jiedao.loc[jiedao["NAME"] == "华强北"].geometry.iloc[0]
    wgs = cc.transform_geometries(np.asarray([huaqiangbei], dtype=object), cc.gcj02_to_wgs84)[0]
    metric = gpd.GeoSeries([wgs], crs=4326).to_crs(32650).iloc[0]
    inner = metric.buffer(-20.0)
    minx, miny, maxx, maxy = inner.bounds
    squares = [
        shapely.box(x, y, x + 25.0, y + 25.0)
        for x in np.arange(minx, maxx, 50.0)
        for y in np.arange(miny, maxy, 50.0)
    ]
    squares = [s for s in squares if inner.contains(s)]
    assert len(squares) > 100
    buildings = gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(len(squares))], "households": 40},
        geometry=squares,
        crs=32650,
    ).to_crs(4326)
    path = tmp_path / "huaqiangbei.geojson"
    buildings.to_file(path, driver="GeoJSON")
    out = tmp_path / "grids.gpkg"
    result = run("partition", path, "--boundary", source, "--out", out, "--workdir", tmp_path)
    assert result.exit_code == 1
    assert "shenzhen_jiedao_gcj02.geojson: the boundary looks like GCJ-02" in result.output
    assert "--boundary-coords gcj02" in result.output
    assert not out.exists()


def test_osm_without_buildings_is_refused(tmp_path, realdata):
    out = tmp_path / "grids.gpkg"
    osm = realdata / "osm" / "sh_jingan.osm"
    result = run("partition", osm, "--out", out, "--workdir", tmp_path)
    assert result.exit_code == 1
    assert "sh_jingan.osm: no buildings found (it holds 796 roads)" in result.output
    assert "building footprints" in result.output and not out.exists()


def test_boundary_files_that_are_not_boundaries(tmp_path):
    files, _b, _ = _cut_layout(tmp_path)
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(117.815, 30.945)], crs=4326).to_file(
        points, driver="GeoJSON"
    )
    lines = tmp_path / "lines.geojson"
    gpd.GeoDataFrame(
        {"name": ["a"]},
        geometry=[shapely.LineString([(117.81, 30.94), (117.82, 30.95)])],
        crs=4326,
    ).to_file(lines, driver="GeoJSON")
    out = tmp_path / "grids.gpkg"
    expected = {
        empty: "empty.geojson: holds no features: a boundary file needs Polygon or MultiPolygon",
        points: "points.geojson: holds Point geometries, not polygons: a boundary file needs",
        lines: "lines.geojson: holds LineString geometries, not polygons",
    }
    for boundary, message in expected.items():
        result = run(
            "partition",
            files["buildings"],
            "--boundary",
            boundary,
            "--out",
            out,
            "--workdir",
            tmp_path,
        )
        assert result.exit_code == 1 and message in result.output, result.output
        assert not out.exists()
