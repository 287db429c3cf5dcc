"""`gridmgmt import`: real data in, bad data refused with the database unchanged (SQLite and PostGIS)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.store.repository import Store


def invoke(args, url):
    return CliRunner().invoke(
        main, args, env={"GRIDMGMT_DATABASE_URL": url}, catch_exceptions=False
    )


def test_import_real_osm_prints_counts(tmp_path, database_url, realdata):
    osm = realdata / "osm" / "bj_cau_xueyuanlu.osm"
    result = invoke(["import", "osm", str(osm), "--workdir", str(tmp_path)], database_url)
    assert result.exit_code == 0, result.output
    assert "buildings with estimated households: 257" in result.output
    assert "written: 18 compounds, 257 buildings, 302 roads, 32 facilities" in result.output
    counts = Store(database_url).counts()
    assert counts["buildings"] == 257 and counts["households"] > 2000
    again = invoke(["import", "osm", str(osm), "--workdir", str(tmp_path)], database_url)
    assert again.exit_code == 1 and "already stored" in again.output and "--replace" in again.output
    assert Store(database_url).counts() == counts
    replaced = invoke(
        ["import", "osm", str(osm), "--replace", "--workdir", str(tmp_path)], database_url
    )
    assert replaced.exit_code == 0 and Store(database_url).counts() == counts


def _bad_files(tmp_path):
    good = gpd.GeoDataFrame(
        {"id": ["B1", "B2"], "households": [30, 40]},
        geometry=[
            shapely.box(117.81, 30.94, 117.8104, 30.9402),
            shapely.box(117.812, 30.94, 117.8124, 30.9402),
        ],
        crs=4326,
    )
    files = {}
    neg = good.copy()
    neg.loc[1, "households"] = -3
    neg.to_file(tmp_path / "neg.geojson", driver="GeoJSON")
    files["neg.geojson"] = ("buildings", "row 2, feature B2: households is negative (-3)")
    dup = good.copy()
    dup["id"] = ["B1", "B1"]
    dup.to_file(tmp_path / "dup.geojson", driver="GeoJSON")
    files["dup.geojson"] = ("buildings", "duplicate id 'B1' (rows 1, 2)")
    good.to_file(tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    files["noprj.shp"] = ("buildings", "noprj.shp: has no coordinate reference system")
    (tmp_path / "swap.csv").write_text("name,lat,lon\n学校,117.81,30.94\n", encoding="utf-8")
    files["swap.csv"] = ("facilities", "swap.csv, row 2: latitude/longitude look swapped")
    (tmp_path / "paris.csv").write_text("name,lon,lat\nLouvre,2.33,48.86\n", encoding="utf-8")
    files["paris.csv"] = ("facilities", "paris.csv, row 2: coordinates outside China's extent")
    bowtie = shapely.Polygon(
        [(117.81, 30.94), (117.811, 30.941), (117.811, 30.94), (117.81, 30.941)]
    )
    gpd.GeoDataFrame({"id": ["X"]}, geometry=[bowtie], crs=4326).to_file(
        tmp_path / "bowtie.geojson", driver="GeoJSON"
    )
    files["bowtie.geojson"] = ("buildings", "feature X: invalid geometry (Self-intersection")
    (tmp_path / "enc.csv").write_bytes(
        b"name,lon,lat\n" + bytes([0x81, 0x20, 0xFF, 0xFE, 0x0A]) * 3
    )
    files["enc.csv"] = ("facilities", "enc.csv: unreadable encoding")
    (tmp_path / "plan.dwg").write_bytes(b"AC1015")
    files["plan.dwg"] = ("buildings", "unsupported format '.dwg'")
    return files


@pytest.mark.parametrize(
    "name",
    [
        "neg.geojson",
        "dup.geojson",
        "noprj.shp",
        "swap.csv",
        "paris.csv",
        "bowtie.geojson",
        "enc.csv",
        "plan.dwg",
    ],
)
def test_bad_input_refused_and_database_unchanged(tmp_path, database_url, name):
    files = _bad_files(tmp_path)
    kind, message = files[name]
    seed = gpd.GeoDataFrame(
        {"id": ["S1"]}, geometry=[shapely.box(117.80, 30.93, 117.8004, 30.9302)], crs=4326
    )
    seed.to_file(tmp_path / "seed.geojson", driver="GeoJSON")
    assert (
        invoke(
            ["import", "buildings", str(tmp_path / "seed.geojson"), "--workdir", str(tmp_path)],
            database_url,
        ).exit_code
        == 0
    )
    store = Store(database_url)
    before = store.counts()
    with store.engine.connect() as conn:
        runs_before = conn.exec_driver_sql("SELECT count(*) FROM import_runs").scalar()
    args = ["import", kind, str(tmp_path / name), "--workdir", str(tmp_path)]
    if name == "bowtie.geojson":
        args.append("--strict")
    result = invoke(args, database_url)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert Store(database_url).counts() == before
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM import_runs").scalar() == runs_before


def test_import_summary_lists_repairs(tmp_path):
    files = _bad_files(tmp_path)
    assert files
    url = f"sqlite:///{tmp_path / 'g.db'}"
    result = invoke(
        ["import", "buildings", str(tmp_path / "bowtie.geojson"), "--workdir", str(tmp_path)], url
    )
    assert result.exit_code == 0, result.output
    assert "repaired buildings X: Self-intersection" in result.output


def test_import_boundaries_with_the_statistics_bureaus_real_codes(tmp_path, database_url, realdata):
    """The statistics bureau's table writes every level in 12 digits (county/town/village):
    a 街道 office's outlines carrying those codes import as 区 6, 街道 9, 社区 12 digits."""
    import pandas as pd

    table = pd.read_csv(realdata / "codes" / "adcode2016_shequ.csv", dtype=str)
    street = table[table["name"] == "翠苑街道"].iloc[0]
    rows = pd.concat(
        [
            table[table["code"] == street["parent"]],
            table[table["code"] == street["code"]],
            table[table["parent"] == street["code"]],
        ]
    )[["code", "parent", "name", "level"]].reset_index(drop=True)
    assert set(rows["level"]) == {"county", "town", "village"} and len(rows) > 5
    squares = [shapely.box(120.10, 30.26, 120.16, 30.30)] * 2 + [
        shapely.box(120.10 + 0.01 * k, 30.26, 120.11 + 0.01 * k, 30.27)
        for k in range(len(rows) - 2)
    ]
    path = tmp_path / "cuiyuan.geojson"
    gpd.GeoDataFrame(rows, geometry=squares, crs=4326).to_file(path, driver="GeoJSON")

    result = invoke(["import", "boundaries", str(path), "--workdir", str(tmp_path)], database_url)

    assert result.exit_code == 0, result.output
    store = Store(database_url)
    streets = store.admin_areas("street")
    assert streets["code"].tolist() == [street["code"][:9]]  # 330106005
    assert streets["parent_code"].tolist() == [street["parent"][:6]]  # 330106 西湖区
    communities = store.admin_areas("community").sort_values("code")
    villages = rows[rows["level"] == "village"].sort_values("code")
    assert communities["code"].tolist() == villages["code"].tolist()  # 12 digits, as published
    assert set(communities["parent_code"]) == {street["code"][:9]}
    assert store.community(villages["name"].iloc[0])["code"] == villages["code"].iloc[0]


def test_boundary_levels_outside_the_vocabulary_are_refused(tmp_path, database_url):
    path = tmp_path / "b.geojson"
    gpd.GeoDataFrame(
        {"code": ["330106005001"], "name": ["翠苑一区社区"], "level": ["province"]},
        geometry=[shapely.box(120.10, 30.26, 120.11, 30.27)],
        crs=4326,
    ).to_file(path, driver="GeoJSON")

    result = invoke(["import", "boundaries", str(path), "--workdir", str(tmp_path)], database_url)

    assert result.exit_code == 1
    assert "unknown level 'province'" in result.output and "county/town/village" in result.output
