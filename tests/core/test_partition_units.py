"""单位网格 from land use: a large 单位 enclosure is a unit grid with or without households."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gridmgmt.core.partition import partition

CRS = 32650
X0, Y0 = 500_000.0, 3_420_000.0


def box(x, y, w, h):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def campus_layout(staff_housing: int):
    """A 6 ha campus (300 × 200 m) with a 小区 of 300 households in its south-west corner.

    Teaching buildings hold no households; ``staff_housing`` households live
    in one building in the campus outside the 小区.
    """
    campus = box(0, 0, 300, 200)
    home = box(0, 0, 100, 100)
    geoms, hh = [], []
    for x, y in [(10, 10), (55, 10), (10, 55), (55, 55)]:
        geoms.append(box(x, y, 35, 35))
        hh.append(75)
    for x, y in [(150, 20), (220, 20), (150, 120), (220, 120), (30, 140)]:
        geoms.append(box(x, y, 50, 40))
        hh.append(0)
    if staff_housing:
        geoms.append(box(120, 150, 20, 20))
        hh.append(staff_housing)
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{k}" for k in range(len(hh))], "households": hh},
        geometry=geoms,
        crs=CRS,
    )
    compounds = gpd.GeoDataFrame(
        {
            "compound_id": ["campus", "home"],
            "compound_kind": ["unit", "residential"],
            "landuse": ["university", "residential"],
        },
        geometry=[campus, home],
        crs=CRS,
    )
    return buildings, compounds, campus, home


def partitioned(buildings, compounds, campus, **options):
    """The campus partitioned with the 250-500 band (and ``options``)."""
    return partition(
        buildings,
        boundary=gpd.GeoSeries([campus], crs=CRS),
        compounds=compounds,
        min_households=250,
        max_households=500,
        **options,
    )


@pytest.mark.parametrize("staff_housing", [0, 60])
def test_campus_with_a_residential_compound(staff_housing):
    buildings, compounds, campus, home = campus_layout(staff_housing)
    result = partitioned(buildings, compounds, campus)
    grids = result.grids.to_crs(CRS)
    assert sorted(grids["kind"]) == ["residential", "unit"]
    unit = grids[grids["kind"] == "unit"].iloc[0]
    res = grids[grids["kind"] == "residential"].iloc[0]
    assert res["households"] == 300 and unit["households"] == staff_housing
    rest = campus.difference(home)
    assert unit.geometry.intersection(rest).area >= 0.9 * rest.area
    assert res.geometry.intersection(home).area >= 0.9 * home.area


def test_staff_housing_cluster_over_the_minimum_is_residential():
    buildings, compounds, campus, home = campus_layout(0)
    compounds = compounds[compounds["compound_id"] == "campus"]  # no 小区 drawn
    result = partitioned(buildings, compounds, campus)
    grids = result.grids
    assert sorted(grids["kind"]) == ["residential", "unit"]
    assert grids.loc[grids["kind"] == "residential", "households"].tolist() == [300]
    assert grids.loc[grids["kind"] == "unit", "households"].tolist() == [0]


def test_small_enclosure_joins_a_residential_grid():
    buildings, compounds, campus, home = campus_layout(0)
    result = partitioned(buildings, compounds, campus, unit_min_area_m2=70_000)
    assert result.grids["kind"].tolist() == ["residential"]


def test_staff_housing_cluster_holds_its_yard_and_the_campus_ground_stays_in_the_unit():
    buildings, compounds, campus, home = campus_layout(0)
    compounds = compounds[compounds["compound_id"] == "campus"]  # no 小区 drawn
    result = partitioned(buildings, compounds, campus)
    grids = result.grids.to_crs(CRS).set_index("kind")
    res, unit = grids.geometry["residential"], grids.geometry["unit"]
    houses = shapely.union_all(buildings.geometry[buildings["households"] > 0].to_numpy())
    assert res.contains(houses.buffer(-0.01))
    # campus ground 20 m from the housing, away from the outline: nearer the housing
    # than any teaching building, but not the housing's yard
    lawn = box(110, 50, 1, 1)
    assert unit.contains(lawn)
    rest = campus.difference(houses.buffer(10 + 20))  # beyond the yard and the rim beside it
    assert unit.intersection(rest).area >= 0.97 * rest.area


def test_a_nested_compound_on_the_rim_holds_its_wall_and_the_campus_ground_stays_in_the_unit():
    buildings, compounds, campus, home = campus_layout(0)
    result = partitioned(buildings, compounds, campus)
    assert result.atoms.fenced_compounds == ("home",)
    grids = result.grids.to_crs(CRS).set_index("kind")
    res, unit = grids.geometry["residential"], grids.geometry["unit"]
    assert res.intersection(home).area >= 0.99 * home.area
    # 10 m beyond the 小区's wall, 50 m from the campus outline: nearer the wall than any
    # teaching building, but campus ground
    assert unit.contains(box(110, 50, 1, 1))
    assert not grids["flag"].fillna("").str.contains("encloses_grid|out_of_band").any()
