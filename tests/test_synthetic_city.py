"""The generator at city scale: many 社区 with unique names and codes; real compound outlines."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gridmgmt.cli import main
from gridmgmt.core.crs import to_metric
from gridmgmt.synthetic import generate_street, load_street
from gridmgmt.synthetic.divisions import split_cells
from gridmgmt.synthetic.real_compounds import fill_compounds

HZ_X, HZ_Y = 120.15, 30.27  # Hangzhou
DEG = 0.001  # about 100 m


def communities(street):
    return street.boundaries[street.boundaries["level"] == "community"]


def assert_tiling(frame):
    """The polygons are valid and do not overlap (areas add up to the union's)."""
    metric = to_metric(frame)
    assert metric.geometry.is_valid.all()
    union = shapely.union_all(metric.geometry.values).area
    assert metric.geometry.area.sum() == pytest.approx(union, rel=1e-6)


def test_forty_five_communities_in_three_streets_unique_and_tiling():
    street = generate_street(
        0, n_communities=45, target_households=200_000, communities_per_street=20
    )
    comm = communities(street)
    assert len(comm) == 45
    assert comm["name"].is_unique and comm["code"].is_unique
    assert comm["code"].str.fullmatch(r"\d{12}").all()
    streets = street.boundaries[street.boundaries["level"] == "street"]
    assert list(streets["code"]) == ["340705001", "340705002", "340705003"]
    assert streets["name"].is_unique
    assert comm.groupby("parent_code").size().tolist() == [20, 20, 5]
    assert (comm["code"].str[:9] == comm["parent_code"]).all()
    assert_tiling(comm)
    per = street.households_by_community()
    assert per.sum() == street.buildings["households"].sum()  # every building in one 社区
    centres = street.facilities[street.facilities["category"] == "community_centre"]
    assert centres["name"].is_unique and len(centres) == 45


def test_forty_communities_in_one_street_as_the_issue_asked():
    street = generate_street(0, n_communities=40, target_households=400_000)
    comm = communities(street)
    assert len(comm) == 40 and comm["name"].is_unique and comm["code"].is_unique
    assert comm["name"].iloc[0] == "翠湖社区"  # the demo's names come first
    assert (street.households_by_community() > 0).sum() == 40


def test_many_communities_in_a_small_area_grow_the_layout():
    street = generate_street(3, n_communities=30, target_households=5_000)
    assert len(communities(street)) == 30 and communities(street)["name"].is_unique


def test_impossible_codes_are_refused():
    with pytest.raises(ValueError, match="at most 999"):
        generate_street(0, n_communities=1_000, target_households=10_000)


def test_split_cells_gives_contiguous_pieces_with_enough_cells():
    pieces = split_cells(range(7), range(5), [3, 3, 3, 2])
    assert len(pieces) == 4
    cells = [(i, j) for cols, rows in pieces for i in cols for j in rows]
    assert sorted(cells) == [(i, j) for i in range(7) for j in range(5)]
    assert all(len(c) * len(r) >= n for (c, r), n in zip(pieces, [3, 3, 3, 2], strict=True))
    with pytest.raises(ValueError, match="cannot hold"):
        split_cells(range(2), range(2), [3, 2])


@pytest.fixture
def landuse_file(tmp_path):
    """12 residential compounds (150-300 m) on a 4 x 3 lattice, a park and an industrial site."""
    features = []
    for k in range(12):
        i, j = k % 4, k // 4
        x, y = HZ_X + i * 4 * DEG, HZ_Y + j * 4 * DEG
        w = (1.5 + (k % 3) * 0.75) * DEG
        features.append(
            {
                "type": "Feature",
                "properties": {"fclass": "residential", "name": f"小区{k}" if k % 2 else None},
                "geometry": shapely.geometry.mapping(shapely.box(x, y, x + w, y + 2.5 * DEG)),
            }
        )
    for fclass in ("park", "industrial"):
        x = HZ_X + (5 if fclass == "park" else 6) * 4 * DEG
        features.append(
            {
                "type": "Feature",
                "properties": {"fclass": fclass, "name": fclass},
                "geometry": shapely.geometry.mapping(shapely.box(x, HZ_Y, x + DEG, HZ_Y + DEG)),
            }
        )
    path = tmp_path / "landuse.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_compounds_from_a_file_are_filled_reproducibly(landuse_file):
    street = fill_compounds(landuse_file, 5, n_communities=4, communities_per_street=2)
    again = fill_compounds(landuse_file, 5, n_communities=4, communities_per_street=2)
    assert street.buildings.equals(again.buildings)
    assert not street.buildings.equals(fill_compounds(landuse_file, 6, n_communities=4).buildings)
    assert len(street.compounds) == 12  # the park and the industrial site are not housing
    assert street.compounds["name"].is_unique
    assert {"小区1", "小区3"} <= set(street.compounds["name"])
    b = street.buildings
    assert len(b) > 12 and (b["households"] > 0).all()
    # every building stands inside its own compound's outline
    walls = street.compounds.set_index("compound_id").geometry
    assert all(walls[c].contains(g) for c, g in zip(b["compound_id"], b.geometry, strict=True))
    comm = communities(street)
    assert len(comm) == 4 and comm["name"].is_unique and comm["code"].is_unique
    assert sorted(set(comm["parent_code"])) == ["340705001", "340705002"]
    assert_tiling(comm)
    # each compound lies whole in one 社区
    for wall in walls:
        assert sum(c.contains(wall.buffer(-1e-7)) for c in comm.geometry) == 1
    with pytest.raises(ValueError, match="12 compounds cannot make 13 社区"):
        fill_compounds(landuse_file, 0, n_communities=13)


def test_cli_generate_from_compounds_and_by_count(tmp_path, landuse_file):
    out = tmp_path / "city.gpkg"
    result = CliRunner().invoke(
        main,
        ["generate", "--compounds", str(landuse_file), "--communities", "3", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "3 社区 in 1 街道" in result.output
    back = load_street(out)
    assert len(communities(back)) == 3 and len(back.compounds) == 12
    bad = tmp_path / "nothing.geojson"
    gpd.GeoDataFrame(
        {"fclass": ["park"]}, geometry=[shapely.box(HZ_X, HZ_Y, HZ_X + DEG, HZ_Y + DEG)], crs=4326
    ).to_file(bad)
    result = CliRunner().invoke(
        main, ["generate", "--compounds", str(bad), "--out", str(tmp_path / "x.gpkg")]
    )
    assert result.exit_code == 1 and "no residential polygons" in result.output


def test_real_hangzhou_compounds(realdata):
    street = fill_compounds(
        realdata / "landuse" / "hz_landuse.geojson", 0, n_communities=120, communities_per_street=20
    )
    assert len(street.compounds) == 2_112
    assert street.compounds["name"].is_unique
    comm = communities(street)
    assert len(comm) == 120 and comm["name"].is_unique and comm["code"].is_unique
    assert_tiling(comm)
    assert len(street.buildings) > 30_000
    assert (street.households_by_community() > 0).sum() >= 115
