"""The gridmgmt command: workdir handling, database, accounts, error exits."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from gridmgmt.cli import main


def run(*args, env=None):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_workdir_option_on_group_and_command(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("--workdir", str(a), "status").exit_code == 0
    assert run("status", "--workdir", str(b)).exit_code == 0
    assert (a / "gridmgmt.db").exists() and (b / "gridmgmt.db").exists()


def test_gridmgmt_home_env_is_the_default_instance(tmp_path):
    home = tmp_path / "home"
    result = run("status", env={"GRIDMGMT_HOME": str(home), "GRIDMGMT_DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert f"instance: {home}" in result.output
    assert (home / "gridmgmt.db").exists()


def test_db_upgrade_and_current(tmp_path):
    from gridmgmt.store.engine import head_revision

    head = head_revision()  # the newest migration, whichever feature added it
    result = run("db", "upgrade", "--workdir", str(tmp_path))
    assert result.exit_code == 0 and f"at revision {head}" in result.output
    assert (
        f"current: {head}  head: {head}" in run("db", "current", "--workdir", str(tmp_path)).output
    )


def test_users_add_list_and_duplicate(tmp_path):
    w = str(tmp_path)
    ok = run(
        "users",
        "add",
        "li",
        "--role",
        "worker",
        "--name",
        "李四",
        "--grid",
        "340705001001001",
        "--password",
        "pass-word-1",
        "--workdir",
        w,
    )
    assert ok.exit_code == 0, ok.output
    listing = run("users", "list", "--workdir", w).output
    assert "li" in listing and "李四" in listing and "340705001001001" in listing
    assert "pass-word-1" not in listing
    dup = run("users", "add", "li", "--role", "worker", "--password", "pass-word-1", "--workdir", w)
    assert dup.exit_code == 1 and "exists already" in dup.output
    short = run("users", "add", "wang", "--role", "analyst", "--password", "short", "--workdir", w)
    assert short.exit_code == 1 and "at least 8" in short.output


def test_postgis_url_from_environment(tmp_path, postgis_url):
    result = run(
        "db", "upgrade", "--workdir", str(tmp_path), env={"GRIDMGMT_DATABASE_URL": postgis_url}
    )
    assert result.exit_code == 0, result.output
    from gridmgmt.store.engine import head_revision

    assert "postgresql+psycopg://" in result.output
    assert f"at revision {head_revision()}" in result.output
    assert not (tmp_path / "gridmgmt.db").exists()


@pytest.mark.slow
def test_demo_no_serve_builds_database_and_map(tmp_path):
    result = run("demo", "--no-serve", "--workdir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "gridmgmt.db").exists()
    html = (tmp_path / "maps" / "demo.html").read_text(encoding="utf-8")
    assert "幸福街道" in html and "cdn.jsdelivr" not in html and "leaflet" in html.lower()
    assert "demo accounts (password gridmgmt-demo)" in result.output
    assert "worker (worker)" in result.output
    again = run("demo", "--no-serve", "--workdir", str(tmp_path))
    assert again.exit_code == 0 and "reusing it" in again.output
    status = run("status", "--workdir", str(tmp_path)).output
    assert re.search(r"users\s+8\n", status) and re.search(r"households\s+2\d,\d{3}\n", status)


def test_partition_file_to_geopackage(tmp_path, realdata):
    import pyogrio

    out = tmp_path / "grids.gpkg"
    osm = realdata / "osm" / "bj_cau_xueyuanlu.osm"
    result = run(
        "partition",
        str(osm),
        "--prefix",
        "110108001001",
        "--out",
        str(out),
        "--workdir",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "in band 100.0%" in result.output
    grids = pyogrio.read_dataframe(out, layer="grids")
    buildings = pyogrio.read_dataframe(out, layer="buildings")
    assert list(grids.columns) == [
        "code",
        "kind",
        "households",
        "n_buildings",
        "flag",
        "crossed_m",
        "crossed_why",
        "compact_why",
        "default_share",
        "geometry",
    ]
    assert "from default estimates" in result.output  # OSM gives no household counts
    assert set(buildings["households_source"]) <= {"default", "levels", "height"}
    assert grids["code"].str.startswith("110108001001").all()
    assert set(buildings["grid_code"]) <= set(grids["code"]) and len(buildings) == 257
    assert buildings.groupby("grid_code")["households"].sum().sum() == grids["households"].sum()


def test_partition_bad_input_exits_nonzero(tmp_path):
    result = run("partition", "--out", str(tmp_path / "x.gpkg"), "--workdir", str(tmp_path))
    assert result.exit_code == 2 and "give BUILDINGS and --out" in result.output
    bad = run(
        "partition",
        str(tmp_path / "none.osm"),
        "--out",
        str(tmp_path / "x.gpkg"),
        "--workdir",
        str(tmp_path),
    )
    assert bad.exit_code == 1 and "file not found" in bad.output
    bounds = run(
        "partition",
        str(tmp_path / "none.osm"),
        "--min",
        "600",
        "--out",
        "x.gpkg",
        "--workdir",
        str(tmp_path),
    )
    assert bounds.exit_code == 1


@pytest.mark.slow
def test_partition_stored_community_writes_new_version(tmp_path):
    assert run("demo", "--no-serve", "--workdir", str(tmp_path)).exit_code == 0
    result = run("partition", "--community", "长江社区", "--seed", "1", "--workdir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "长江社区 (340705001003): grid version 2" in result.output
    unknown = run("partition", "--community", "火星社区", "--workdir", str(tmp_path))
    assert unknown.exit_code == 1 and "no 社区 named '火星社区'" in unknown.output


@pytest.mark.slow
def test_assign_file_and_stored(tmp_path):
    import pandas as pd
    import pyogrio

    from gridmgmt.core import coords

    assert run("demo", "--no-serve", "--workdir", str(tmp_path)).exit_code == 0
    from gridmgmt.store.repository import Store

    store = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}")
    grids = store.current_grids()
    grids[["code", "kind", "households", "geometry"]].to_file(
        tmp_path / "grids.gpkg", layer="grids", driver="GPKG"
    )
    inside = grids.geometry.iloc[0].representative_point()
    glon, glat = coords.wgs84_to_gcj02(inside.x, inside.y)
    (tmp_path / "hotline.csv").write_text(
        f"编号,名称,经度,纬度\nH1,井盖破损,{float(glon)},{float(glat)}\nH2,远处,118.5,31.5\n",
        encoding="utf-8",
    )
    out = tmp_path / "placed.csv"
    result = run(
        "assign",
        str(tmp_path / "hotline.csv"),
        "--grids",
        str(tmp_path / "grids.gpkg"),
        "--coords",
        "gcj02",
        "--out",
        str(out),
        "--workdir",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "1 of 2 assigned; 1 unassigned" in result.output
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"grid_code": str})
    assert table["grid_code"].astype(str).tolist()[0] == grids["code"].iloc[0]
    assert table["reason"].tolist()[1] == "outside_all_grids"
    gpkg = tmp_path / "placed.gpkg"
    assert (
        run(
            "assign",
            str(tmp_path / "hotline.csv"),
            "--grids",
            str(tmp_path / "grids.gpkg"),
            "--coords",
            "gcj02",
            "--out",
            str(gpkg),
            "--workdir",
            str(tmp_path),
        ).exit_code
        == 0
    )
    placed = pyogrio.read_dataframe(gpkg)
    assert placed["名称"].tolist() == ["井盖破损", "远处"]  # the input's own columns, kept
    assert list(placed.columns[:4]) == ["编号", "名称", "经度", "纬度"]
    stored = run("assign", "--stored", "--workdir", str(tmp_path))
    assert stored.exit_code == 0 and "buildings: 666 placed in a grid" in stored.output
    assert run("assign", "--workdir", str(tmp_path)).exit_code == 2


@pytest.mark.slow
def test_incidents_import_and_overdue(tmp_path):
    assert run("demo", "--no-serve", "--workdir", str(tmp_path)).exit_code == 0
    from gridmgmt.store.repository import Store

    grids = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}").current_grids()
    p = grids.geometry.iloc[0].representative_point()
    csv = tmp_path / "12345.csv"
    csv.write_text(
        "工单号,类别编码,问题描述,经度,纬度,上报时间\n"
        f"A1,15003,共享单车堆放,{p.x},{p.y},2026-01-05 09:00\n"
        "A2,11001,垃圾,118.9,31.9,2026-01-05 10:00\n",
        encoding="utf-8",
    )
    store = Store(f"sqlite:///{tmp_path / 'gridmgmt.db'}")
    before = len(store.incidents())
    assert before > 100  # the demo's month of incidents
    result = run("incidents", "import", str(csv), "--workdir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2 incident(s) recorded; 1 outside every grid" in result.output
    again = run("incidents", "import", str(csv), "--workdir", str(tmp_path))
    assert again.exit_code == 0
    assert len(store.incidents()) == before + 2  # work-order numbers are keys
    overdue = run("incidents", "overdue", "--workdir", str(tmp_path))
    assert "共享单车堆放" in overdue.output and "register" in overdue.output
    kpi = run(
        "incidents",
        "kpi",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "--by",
        "community",
        "--workdir",
        str(tmp_path),
    )
    assert kpi.exit_code == 0 and "上报数" in kpi.output and "(unassigned)" in kpi.output
    bad_date = run(
        "incidents", "kpi", "--from", "yesterday", "--to", "2026-01-31", "--workdir", str(tmp_path)
    )
    assert bad_date.exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "类别编码,问题描述,经度,纬度\n99999,x,117.8,30.9\n11001,,117.8,30.9\n", encoding="utf-8"
    )
    failed = run("incidents", "import", str(bad), "--workdir", str(tmp_path))
    assert failed.exit_code == 1
    assert (
        "bad.csv, row 2: unknown category '99999'" in failed.output
        and "row 3: description is empty" in failed.output
    )
    assert len(store.incidents()) == before + 2


def test_partition_file_with_a_compound_ledger(tmp_path):
    """A 小区 ledger given to partition sets that 小区's households before the grids are drawn."""
    import geopandas as gpd
    import pyogrio
    import shapely

    deg = 1 / 111_000  # about a metre, in degrees (good enough this far south)
    x0, y0 = 117.81, 30.94

    def box(x, y, w, h):
        return shapely.box(x0 + x * deg, y0 + y * deg, x0 + (x + w) * deg, y0 + (y + h) * deg)

    compounds = gpd.GeoDataFrame(
        {"id": ["C1"], "name": ["春晓花园"], "landuse": ["residential"]},
        geometry=[box(0, 0, 300, 300)],
        crs=4326,
    )
    buildings = gpd.GeoDataFrame(
        {"id": [f"B{i}" for i in range(6)], "type": ["住宅"] * 6},
        geometry=[box(20 + 90 * (i % 3), 20 + 140 * (i // 3), 50, 30) for i in range(6)],
        crs=4326,
    )
    street = tmp_path / "street.gpkg"
    compounds.to_file(street, layer="compounds", driver="GPKG")
    buildings.to_file(street, layer="buildings", driver="GPKG")
    ledger = tmp_path / "ledger.csv"
    ledger.write_bytes("小区名称,总户数\n春晓花园,360\n".encode("gbk"))
    out = tmp_path / "grids.gpkg"
    result = run("partition", str(street), "--ledger", str(ledger), "--out", str(out))
    assert result.exit_code == 0, result.output
    written = pyogrio.read_dataframe(out, layer="buildings")
    assert (written["households_source"] == "compound_ledger").all()
    assert written["households"].sum() == 360
    grids = pyogrio.read_dataframe(out, layer="grids")
    assert grids["households"].sum() == 360 and (grids["default_share"] == 0).all()
