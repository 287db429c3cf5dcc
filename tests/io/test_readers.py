"""Reading files into layers: formats, encodings, coordinates, households, and every bad input."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmgmt.core import coords
from gridmgmt.io import InputError, read_layers

X0, Y0 = 117.81, 30.94


def footprint(i, size=0.0004):
    return shapely.box(X0 + i * 0.001, Y0, X0 + i * 0.001 + size, Y0 + size / 2)


def buildings_frame(n=3, **columns):
    data = {
        "id": [f"B{i}" for i in range(n)],
        "名称": [f"{i + 1}号楼" for i in range(n)],
        "层数": [6] * n,
    }
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=[footprint(i) for i in range(n)], crs=4326)


def write_csv(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# ----------------------------------------------------------------- formats
def test_geojson_buildings_with_chinese_columns_and_estimates(tmp_path):
    path = tmp_path / "楼栋.geojson"
    frame = buildings_frame(3, 户数=[30, None, 24], 类型=["住宅", "住宅", "商业"])
    frame.to_file(path, driver="GeoJSON")
    result = read_layers(path, kind="buildings")
    b = result.buildings
    assert b["building_id"].tolist() == ["B0", "B1", "B2"]
    assert b["name"].tolist() == ["1号楼", "2号楼", "3号楼"]
    assert b["building_type"].tolist() == ["residential", "residential", "commercial"]
    assert b["households_source"].tolist() == ["ledger", "levels", "ledger"]
    assert b["households_confidence"].tolist() == ["high", "medium", "high"]
    # B1: ~ 38.2 m x 22.2 m footprint x 6 floors / 90 m² ≈ 57 households
    assert 45 <= b["households"].iloc[1] <= 65
    assert b["population"].iloc[0] == round(30 * 2.62)
    assert result.report.households_estimated == 1 and result.report.households_from_ledger == 2


def test_geopackage_all_layers_by_name(tmp_path):
    path = tmp_path / "data.gpkg"
    buildings_frame(2).to_file(path, layer="buildings", driver="GPKG")
    roads = gpd.GeoDataFrame(
        {"name": ["长江路"], "highway": ["primary"]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 0.01, Y0)])],
        crs=4326,
    )
    roads.to_file(path, layer="roads", driver="GPKG")
    result = read_layers(path)
    assert len(result.buildings) == 2 and result.roads["name"].tolist() == ["长江路"]
    assert result.roads["road_class"].tolist() == ["primary"]
    only = read_layers(path, layer="roads")
    assert len(only.roads) == 1 and len(only.buildings) == 0
    with pytest.raises(InputError, match="no layer 'parks'; layers: buildings, roads"):
        read_layers(path, layer="parks")


def test_zipped_shapefile_keeps_chinese_text(tmp_path):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    buildings_frame(2).to_file(shp_dir / "b.shp", encoding="utf-8")
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    result = read_layers(archive, kind="buildings")
    assert result.buildings["name"].tolist() == ["1号楼", "2号楼"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_facilities_in_any_common_encoding(tmp_path, encoding):
    path = write_csv(
        tmp_path / "poi.csv",
        "名称,类型,经度,纬度\n翠湖小学,科教文化服务;学校;小学,117.811,30.941\n人民医院,医疗保健服务;综合医院,117.812,30.942\n",
        encoding,
    )
    f = read_layers(path).facilities
    assert f["name"].tolist() == ["翠湖小学", "人民医院"]
    assert f["category"].tolist() == ["school", "hospital"]
    assert f.geometry.iloc[0].equals(shapely.Point(117.811, 30.941))


def test_xlsx_with_lon_lat(tmp_path):
    path = tmp_path / "poi.xlsx"
    pd.DataFrame(
        {"name": ["菜市场"], "category": ["market"], "lng": [117.811], "lat": [30.941]}
    ).to_excel(path, index=False)
    f = read_layers(path, kind="facilities").facilities
    assert f["category"].tolist() == ["market"] and f["facility_id"].tolist() == ["poi:2"]


def test_gcj02_and_bd09_inputs_are_converted(tmp_path):
    glon, glat = coords.wgs84_to_gcj02(117.811, 30.941)
    blon, blat = coords.wgs84_to_bd09(117.811, 30.941)
    path = write_csv(tmp_path / "p.csv", f"name,lon,lat\n高德,{float(glon)},{float(glat)}\n")
    p = read_layers(path, kind="facilities", coords="gcj02").facilities.geometry.iloc[0]
    assert abs(p.x - 117.811) < 1e-7 and abs(p.y - 30.941) < 1e-7
    path = write_csv(tmp_path / "b.csv", f"name,lon,lat\n百度,{float(blon)},{float(blat)}\n")
    p = read_layers(path, kind="facilities", coords="bd09").facilities.geometry.iloc[0]
    assert abs(p.x - 117.811) < 1e-5 and abs(p.y - 30.941) < 1e-5


def test_projected_input_is_reprojected(tmp_path):
    path = tmp_path / "utm.gpkg"
    buildings_frame(2).to_crs(32650).to_file(path, driver="GPKG")
    b = read_layers(path, kind="buildings").buildings
    assert b.crs.to_epsg() == 4326 and abs(b.geometry.iloc[0].bounds[0] - X0) < 1e-6


def test_ledger_overrides_estimates_and_reports_unknown_ids(tmp_path):
    path = tmp_path / "b.geojson"
    buildings_frame(3).to_file(path, driver="GeoJSON")
    ledger = write_csv(tmp_path / "台账.csv", "编号,户数,人口\nB0,33,90\nB2,12,\nB9,5,\n", "gbk")
    result = read_layers(path, kind="buildings", ledger=ledger)
    b = result.buildings.set_index("building_id")
    assert b.loc["B0", "households"] == 33 and b.loc["B0", "population"] == 90
    assert b.loc["B2", "households"] == 12 and b.loc["B2", "population"] == round(12 * 2.62)
    assert (
        b.loc["B1", "households_source"] == "levels"
        and b.loc["B0", "households_source"] == "ledger"
    )
    assert any("B9" in w for w in result.report.warnings)


def test_invalid_geometry_repaired_and_listed_or_rejected_when_strict(tmp_path):
    bowtie = shapely.Polygon(
        [(X0, Y0), (X0 + 0.001, Y0 + 0.001), (X0 + 0.001, Y0), (X0, Y0 + 0.001)]
    )
    path = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"id": ["B1"]}, geometry=[bowtie], crs=4326).to_file(path, driver="GeoJSON")
    result = read_layers(path, kind="buildings")
    assert result.buildings.geometry.iloc[0].is_valid
    assert result.report.layers["buildings"].repaired[0][0] == "B1"
    assert "Self-intersection" in result.report.layers["buildings"].repaired[0][1]
    with pytest.raises(
        InputError, match=r"bad.geojson, row 1, feature B1: invalid geometry \(Self-intersection"
    ):
        read_layers(path, kind="buildings", strict=True)


def test_empty_geometry_skipped_and_listed_or_rejected_when_strict(tmp_path):
    path = write_csv(tmp_path / "p.csv", "id,name,lon,lat\nP1,a,117.81,30.94\nP2,b,,\n")
    result = read_layers(path, kind="facilities")
    assert result.facilities["facility_id"].tolist() == ["P1"]
    assert result.report.layers["facilities"].skipped == [("P2", "empty geometry")]
    with pytest.raises(InputError, match="p.csv, row 3, feature P2: empty geometry"):
        read_layers(path, kind="facilities", strict=True)


def test_real_osm_extract(realdata):
    result = read_layers(realdata / "osm" / "bj_cau_xueyuanlu.osm")
    b = result.buildings
    assert 250 <= len(b) <= 265
    residential = b["building_type"].isin(["residential", "apartments", "house"])
    assert residential.sum() > 50 and (b.loc[residential, "households"] > 0).all()
    assert (
        b.loc[b["building_type"].isin(["university", "school", "hospital"]), "households"] == 0
    ).all()
    assert b["households_source"].isin(["levels", "height", "default"]).all()
    assert len(result.roads) > 250 and len(result.facilities) > 10
    assert {"residential", "unit"} <= set(result.compounds["compound_kind"])


def test_real_gcj02_boundaries_shift(realdata):
    path = realdata / "boundaries" / "shenzhen_jiedao_gcj02.geojson"
    raw = read_layers(path, kind="compounds").compounds.total_bounds
    fixed = read_layers(path, kind="compounds", coords="gcj02").compounds.total_bounds
    shift = raw - fixed
    assert 0.004 < shift[0] < 0.006 and -0.004 < shift[1] < -0.002  # GCJ-02 offset in Shenzhen


# ----------------------------------------------------------------- bad input
def test_negative_households_named_with_row(tmp_path):
    path = tmp_path / "buildings.geojson"
    buildings_frame(3, households=[30, -3, 20]).to_file(path, driver="GeoJSON")
    with pytest.raises(
        InputError, match=r"buildings.geojson, row 2, feature B1: households is negative \(-3"
    ):
        read_layers(path, kind="buildings")


def test_non_numeric_households_named_with_row(tmp_path):
    path = tmp_path / "buildings.geojson"
    buildings_frame(2, households=["30", "三十"]).to_file(path, driver="GeoJSON")
    with pytest.raises(
        InputError, match=r"row 2, feature B1: households is not a number \('三十'\)"
    ):
        read_layers(path, kind="buildings")


def test_duplicate_ids(tmp_path):
    path = tmp_path / "b.geojson"
    frame = buildings_frame(3)
    frame["id"] = ["B1", "B2", "B1"]
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match=r"duplicate id 'B1' \(rows 1, 3\)"):
        read_layers(path, kind="buildings")


def test_missing_crs(tmp_path):
    path = tmp_path / "noprj.shp"
    buildings_frame(1).to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match="noprj.shp: has no coordinate reference system"):
        read_layers(path, kind="buildings")


def test_swapped_lat_lon(tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,lat,lon\n学校,117.81,30.94\n")
    with pytest.raises(InputError, match="p.csv, row 2: latitude/longitude look swapped"):
        read_layers(path, kind="facilities")


def test_outside_china_refused_unless_allowed(tmp_path):
    path = write_csv(tmp_path / "paris.csv", "name,lon,lat\nLouvre,2.3376,48.8606\n")
    with pytest.raises(InputError, match="paris.csv, row 2: coordinates outside China's extent"):
        read_layers(path, kind="facilities")
    assert len(read_layers(path, kind="facilities", china=False).facilities) == 1


def test_unreadable_encoding(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"name,lon,lat\n" + bytes([0x81, 0x20, 0xFF, 0xFE, 0x0A]) * 3)
    with pytest.raises(InputError, match="p.csv: unreadable encoding"):
        read_layers(path, kind="facilities")


@pytest.mark.parametrize("suffix", [".txt", ".dwg", ""])
def test_unsupported_format(tmp_path, suffix):
    path = tmp_path / f"drawing{suffix}"
    path.write_bytes(b"whatever")
    with pytest.raises(InputError, match="unsupported format"):
        read_layers(path)


def test_missing_file_and_missing_coordinate_columns(tmp_path):
    with pytest.raises(InputError, match="nothing.csv: file not found"):
        read_layers(tmp_path / "nothing.csv")
    path = write_csv(tmp_path / "p.csv", "name,address\n学校,长江路1号\n")
    with pytest.raises(InputError, match="p.csv: no coordinate columns"):
        read_layers(path)


def test_non_numeric_coordinates(tmp_path):
    path = write_csv(tmp_path / "p.csv", "name,lon,lat\nA,117.81,30.94\nB,东经117,30.9\n")
    with pytest.raises(InputError, match=r"p.csv, row 3: coordinates are not numbers"):
        read_layers(path, kind="facilities")


def test_wrong_geometry_type_for_kind(tmp_path):
    path = write_csv(tmp_path / "p.csv", "id,lon,lat\nB1,117.81,30.94\n")
    with pytest.raises(
        InputError,
        match="row 2, feature B1: Point geometry where buildings need Polygon or MultiPolygon",
    ):
        read_layers(path, kind="buildings")


def test_bad_boundary_codes(tmp_path):
    path = tmp_path / "b.geojson"
    gpd.GeoDataFrame(
        {"level": ["community"], "code": ["3407050010"], "name": ["翠湖社区"]},
        geometry=[footprint(0)],
        crs=4326,
    ).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="a community code must be 12 digits, got '3407050010'"):
        read_layers(path, kind="boundaries")


def test_many_problems_are_all_reported(tmp_path):
    lines = "".join(f"P{i},a,2.{i},48.8\n" for i in range(15))
    path = write_csv(tmp_path / "p.csv", "id,name,lon,lat\n" + lines)
    with pytest.raises(InputError) as err:
        read_layers(path, kind="facilities")
    assert len(err.value.problems) == 15 and "and 5 more problem(s)" in str(err.value)
    assert err.value.row == 2 and err.value.feature_id == "P0"


def test_inferred_kind_is_reported(tmp_path):
    path = tmp_path / "x.geojson"
    buildings_frame(1).to_file(path, driver="GeoJSON")
    result = read_layers(path)
    assert len(result.buildings) == 1
    assert any("read as buildings (inferred" in w for w in result.report.warnings)
    assert np.isfinite(result.buildings["floors"]).all()
