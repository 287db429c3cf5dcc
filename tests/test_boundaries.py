"""Boundaries that cut buildings: the file and the stored workflow give the same 社区 the same grids.

The layout is a synthetic 街道 split into two 社区 by a line through a row
of buildings, with the 街道's east edge pulled in so that it cuts the last
buildings and leaves a few wholly outside. Each building cut by a boundary
belongs to the side holding most of its footprint; the ones mostly outside
are left out and listed, never an abort.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.synthetic import generate_blocks

WEST, EAST = "340705001001", "340705001002"


def run(*args, url=None):
    env = {"GRIDMGMT_DATABASE_URL": url} if url else None
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def _cut_layout(folder):
    """Files of a 街道 whose 社区 line and east edge cut buildings; returns the layout."""
    s = generate_blocks(300, seed=3)
    street = s.boundaries.loc[s.boundaries["level"] == "street"].geometry.iloc[0]
    minx, miny, maxx, maxy = street.bounds
    b = s.buildings.reset_index(drop=True)
    # a line 3 m east of a middle building's centre cuts it (and its row) unevenly
    xs = b.geometry.bounds[["minx", "maxx"]].mean(axis=1).to_numpy()
    middle = xs[np.argmin(np.abs(xs - (minx + maxx) / 2))]
    x_cut = middle + 0.00003
    x_east = maxx - 0.12 * (maxx - minx)
    west = shapely.box(minx, miny, x_cut, maxy).intersection(street)
    east = shapely.box(x_cut, miny, x_east, maxy).intersection(street)
    outer = shapely.union_all([west, east])
    boundaries = gpd.GeoDataFrame(
        {
            "level": ["district", "street", "community", "community"],
            "code": ["340705", "340705001", WEST, EAST],
            "name": ["铜官区", "幸福街道", "西社区", "东社区"],
            "parent_code": [None, "340705", "340705001", "340705001"],
        },
        geometry=[outer, outer, west, east],
        crs=4326,
    )
    files = {
        "buildings": folder / "buildings.geojson",
        "roads": folder / "roads.geojson",
        "compounds": folder / "compounds.geojson",
        "boundaries": folder / "boundaries.geojson",
        WEST: folder / "west.geojson",
        EAST: folder / "east.geojson",
    }
    b[["building_id", "households", "floors", "geometry"]].rename(
        columns={"building_id": "id"}
    ).to_file(files["buildings"], driver="GeoJSON")
    s.roads.to_file(files["roads"], driver="GeoJSON")
    s.compounds.to_file(files["compounds"], driver="GeoJSON")
    boundaries.to_file(files["boundaries"], driver="GeoJSON")
    for code, geom in ((WEST, west), (EAST, east)):
        gpd.GeoDataFrame({"name": [code]}, geometry=[geom], crs=4326).to_file(
            files[code], driver="GeoJSON"
        )
    return files, b, (west, east, outer)


def _per_grid(buildings: gpd.GeoDataFrame) -> dict[str, frozenset]:
    return {
        code: frozenset(group["id"].astype(str)) for code, group in buildings.groupby("grid_code")
    }


def test_layout_cuts_buildings_both_ways(tmp_path):
    _files, b, (west, east, outer) = _cut_layout(tmp_path)
    metric = b.to_crs(32650).geometry
    cut_line = gpd.GeoSeries([west.boundary.intersection(east.boundary)], crs=4326).to_crs(32650)
    assert metric.intersects(cut_line.iloc[0]).sum() >= 3  # straddling the 社区 line
    outer_m = gpd.GeoSeries([outer], crs=4326).to_crs(32650).iloc[0]
    share = metric.intersection(outer_m).area / metric.area
    assert ((share > 0.01) & (share < 0.99)).sum() >= 3  # straddling the outer edge
    assert (share == 0).sum() >= 3  # wholly outside


@pytest.mark.slow
def test_file_and_stored_workflows_agree(tmp_path):
    files, b, _ = _cut_layout(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    by_file = {}
    for code in (WEST, EAST):
        out = tmp_path / f"{code}.gpkg"
        result = run(
            "partition",
            files["buildings"],
            "--boundary",
            files[code],
            "--roads",
            files["roads"],
            "--compounds",
            files["compounds"],
            "--prefix",
            code,
            "--out",
            out,
            "--workdir",
            tmp_path,
            url=url,
        )
        assert result.exit_code == 0, result.output
        assert "cut by the boundary, kept (most of the footprint inside)" in result.output
        assert "boundary_buildings" in result.output
        layers = [str(n) for n, _ in pyogrio.list_layers(out)]
        assert layers == ["grids", "buildings", "boundary_buildings"]
        by_file[code] = (
            pyogrio.read_dataframe(out, layer="grids"),
            pyogrio.read_dataframe(out, layer="buildings"),
            pyogrio.read_dataframe(out, layer="boundary_buildings"),
        )
    east_listed = by_file[EAST][2]
    assert {"straddling", "straddling_left_out", "outside"} <= set(east_listed["status"])

    for kind in ("boundaries", "compounds", "roads", "buildings"):
        done = run("import", kind, files[kind], "--workdir", tmp_path, url=url)
        assert done.exit_code == 0, done.output
    stored = run("partition", "--all", "--workdir", tmp_path, url=url)
    assert stored.exit_code == 0, stored.output
    assert "lie outside every stored 社区" in stored.output
    assert "cut by its boundary and kept" in stored.output

    from gridmgmt.store.repository import Store

    store = Store(url)
    stored_buildings = store.read_layer("buildings").drop(columns="id")
    stored_buildings = stored_buildings.rename(columns={"building_id": "id"})
    left_out = set(b["building_id"]) - set(stored_buildings.dropna(subset=["grid_code"])["id"])
    file_left_out = (
        set(b["building_id"]) - set(by_file[WEST][1]["id"]) - set(by_file[EAST][1]["id"])
    )
    assert left_out == file_left_out and left_out
    assert set(east_listed.loc[east_listed["status"] != "straddling", "id"]) >= left_out
    for code in (WEST, EAST):
        grids_f, buildings_f, _ = by_file[code]
        grids_s = store.current_grids(code).sort_values("code").reset_index(drop=True)
        mine = stored_buildings[stored_buildings["grid_code"].astype(str).str.startswith(code)]
        assert _per_grid(mine) == _per_grid(buildings_f)
        assert grids_s["code"].tolist() == grids_f["code"].tolist()
        assert grids_s["households"].tolist() == grids_f["households"].tolist()
        moved = grids_s.to_crs(32650).symmetric_difference(grids_f.to_crs(32650), align=False)
        assert (moved.area < 1.0).all()


def _gcj02_boundaries(files, folder):
    """The layout's boundaries file with its coordinates moved to GCJ-02, still labelled WGS84."""
    from gridmgmt.core import coords as cc

    frame = gpd.read_file(files["boundaries"])
    moved = cc.transform_geometries(frame.geometry.values, cc.wgs84_to_gcj02)
    path = folder / "boundaries_gcj02.geojson"
    frame.set_geometry(list(moved), crs=4326).to_file(path, driver="GeoJSON")
    return path


def test_import_refuses_gcj02_boundaries_next_to_stored_buildings(tmp_path, database_url):
    from gridmgmt.store.repository import Store

    files, _b, _ = _cut_layout(tmp_path)
    gcj = _gcj02_boundaries(files, tmp_path)
    for kind in ("roads", "buildings"):
        assert (
            run("import", kind, files[kind], "--workdir", tmp_path, url=database_url).exit_code == 0
        )
    before = Store(database_url).counts()
    refused = run("import", "boundaries", gcj, "--workdir", tmp_path, url=database_url)
    assert refused.exit_code == 1
    assert "boundaries_gcj02.geojson: the boundaries look like GCJ-02 coordinates" in refused.output
    assert "--boundary-coords gcj02" in refused.output and "Nothing was written" in refused.output
    assert Store(database_url).counts() == before
    converted = run(
        "import",
        "boundaries",
        gcj,
        "--boundary-coords",
        "gcj02",
        "--workdir",
        tmp_path,
        url=database_url,
    )
    assert converted.exit_code == 0, converted.output
    assert Store(database_url).counts()["communities"] == 2


def test_import_refuses_buildings_next_to_stored_gcj02_boundaries(tmp_path):
    from gridmgmt.store.repository import Store

    url = f"sqlite:///{tmp_path / 'store.db'}"
    files, _b, _ = _cut_layout(tmp_path)
    gcj = _gcj02_boundaries(files, tmp_path)
    trusted = run(
        "import", "boundaries", gcj, "--boundary-coords", "wgs84", "--workdir", tmp_path, url=url
    )
    assert trusted.exit_code == 0, trusted.output
    refused = run("import", "buildings", files["buildings"], "--workdir", tmp_path, url=url)
    assert refused.exit_code == 1
    assert "buildings.geojson: the stored 社区 boundaries look like GCJ-02" in refused.output
    assert "re-import the boundary file with --boundary-coords gcj02" in refused.output
    assert Store(url).counts()["buildings"] == 0


def test_stored_partition_with_boundaries_elsewhere_says_so(tmp_path):
    import shapely.affinity

    url = f"sqlite:///{tmp_path / 'store.db'}"
    files, _b, _ = _cut_layout(tmp_path)
    frame = gpd.read_file(files["boundaries"])
    frame["geometry"] = [shapely.affinity.translate(g, xoff=0.05) for g in frame.geometry]
    far = tmp_path / "far.geojson"
    frame.to_file(far, driver="GeoJSON")
    for kind, path in (("boundaries", far), ("buildings", files["buildings"])):
        assert run("import", kind, path, "--workdir", tmp_path, url=url).exit_code == 0
    result = run("partition", "--all", "--workdir", tmp_path, url=url)
    assert result.exit_code == 1
    assert "stored 社区: their outlines cover none of the 294 buildings' footprint" in result.output


def test_a_boundary_file_of_several_communities_partitions_each(tmp_path):
    """Two 社区 in one file: each gridded as its own file would be, numbered from --prefix."""
    files, b, (west, east, _) = _cut_layout(tmp_path)
    both = tmp_path / "both.geojson"
    gpd.GeoDataFrame({"name": ["西社区", "东社区"]}, geometry=[west, east], crs=4326).to_file(
        both, driver="GeoJSON"
    )
    common = ["--roads", files["roads"], "--compounds", files["compounds"], "--workdir", tmp_path]
    out = tmp_path / "both.gpkg"
    done = run(
        "partition", files["buildings"], "--boundary", both, "--prefix", WEST, "--out", out, *common
    )
    assert done.exit_code == 0, done.output
    grids = pyogrio.read_dataframe(out, layer="grids")
    buildings = pyogrio.read_dataframe(out, layer="buildings")
    assert set(grids["community_code"]) == {WEST, EAST}
    assert set(grids["community"]) == {"西社区", "东社区"}
    for code in (WEST, EAST):
        single = tmp_path / f"{code}.gpkg"
        alone = run(
            "partition", files["buildings"], "--boundary", files[code], "--prefix", code,
            "--out", single, *common,
        )  # fmt: skip
        assert alone.exit_code == 0, alone.output
        grids_1 = pyogrio.read_dataframe(single, layer="grids")
        mine = grids[grids["community_code"] == code].reset_index(drop=True)
        assert mine["code"].tolist() == grids_1["code"].tolist()
        assert mine["households"].tolist() == grids_1["households"].tolist()
        buildings_1 = pyogrio.read_dataframe(single, layer="buildings")
        in_both = buildings[buildings["grid_code"].str.startswith(code)]
        assert _per_grid(in_both) == _per_grid(buildings_1)
    assert buildings["id"].is_unique  # every building in one 社区 at most
    listed = pyogrio.read_dataframe(out, layer="boundary_buildings")
    assert "outside" in set(listed["status"])


def test_several_communities_need_a_full_prefix(tmp_path):
    from gridmgmt.domain.partitioning import area_prefixes

    assert area_prefixes("340705001998", 2) == ["340705001998", "340705001999"]
    with pytest.raises(ValueError, match="past 999"):
        area_prefixes("340705001998", 3)
    with pytest.raises(ValueError, match="12-digit"):
        area_prefixes("3407", 2)


def test_fit_places_decoys_only_when_a_conversion_fits_better(tmp_path):
    from gridmgmt.core.boundary_fit import BoundaryFit, assess_fit

    files, b, _ = _cut_layout(tmp_path)
    buildings = gpd.read_file(files["buildings"])
    roads = gpd.read_file(files["roads"])
    for boundary_file, offset in (
        (files["boundaries"], False),
        (_gcj02_boundaries(files, tmp_path), True),
    ):
        boundary = gpd.read_file(boundary_file)
        lazy = assess_fit(boundary, buildings, roads)
        verdict = (lazy.boundary_looks_gcj02, lazy.data_looks_gcj02, lazy.misses)
        placed = sum(1 for key in lazy.moved if key in lazy.moved._done)
        # every placement made at once gives the same verdicts and the same numbers
        eager = BoundaryFit(lazy.given, dict(lazy.moved), lazy.shift_m, lazy.n_buildings)
        assert verdict == (eager.boundary_looks_gcj02, eager.data_looks_gcj02, eager.misses)
        assert verdict == (offset, False, False)
        assert eager.describe() == lazy.describe()
        assert placed == (12 if offset else 2)  # a fitting boundary: the two conversions only
