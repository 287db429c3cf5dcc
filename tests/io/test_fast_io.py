"""Fast I/O: pyogrio with Arrow (and without), GeoParquet in and out, a missing CRS, progress."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.io import InputError, fast_io, read_layers
from gridmgmt.io.writers import write_layer

X0, Y0 = 117.81, 30.94


def buildings(n: int = 12) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": [f"B{i}" for i in range(n)],
            "名称": [f"{i + 1}号楼" for i in range(n)],
            "层数": [6] * n,
        },
        geometry=[
            shapely.box(X0 + i * 0.001, Y0, X0 + i * 0.001 + 0.0004, Y0 + 0.0002) for i in range(n)
        ],
        crs=4326,
    )


def test_geoparquet_imports_as_the_geopackage_does(tmp_path):
    buildings().to_file(tmp_path / "b.gpkg", layer="buildings", driver="GPKG")
    buildings().to_parquet(tmp_path / "b.parquet")
    from_gpkg = read_layers(tmp_path / "b.gpkg", kind="buildings").buildings
    from_parquet = read_layers(tmp_path / "b.parquet", kind="buildings").buildings
    pd.testing.assert_frame_equal(
        pd.DataFrame(from_gpkg.drop(columns="geometry")),
        pd.DataFrame(from_parquet.drop(columns="geometry")),
    )
    assert shapely.equals_exact(from_gpkg.geometry.values, from_parquet.geometry.values, 0).all()


def test_geoparquet_without_crs_needs_one_said(tmp_path):
    path = tmp_path / "nocrs.parquet"
    buildings().set_crs(None, allow_override=True).to_parquet(path)
    with pytest.raises(InputError) as err:
        read_layers(path, kind="buildings")
    assert "nocrs.parquet" in str(err.value) and "--crs" in str(err.value)
    assert "Nothing is assumed" in str(err.value)
    told = read_layers(path, kind="buildings", crs="EPSG:4326").buildings
    assert len(told) == 12


def test_parquet_without_geo_metadata_is_refused(tmp_path):
    path = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    with pytest.raises(InputError, match="plain.parquet: is a Parquet file without GeoParquet"):
        read_layers(path)


def test_geoparquet_round_trip_and_chunks(tmp_path):
    frame = buildings(25)
    fast_io.write_vector(frame, tmp_path / "b.parquet")
    back = fast_io.read_vector(tmp_path / "b.parquet")
    assert back.crs.to_epsg() == 4326 and back["id"].tolist() == frame["id"].tolist()
    parts = list(fast_io.iter_chunks(tmp_path / "b.parquet", 10))
    assert [len(p) for p in parts] == [10, 10, 5]
    assert pd.concat(parts)["id"].tolist() == frame["id"].tolist()
    frame.to_file(tmp_path / "b.gpkg", driver="GPKG")
    gpkg_parts = list(fast_io.iter_chunks(tmp_path / "b.gpkg", 10))
    assert pd.concat(gpkg_parts)["id"].tolist() == frame["id"].tolist()
    with pytest.raises(ValueError, match="without a CRS"):
        fast_io.write_vector(frame.set_crs(None, allow_override=True), tmp_path / "x.parquet")


def test_without_arrow_the_plain_pyogrio_path_reads_and_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(fast_io, "arrow_available", lambda: False)
    frame = buildings()
    fast_io.write_vector(frame, tmp_path / "b.gpkg", driver="GPKG")
    back = fast_io.read_vector(tmp_path / "b.gpkg")
    assert back["名称"].tolist() == frame["名称"].tolist()
    assert len(read_layers(tmp_path / "b.gpkg", kind="buildings").buildings) == 12


def test_write_layer_geoparquet(tmp_path):
    path = write_layer(buildings(), tmp_path / "layer.parquet", layer="grids")
    assert gpd.read_parquet(path)["id"].tolist() == buildings()["id"].tolist()


def test_cli_import_shows_progress_and_takes_crs(tmp_path):
    path = tmp_path / "nocrs.parquet"
    buildings(30).set_crs(None, allow_override=True).to_parquet(path)
    url = f"sqlite:///{tmp_path / 'g.db'}"
    run = CliRunner()
    refused = run.invoke(
        main, ["import", "buildings", str(path)], env={"GRIDMGMT_DATABASE_URL": url}
    )
    assert (
        refused.exit_code == 1 and "nocrs.parquet" in refused.output and "--crs" in refused.output
    )
    done = run.invoke(
        main,
        ["import", "buildings", str(path), "--crs", "EPSG:4326", "--chunk-size", "8"],
        env={"GRIDMGMT_DATABASE_URL": url},
    )
    assert done.exit_code == 0, done.output
    assert "written: 30 buildings" in done.stdout
    assert "import nocrs.parquet" in done.stderr and "30/30" in done.stderr
