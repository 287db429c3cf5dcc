"""Household sources on import and ledgers per building, 小区 and address (CSV UTF-8/GBK, XLSX)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmgmt.core.crs import to_metric
from gridmgmt.io import InputError, read_layers
from gridmgmt.io.ledgers import read_household_ledger
from gridmgmt.io.tabular import detect_encoding

X0, Y0 = 117.81, 30.94
M_LON, M_LAT = 1 / 95_500, 1 / 111_000  # degrees per metre near 31° N


def box(x_m, y_m, w_m, h_m):
    """A rectangle ``w_m`` × ``h_m`` metres, ``x_m``/``y_m`` metres from the origin."""
    x, y = X0 + x_m * M_LON, Y0 + y_m * M_LAT
    return shapely.box(x, y, x + w_m * M_LON, y + h_m * M_LAT)


def layout(tmp_path):
    """A 小区 春晓花园 (three buildings), a campus, two buildings on no land use; one GeoPackage."""
    compounds = gpd.GeoDataFrame(
        {
            "id": ["C1", "C2"],
            "name": ["春晓花园", "东方大学"],
            "landuse": ["residential", "university"],
        },
        geometry=[box(0, 0, 200, 200), box(300, 0, 200, 200)],
        crs=4326,
    )
    buildings = gpd.GeoDataFrame(
        {
            "id": ["B1", "B2", "B3", "B4", "B5", "B6"],
            "type": ["住宅", None, None, None, None, "住宅"],
            "floors": [6, None, None, None, None, None],
            "height": [None, None, None, None, None, 60.0],
            "addr_street": [None, None, None, None, "学院路", "学院路"],
            "addr_housenumber": [None, None, None, None, "18号", "20"],
        },
        geometry=[
            box(10, 10, 50, 20),  # B1: 1,000 m², 6 floors
            box(100, 10, 25, 20),  # B2: untyped, 500 m² in the 小区
            box(150, 150, 5, 5),  # B3: untyped, 25 m² in the 小区: a guard room
            box(350, 10, 40, 20),  # B4: untyped on the campus
            box(600, 10, 40, 20),  # B5: untyped on no land use
            box(700, 10, 20, 20),  # B6: residential tower, height 60 m
        ],
        crs=4326,
    )
    path = tmp_path / "street.gpkg"
    compounds.to_file(path, layer="compounds", driver="GPKG")
    buildings.to_file(path, layer="buildings", driver="GPKG")
    return path


def areas(b):
    return pd.Series(to_metric(b).area.to_numpy(), index=b["building_id"])


def test_sources_floors_and_untyped_buildings_in_residential_land(tmp_path):
    result = read_layers(layout(tmp_path))
    b = result.buildings.set_index("building_id")
    assert b.loc["B1", "households_source"] == "levels"
    assert b.loc["B6", "households_source"] == "height" and b.loc["B6", "floors"] == 20
    assert b.loc["B2", "households_source"] == "default" and np.isnan(b.loc["B2", "floors"])
    assert b["households_confidence"].to_dict() == {
        "B1": "medium",
        "B2": "low",
        "B3": "low",
        "B4": "low",
        "B5": "low",
        "B6": "medium",
    }
    # B2: untyped in residential land: 500 m² x 6 floors x 0.9 / 90 ≈ 30 households
    assert b.loc["B2", "building_type"] == "residential" and 27 <= b.loc["B2", "households"] <= 33
    assert b.loc["B3", "households"] == 0  # ancillary
    assert b.loc["B4", "households"] == 0 and b.loc["B4", "building_type"] == "university"
    assert b.loc["B5", "households"] == 0 and b.loc["B5", "building_type"] == "other"
    assert b.loc["B6", "households"] == round(areas(result.buildings)["B6"] * 20 / 90)
    assert b.loc["B5", "addr_street"] == "学院路" and b.loc["B5", "addr_housenumber"] == "18号"
    report = result.report
    assert report.households_by_source == {"default": 4, "levels": 1, "height": 1}
    assert any("1 untyped building(s)" in w and "count 0 households" in w for w in report.warnings)
    assert "buildings by source: default 4, height 1, levels 1" in str(report)


def test_separate_land_use_file_types_untyped_buildings(tmp_path):
    path = layout(tmp_path)
    only_buildings = tmp_path / "b.geojson"
    gpd.read_file(path, layer="buildings").to_file(only_buildings, driver="GeoJSON")
    alone = read_layers(only_buildings, kind="buildings").buildings.set_index("building_id")
    assert alone.loc["B2", "households"] == 0
    land = tmp_path / "landuse.geojson"
    gpd.read_file(path, layer="compounds").to_file(land, driver="GeoJSON")
    placed = read_layers(only_buildings, kind="buildings", compounds=land).buildings
    placed = placed.set_index("building_id")
    assert placed.loc["B2", "households"] > 0 and placed.loc["B2", "compound_id"] == "C1"


def test_gbk_compound_ledger_split_by_floor_area(tmp_path):
    ledger = tmp_path / "物业台账.csv"
    ledger.write_bytes("小区名称,总户数\n春晓花园 ,120\n无名小区,40\n".encode("gbk"))
    read = read_household_ledger(ledger)
    assert (read.kind, read.encoding, len(read.rows)) == ("compound", "gb18030", 2)
    result = read_layers(layout(tmp_path), ledger=ledger)
    b = result.buildings.set_index("building_id")
    inside = b.loc[["B1", "B2", "B3"]]
    assert inside["households"].sum() == 120
    assert (inside["households_source"] == "compound_ledger").all()
    assert (inside["households_confidence"] == "high").all()
    assert result.report.households_from_ledger == 3 and result.report.households_estimated == 3
    # by floor area: B1 1,000 m² x 6 floors, B2 500 m² x 6 floors; the guard room B3 gets none
    assert b.loc["B3", "households"] == 0
    assert 78 <= b.loc["B1", "households"] <= 82 and b.loc["B1", "population"] > 0
    assert any(
        "row 3 (无名小区): no 小区 with this name or id" in w for w in result.report.warnings
    )


def test_compound_ledger_matching_nothing_names_the_file_and_what_to_do(tmp_path):
    ledger = tmp_path / "台账.csv"
    ledger.write_text("小区,户数\n不存在花园,300\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"台账.csv: none of the 1 小区 .* Import the 小区 outlines"
    ):
        read_layers(layout(tmp_path), ledger=ledger)


def test_xlsx_address_ledger_normalised_and_unmatched_rows_listed(tmp_path):
    ledger = tmp_path / "门牌.xlsx"
    pd.DataFrame(
        {
            "路名": ["学院路", "学院路 ", "学院路"],
            "门牌号": ["１８号", "20 号", "99号"],
            "户数": [12, 40, 5],
        }
    ).to_excel(ledger, index=False)
    read = read_household_ledger(ledger)
    assert read.kind == "address" and read.encoding == "xlsx"
    result = read_layers(layout(tmp_path), ledger=ledger)
    b = result.buildings.set_index("building_id")
    assert b.loc["B5", "households"] == 12 and b.loc["B6", "households"] == 40
    assert b.loc["B5", "households_source"] == "address_ledger"
    assert any(
        "1 row(s) match no building: row 4 (学院路 99号)" in w for w in result.report.warnings
    )


def test_one_row_per_household_address_ledger(tmp_path):
    ledger = tmp_path / "户籍.csv"
    ledger.write_text("姓名,地址\n张三,学院路18号\n李四,学院路１８号\n王五,学院路20号\n", "utf-8")
    b = read_layers(layout(tmp_path), ledger=ledger).buildings.set_index("building_id")
    assert b.loc["B5", "households"] == 2 and b.loc["B6", "households"] == 1


def test_building_ledger_with_implausible_count_is_flagged(tmp_path):
    ledger = tmp_path / "楼栋.csv"
    ledger.write_bytes("编号,户数\nB1,900\n".encode("gbk"))
    result = read_layers(layout(tmp_path), ledger=ledger)
    assert result.buildings.set_index("building_id").loc["B1", "households_source"] == "ledger"
    assert any(
        "implausible households: B1: 15.0" in w and "households per 100 m²" in w
        for w in result.report.warnings
    )


def test_ledger_kinds_encodings_and_bad_files(tmp_path):
    assert detect_encoding("小区,户数".encode("gbk")) == "gb18030"
    assert detect_encoding("小区,户数".encode("utf-8-sig")) == "utf-8"
    assert detect_encoding("小区\t户数".encode("utf-16")) == "utf-16"
    tsv = tmp_path / "unicode.txt"
    tsv.write_bytes("楼栋编号\t户数\nB1\t3\n".encode("utf-16"))
    got = read_household_ledger(tsv)
    assert got.kind == "building" and got.rows["building_id"].tolist() == ["B1"]
    nokey = tmp_path / "nokey.csv"
    nokey.write_text("名字,户数\na,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="a ledger needs a key column"):
        read_household_ledger(nokey)
    nohh = tmp_path / "nohh.csv"
    nohh.write_text("小区名称,面积\na,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="a compound ledger needs a households column"):
        read_household_ledger(nohh)
    dup = tmp_path / "dup.csv"
    dup.write_text("小区名称,总户数\na,1\na,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate 小区 in the ledger: a"):
        read_household_ledger(dup)
    bad = tmp_path / "bad.csv"
    bad.write_text("小区名称,总户数\na,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv, row 2, feature a: households is not a number"):
        read_household_ledger(bad)


# ----------------------------------------------------------------- real data
def test_real_zijingang_floors_from_levels_and_height_sources_reported(realdata):
    result = read_layers(realdata / "osm" / "hz_zijingang.osm")
    b = result.buildings
    tagged = b[b["households_source"] == "levels"]
    assert len(tagged) == 14 and (tagged["households_confidence"] == "medium").all()
    assert result.report.households_by_source == {"default": 141, "levels": 14}
    # every estimate in the extract rests on defaults: the report says so
    assert result.report.households_default_share > 0.9
    assert any("are default estimates" in w for w in result.report.warnings)


def test_real_zijingang_height_alone_gives_floors(realdata, tmp_path):
    import pyogrio

    from gridmgmt.io.osm import parse_other_tags

    polys = pyogrio.read_dataframe(realdata / "osm" / "hz_zijingang.osm", layer="multipolygons")
    tags = [parse_other_tags(t) for t in polys["other_tags"]]
    polys["height"] = [float(t["height"]) if "height" in t else np.nan for t in tags]
    with_height = polys[polys["building"].notna() & polys["height"].notna()]
    frame = gpd.GeoDataFrame(
        {"id": with_height["osm_way_id"].to_numpy(), "height": with_height["height"].to_numpy()},
        geometry=with_height.geometry.to_numpy(),
        crs=4326,
    )
    path = tmp_path / "heights.geojson"
    frame.to_file(path, driver="GeoJSON")
    b = read_layers(path, kind="buildings").buildings
    assert len(b) == 12 and (b["households_source"] == "height").all()
    assert b["floors"].tolist() == [max(1, round(h / 3)) for h in frame["height"]]


def huangpu(realdata, tmp_path):
    """The Huangpu tiles with pieces of one building (or land-use area) merged by id."""
    with warnings.catch_warnings():  # tile pieces share ids: GDAL says so
        warnings.simplefilter("ignore")
        pieces = gpd.read_file(realdata / "buildings" / "sh_huangpu_buildings.geojson")
        land = gpd.read_file(realdata / "landuse" / "sh_huangpu_landuse.geojson")
    b = pieces[pieces["kind"] == "building"].dissolve("id", aggfunc="first").reset_index()
    b = b.drop(columns=["kind"])
    land = land.dissolve("id", aggfunc="first").reset_index()
    paths = tmp_path / "huangpu.geojson", tmp_path / "huangpu_landuse.geojson"
    b.to_file(paths[0], driver="GeoJSON")
    land.to_file(paths[1], driver="GeoJSON")
    return paths


def test_real_huangpu_untyped_buildings_in_residential_land_count(realdata, tmp_path):
    buildings, land = huangpu(realdata, tmp_path)
    alone = read_layers(buildings, kind="buildings")
    placed = read_layers(buildings, kind="buildings", compounds=land)
    a, p = alone.buildings, placed.buildings
    assert (a["households_source"] == "height").sum() > 500  # heights on ~580 buildings
    newly = (a["households"] == 0) & (p["households"] > 0)
    assert newly.sum() >= 30  # untyped buildings on residential land now hold households
    assert p["households"].sum() > a["households"].sum()
    compounds = read_layers(land, kind="compounds").compounds
    parks = compounds[compounds["landuse"] == "park"]
    assert len(parks) and (parks["compound_kind"] == "unit").all()  # kind=park is no 小区
    assert any("count 0 households" in w for w in placed.report.warnings)
