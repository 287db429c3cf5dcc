"""`gridmgmt assign POINTS --grids G --out OUT`: the input's columns kept, three added, edges within 1 cm."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.core.assignment import EDGE_TOLERANCE_M, OUTSIDE, assign
from gridmgmt.domain.file_assignment import assign_file
from gridmgmt.io import InputError
from tests.factories import CELL as D
from tests.factories import HOLED_GRID_CODES, X0, Y0, holed_grids

A, B, C, E = HOLED_GRID_CODES
#: one centimetre in degrees of longitude near Y0 (cos 30.94° x 111.32 km)
CM_LON = 0.01 / (111_320 * np.cos(np.radians(Y0)))


def points() -> gpd.GeoDataFrame:
    """Inside A, on the outer west edge a hair outside, 5 mm outside, 2 cm outside, no location."""
    geoms = [
        shapely.Point(X0 + 0.5 * D, Y0 + 0.5 * D),
        shapely.Point(X0 - 1e-12, Y0 + 0.5 * D),  # on the outer edge after rounding: 0.0 m
        shapely.Point(X0 - 0.5 * CM_LON, Y0 + 1.5 * D),  # 5 mm west of C
        shapely.Point(X0 - 2 * CM_LON, Y0 + 0.5 * D),  # 2 cm west of A
        shapely.Point(X0 + D, Y0 - 1e-12),  # below the corner shared by A and B: A (smaller code)
        None,
    ]
    return gpd.GeoDataFrame(
        {
            "pid": np.arange(6, dtype=np.int64) + 100,
            "kind": ["fire", "noise", "fire", "litter", "noise", "fire"],
            "名称": ["一", "二", "三", "四", "五", "六"],
        },
        geometry=geoms,
        crs=4326,
    )


def codes(series) -> list:
    """Grid codes as read back, None where there is none (formats differ: None or NaN)."""
    return [v if isinstance(v, str) else None for v in series]


def write_inputs(tmp_path):
    holed_grids().to_file(tmp_path / "grids.gpkg", layer="grids", driver="GPKG")
    pts = points()
    pts.to_file(tmp_path / "points.gpkg", layer="points", driver="GPKG")
    return pts


def test_points_within_a_centimetre_go_to_the_nearest_grid():
    placed = assign(points(), holed_grids())
    assert placed["grid_code"].tolist() == [A, A, C, None, A, None]
    assert placed["reason"].tolist() == [None, None, None, OUTSIDE, None, "missing_location"]
    d = placed["distance_m"].to_numpy()
    assert d[0] == 0 and d[1] < 1e-6 and 0.004 < d[2] < 0.006 <= EDGE_TOLERANCE_M < d[3] < 0.03


def test_assign_file_keeps_every_input_column_and_adds_three(tmp_path):
    pts = write_inputs(tmp_path)
    summary = assign_file(tmp_path / "points.gpkg", tmp_path / "grids.gpkg", tmp_path / "o.gpkg")
    assert summary == {"total": 6, "assigned": 4, "unassigned": 2}
    out = pyogrio.read_dataframe(tmp_path / "o.gpkg")
    assert list(out.columns) == [
        "pid",
        "kind",
        "名称",
        "grid_code",
        "reason",
        "distance_m",
        "geometry",
    ]
    assert (
        out["pid"].tolist() == pts["pid"].tolist() and out["名称"].tolist() == pts["名称"].tolist()
    )
    assert codes(out["grid_code"])[:5] == [A, A, C, None, A]
    assert out["reason"].tolist()[3] == OUTSIDE
    assert shapely.equals_exact(out.geometry.values[:5], pts.geometry.values[:5], 0).all()


def test_geoparquet_in_and_out(tmp_path):
    write_inputs(tmp_path)
    points().to_parquet(tmp_path / "points.parquet")
    assign_file(tmp_path / "points.parquet", tmp_path / "grids.gpkg", tmp_path / "o.parquet")
    out = gpd.read_parquet(tmp_path / "o.parquet")
    assert out.crs.to_epsg() == 4326
    assert list(out.columns) == [
        "pid",
        "kind",
        "名称",
        "grid_code",
        "reason",
        "distance_m",
        "geometry",
    ]
    assert codes(out["grid_code"])[:5] == [A, A, C, None, A]


def test_geoparquet_without_crs_is_refused_unless_told(tmp_path):
    write_inputs(tmp_path)
    path = tmp_path / "nocrs.parquet"
    points().set_crs(None, allow_override=True).to_parquet(path)
    with pytest.raises(InputError, match="--crs") as err:
        assign_file(path, tmp_path / "grids.gpkg", tmp_path / "o.gpkg")
    assert "nocrs.parquet" in str(err.value) and not (tmp_path / "o.gpkg").exists()
    summary = assign_file(path, tmp_path / "grids.gpkg", tmp_path / "o.gpkg", crs="EPSG:4326")
    assert summary["assigned"] == 4


@pytest.mark.parametrize(
    ("objects", "out", "says"),
    [
        ("missing.gpkg", "o.gpkg", "missing.gpkg: file not found"),
        ("points.xyz", "o.gpkg", "points.xyz: unsupported format '.xyz'"),
        ("points.gpkg", "o.xyz", "o.xyz: unknown output format '.xyz'"),
        ("broken.gpkg", "o.gpkg", "broken.gpkg: not a readable geodata file"),
        ("nocrs.gpkg", "o.gpkg", "nocrs.gpkg: has no coordinate reference system"),
    ],
)
def test_bad_input_names_the_file(tmp_path, objects, out, says):
    write_inputs(tmp_path)
    (tmp_path / "points.xyz").write_text("x")
    (tmp_path / "broken.gpkg").write_text("not a geopackage")
    with pytest.warns(UserWarning, match="crs"):
        pyogrio.write_dataframe(
            points().set_crs(None, allow_override=True).iloc[:2], tmp_path / "nocrs.gpkg"
        )
    with pytest.raises(InputError) as err:
        assign_file(tmp_path / objects, tmp_path / "grids.gpkg", tmp_path / out)
    assert says in str(err.value)
    assert not (tmp_path / out).exists()


def test_grids_without_codes_named(tmp_path):
    write_inputs(tmp_path)
    holed_grids().rename(columns={"code": "编号"}).to_file(tmp_path / "g2.gpkg", driver="GPKG")
    with pytest.raises(InputError, match="g2.gpkg: grids: missing column code"):
        assign_file(tmp_path / "points.gpkg", tmp_path / "g2.gpkg", tmp_path / "o.gpkg")


def test_cli_assign_csv_out_keeps_columns(tmp_path):
    write_inputs(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "assign",
            str(tmp_path / "points.gpkg"),
            "--grids",
            str(tmp_path / "grids.gpkg"),
            "--out",
            str(tmp_path / "o.csv"),
            "--workdir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 of 6 assigned; 2 unassigned" in result.output
    table = pd.read_csv(tmp_path / "o.csv", encoding="utf-8-sig", dtype={"grid_code": str})
    assert list(table.columns) == [
        "pid",
        "kind",
        "名称",
        "grid_code",
        "reason",
        "distance_m",
        "lon",
        "lat",
    ]


def test_without_arrow_the_output_is_the_same(tmp_path, monkeypatch):
    from gridmgmt.io import fast_io

    write_inputs(tmp_path)
    assign_file(tmp_path / "points.gpkg", tmp_path / "grids.gpkg", tmp_path / "arrow.gpkg")
    monkeypatch.setattr(fast_io, "arrow_available", lambda: False)
    assign_file(tmp_path / "points.gpkg", tmp_path / "grids.gpkg", tmp_path / "plain.gpkg")
    arrow = pyogrio.read_dataframe(tmp_path / "arrow.gpkg")
    plain = pyogrio.read_dataframe(tmp_path / "plain.gpkg")
    assert list(arrow.columns) == list(plain.columns)
    assert codes(arrow["grid_code"]) == codes(plain["grid_code"])
    assert arrow["distance_m"].equals(plain["distance_m"])


def test_points_without_gaps_take_the_coordinate_path_with_the_same_answer(tmp_path):
    from gridmgmt.io import fast_io

    write_inputs(tmp_path)
    pts = points().iloc[:5]  # no missing location: read straight from the WKB buffer
    pts.to_file(tmp_path / "full.gpkg", driver="GPKG")
    meta, table = pyogrio.read_arrow(tmp_path / "full.gpkg")
    assert fast_io.points_xy_from_wkb(table[meta["geometry_name"]]) is not None
    assign_file(tmp_path / "full.gpkg", tmp_path / "grids.gpkg", tmp_path / "o.gpkg")
    out = pyogrio.read_dataframe(tmp_path / "o.gpkg")
    assert codes(out["grid_code"]) == [A, A, C, None, A]
    assert pyogrio.read_info(tmp_path / "o.gpkg")["geometry_type"] == "Point"
    assert out["pid"].tolist() == pts["pid"].tolist()


def test_cli_assign_takes_the_crs_of_a_geoparquet_without_one(tmp_path):
    write_inputs(tmp_path)
    path = tmp_path / "nocrs.parquet"
    points().set_crs(None, allow_override=True).to_parquet(path)
    args = ["assign", str(path), "--grids", str(tmp_path / "grids.gpkg")]
    args += ["--out", str(tmp_path / "o.parquet"), "--workdir", str(tmp_path)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code != 0 and "--crs" in refused.output
    assert not (tmp_path / "o.parquet").exists()
    done = CliRunner().invoke(main, [*args, "--crs", "EPSG:4326"])
    assert done.exit_code == 0, done.output
    assert "4 of 6 assigned" in done.output
