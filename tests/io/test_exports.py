"""Every export format read back: rows, columns, Chinese text, CRS, empty tables, bad input."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook

from gridmgmt.io.exports import export_tables, format_of

LABELS = {"name": "名称", "households": "户数", "code": "网格编码", "rank": "排名"}


def label(c):
    return LABELS.get(c, c)


@pytest.fixture
def grids():
    return gpd.GeoDataFrame(
        {
            "code": ["340705001001001", "340705001001002", "340705001001003"],
            "name": ["翠湖一网格", "翠湖二网格", "长江·三"],
            "households": [300, 420, 0],
            "far_above_neighbours": [False, True, False],
            "created_at": pd.to_datetime(
                ["2026-11-01T02:00:00Z", "2026-11-02T16:30:00Z", "2026-11-03T00:00:00Z"]
            ),
        },
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)],
        crs=3857,
    )


@pytest.fixture
def kpi():
    frame = pd.DataFrame({"rank": [1, 2], "score": [88.5, 70.0]}, index=["环卫所", "交警大队"])
    frame.index.name = "department"
    return frame


def test_geopackage_all_layers(tmp_path, grids, kpi):
    path = export_tables({"grids": grids, "kpi": kpi}, tmp_path / "out.gpkg", chunk_size=2)
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {"grids", "kpi"}
    back = gpd.read_file(path, layer="grids")
    assert back["name"].tolist() == grids["name"].tolist()
    assert back.crs.to_epsg() == 4326
    assert back.geometry.iloc[1].equals_exact(grids.to_crs(4326).geometry.iloc[1], 1e-9)
    assert str(back["created_at"].iloc[1])[:16] == "2026-11-03 00:30"  # Asia/Shanghai
    k = pyogrio.read_dataframe(path, layer="kpi")
    assert k["department"].tolist() == ["环卫所", "交警大队"]


def test_geojson_streamed_is_valid_rfc7946(tmp_path, grids):
    path = export_tables({"grids": grids}, tmp_path / "g.geojson", chunk_size=2)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 3
    f = doc["features"][2]
    assert f["properties"]["name"] == "长江·三" and f["properties"]["far_above_neighbours"] is False
    assert f["geometry"]["type"] == "Polygon"
    assert abs(f["geometry"]["coordinates"][0][0][0]) < 180  # degrees, not metres
    back = gpd.read_file(path)
    assert back["households"].tolist() == [300, 420, 0]


def test_shapefile_zip_with_cpg_and_field_map(tmp_path, grids):
    path = export_tables({"grids": grids}, tmp_path / "g.zip", "shp", labels=label)
    names = zipfile.ZipFile(path).namelist()
    assert {"grids.shp", "grids.dbf", "grids.shx", "grids.prj", "grids.cpg"} <= set(names)
    assert zipfile.ZipFile(path).read("grids.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
    back = gpd.read_file(f"zip://{path}!grids.shp")
    assert back["name"].tolist() == grids["name"].tolist()
    assert "far_above_" in back.columns  # cut to 10 characters
    fields = zipfile.ZipFile(path).read("grids_fields.csv").decode("utf-8-sig")
    assert "far_above_,far_above_neighbours" in fields and "households,households,户数" in fields


def test_csv_has_bom_and_chinese_headers(tmp_path, grids):
    path = export_tables({"grids": grids}, tmp_path / "g.csv", labels=label, chunk_size=1)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["网格编码", "名称", "户数"] and "geometry" not in rows[0]
    assert rows[3][1] == "长江·三" and len(rows) == 4


def test_xlsx_one_sheet_per_table_frozen_header(tmp_path, grids, kpi):
    path = export_tables({"grids": grids, "kpi": kpi}, tmp_path / "r.xlsx", labels=label)
    wb = load_workbook(path)
    assert wb.sheetnames == ["grids", "kpi"]
    ws = wb["grids"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]][:3] == ["网格编码", "名称", "户数"]
    assert ws["B4"].value == "长江·三" and ws.max_row == 4
    assert wb["kpi"]["A2"].value == "环卫所" and wb["kpi"]["B1"].value == "排名"


def test_empty_tables_give_valid_empty_files(tmp_path, grids):
    empty = grids.iloc[:0]
    for name in ("e.gpkg", "e.geojson", "e.csv", "e.xlsx"):
        path = export_tables({"grids": empty}, tmp_path / name, labels=label)
        if name.endswith(".csv"):
            assert path.read_text(encoding="utf-8-sig").splitlines()[0].startswith("网格编码")
        elif name.endswith(".xlsx"):
            assert load_workbook(path)["grids"].max_row == 1
        else:
            assert len(gpd.read_file(path)) == 0
    path = export_tables({"grids": empty}, tmp_path / "e.zip", "shp")
    assert len(gpd.read_file(f"zip://{path}!grids.shp")) == 0


def test_bad_input(tmp_path, grids, kpi):
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        export_tables({"grids": grids}, tmp_path / "x.pdf", "pdf")
    with pytest.raises(ValueError, match="cannot tell the format"):
        format_of(tmp_path / "x.txt")
    with pytest.raises(ValueError, match="holds one table"):
        export_tables({"a": grids, "b": grids}, tmp_path / "x.csv")
    with pytest.raises(ValueError, match="kpi has no geometry"):
        export_tables({"kpi": kpi}, tmp_path / "x.geojson")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_aware_times_in_csv_are_shanghai_wall_time(tmp_path):
    frame = pd.DataFrame({"at": [datetime(2026, 11, 1, 16, 0, tzinfo=UTC)]})
    path = export_tables({"t": frame}, tmp_path / "t.csv")
    assert "2026-11-02 00:00:00" in path.read_text(encoding="utf-8-sig")
