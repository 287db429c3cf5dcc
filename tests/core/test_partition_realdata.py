"""The partition on every real extract in ``../shared/realdata``: one grid per building, by footprint.

Real footprints are not the tidy squares of generated layouts: buildings
span street blocks, overlap, come as multipolygons. Whatever their shape,
each building must be labelled with exactly one grid, the one holding most
of its footprint, and a grid's households must be the sum over exactly the
buildings labelled with it.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
import shapely

from gridmgmt.core.partition import partition

OSM_EXTRACTS = [
    "bj_bupt.osm",
    "bj_cau_xueyuanlu.osm",
    "hz_zijingang.osm",
    "sh_jingan.osm",
    "sh_shu_baoshan.osm",
    # sh_jingan's dense real street network (roads only) with flats of ours in its blocks
    "sh_jingan.osm+generated",
]


@functools.cache
def read_extract(realdata, name):
    """Buildings, roads and compounds of an extract, read once per test session."""
    from gridmgmt.io import read_layers

    source, generated = name.removesuffix("+generated"), name.endswith("+generated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layers = read_layers(realdata / "osm" / source)
    if generated:
        from gridmgmt.synthetic.real_streets import flats_in_street_blocks

        return flats_in_street_blocks(layers.roads, seed=0), layers.roads, layers.compounds
    return layers.buildings, layers.roads, layers.compounds


def largest_share_grid(footprints, grids) -> np.ndarray:
    """Index of the grid holding the largest part of each footprint, computed plainly."""
    polygons = np.asarray(grids.geometry.values, dtype=object)
    areas = shapely.area(shapely.intersection(footprints[:, None], polygons[None, :]))
    return np.argmax(areas, axis=1), areas


@pytest.mark.parametrize("name", OSM_EXTRACTS)
def test_every_building_in_the_grid_holding_most_of_it(realdata, name):
    buildings, roads, compounds = read_extract(realdata, name)
    if len(buildings) == 0:  # a roads-only extract is refused plainly, not half-partitioned
        with pytest.raises(ValueError, match="no buildings to partition"):
            partition(buildings, roads=roads)
        return
    result, _ = partition_extract(realdata, name)
    grids = result.grids.to_crs(result.metric_crs)
    labels = result.labels
    assert labels.notna().all() and labels.isin(grids["code"]).all()
    footprints = np.asarray(buildings.to_crs(result.metric_crs).geometry.values, dtype=object)
    best, areas = largest_share_grid(footprints, grids)
    position = {c: i for i, c in enumerate(grids["code"])}
    own = np.asarray([position[c] for c in labels])
    held = areas[np.arange(len(own)), own]
    most = areas[np.arange(len(own)), best]
    short = held < most - 1e-6 * np.maximum(shapely.area(footprints), 1.0)
    assert not short.any(), pd.DataFrame({"grid": labels[short], "held": held[short]})
    assert result.report.buildings_outside_own_grid == 0
    households = buildings["households"].groupby(labels.to_numpy()).sum()
    assert (households.reindex(grids["code"], fill_value=0).to_numpy() == grids["households"]).all()
    counts = labels.value_counts()
    assert (counts.reindex(grids["code"], fill_value=0).to_numpy() == grids["n_buildings"]).all()


@functools.cache
def partition_extract(realdata, name):
    """(result, compounds) of an extract partitioned with the defaults, once per session."""
    buildings, roads, compounds = read_extract(realdata, name)
    if len(buildings) == 0:
        return None, compounds  # refused plainly (tested above)
    result = partition(
        buildings,
        roads=roads if len(roads) else None,
        compounds=compounds if len(compounds) else None,
        seed=0,
    )
    return result, compounds


@pytest.mark.parametrize("name", OSM_EXTRACTS)
def test_large_enclosures_are_unit_grids(realdata, name):
    """≥ 90% of the non-residential area of each 单位 enclosure the data reaches lies in unit grids."""
    result, compounds = partition_extract(realdata, name)
    if result is None:
        return
    crs = result.metric_crs
    grids = result.grids.to_crs(crs)
    if len(compounds) == 0:
        return
    compounds = compounds.to_crs(crs)
    covered = grids.geometry.union_all()
    areas = shapely.area(compounds.geometry.values)
    reached = shapely.area(shapely.intersection(compounds.geometry.values, covered)) >= 0.1 * areas
    big = compounds[(compounds["compound_kind"] == "unit").to_numpy() & (areas >= 50_000) & reached]
    if len(big) == 0:
        return
    homes = compounds[compounds["compound_kind"] == "residential"]
    regions = big.geometry.values
    if len(homes):
        regions = shapely.difference(regions, homes.geometry.union_all())
    is_unit = grids["kind"].to_numpy() == "unit"
    assert is_unit.any()
    units = shapely.union_all(grids.geometry.values[is_unit])
    share = shapely.area(shapely.intersection(regions, units)) / shapely.area(regions)
    assert (share >= 0.9).all(), dict(zip(big["compound_id"], share.round(2), strict=True))
    # residential compounds inside those enclosures are residential grids
    inside = homes[homes.within(big.geometry.union_all().buffer(1.0))]
    if len(inside):
        res = shapely.union_all(grids.geometry.values[~is_unit])
        assert inside.geometry.union_all().intersection(res).area >= 0.9 * inside.area.sum()


@pytest.mark.parametrize("name", OSM_EXTRACTS)
def test_campus_ground_beyond_housing_walls_stays_in_unit_grids_without_costing_the_band(
    realdata, name
):
    """Housing inside a campus near its rim holds its wall or yard, not the lawns beyond,
    unless that would leave a grid out of band or enclosing another. On bj_cau, 农大小区
    held to its wall leaves 双泉嘉苑 (162 households) no neighbour to join but across a
    primary road; the band repair then divides the 465-household 小区 there rather than
    give the campus's lawn to a residential grid."""
    result, _ = partition_extract(realdata, name)
    if result is None:
        return
    flags = result.grids["flag"].fillna("").str.split(",").explode()
    assert not flags.isin(["out_of_band", "encloses_grid"]).any()
    assert (
        result.grids["flag"].fillna("").str.contains("not_compact").sum()
        == result.grids["compact_why"].notna().sum()
    )
    if name in ("bj_bupt.osm", "bj_cau_xueyuanlu.osm"):  # campuses with 小区 on their rim
        assert result.atoms.fenced_compounds
    if name == "bj_cau_xueyuanlu.osm":
        assert "osm:w609225890" in result.atoms.fenced_compounds  # 农大小区-北区
        assert result.compounds_divided


@pytest.mark.parametrize("name", OSM_EXTRACTS)
def test_grids_are_single_polygons_covering_without_overlap(realdata, name):
    result, _ = partition_extract(realdata, name)
    if result is None:
        return
    grids = result.grids.to_crs(result.metric_crs)
    assert (grids.geom_type == "Polygon").all(), grids.loc[grids.geom_type != "Polygon", "code"]
    total = shapely.area(grids.geometry.values).sum()
    union = grids.geometry.union_all()
    assert abs(union.area - total) <= 1e-6 * total  # no overlaps
    assert union.geom_type == "Polygon"
    assert all(shapely.Polygon(ring).area < 1.0 for ring in union.interiors)  # no gaps


def barrier_lines(roads, crs):
    """The hard barriers (major roads, railways, rivers) of an extract, metric, as one geometry."""
    from gridmgmt.core.barriers import HARD_BARRIER_CLASSES

    roads = roads.to_crs(crs)
    return roads[roads["road_class"].isin(HARD_BARRIER_CLASSES)].geometry.union_all()


def sides(polygon, lines, points) -> tuple[list[int], list[float]]:
    """Buildings (of ``points``) in the faces of ``polygon`` cut by ``lines`` that hold some,
    and the area of every face."""
    cut = shapely.intersection(polygon, lines)
    faces = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.union_all([polygon.boundary, cut])).tolist())
    )
    counts = [int(shapely.contains(face, points).sum()) for face in faces]
    return [c for c in counts if c], [face.area for face in faces]


@pytest.mark.parametrize("name", OSM_EXTRACTS)
def test_grids_crossing_major_roads_say_so(realdata, name):
    """A grid holding buildings on both sides of a major road, railway or river is flagged
    ``crosses_major_road``; a flagged grid holds buildings or a hectare of land on each side.

    A road median, an interchange island or a verge strip in a grid puts a
    major road inside it without the grid reaching across: not flagged.
    """
    from gridmgmt.core.flags import has_flag

    result, _ = partition_extract(realdata, name)
    if result is None:
        return
    buildings, roads, _ = read_extract(realdata, name)
    crs = result.metric_crs
    grids = result.grids.to_crs(crs)
    lines = barrier_lines(roads, crs)
    points = shapely.point_on_surface(buildings.to_crs(crs).geometry.values)
    for code, polygon, flag in zip(
        grids["code"], grids.geometry.values, grids["flag"], strict=True
    ):
        occupied, areas = sides(polygon, lines, points)
        flagged = has_flag(flag, "crosses_major_road")
        if len(occupied) > 1:
            assert flagged, (code, occupied)
        if flagged:
            assert len(occupied) > 1 or sum(a >= 10_000 for a in areas) > 1, (code, areas)


def test_grids_cross_major_roads_only_to_join_a_part_too_small_for_a_grid(realdata):
    """bj_cau: a residential grid reaches across a major road only to take in households that,
    between their major roads, are too few for a grid of their own (issue 19 §3)."""
    from gridmgmt.core.flags import has_flag

    result, _ = partition_extract(realdata, "bj_cau_xueyuanlu.osm")
    buildings, roads, _ = read_extract(realdata, "bj_cau_xueyuanlu.osm")
    crs = result.metric_crs
    grids = result.grids.to_crs(crs)
    lines = barrier_lines(roads, crs)
    b = buildings.to_crs(crs)
    housed = shapely.point_on_surface(b.geometry.values[b["households"].to_numpy() > 0])
    hh = b["households"].to_numpy()[b["households"].to_numpy() > 0]
    flagged = np.asarray([has_flag(f, "crosses_major_road") for f in grids["flag"]], bool)
    crossing = grids[flagged & (grids["kind"] == "residential").to_numpy()]
    assert len(crossing) <= 2
    assert (crossing["crossed_why"] == "joins_part_below_min").all()
    for code, polygon in zip(crossing["code"], crossing.geometry.values, strict=True):
        cut = shapely.intersection(polygon, lines)
        faces = shapely.get_parts(
            shapely.polygonize(
                shapely.get_parts(shapely.union_all([polygon.boundary, cut])).tolist()
            )
        )
        per_side = [int(hh[shapely.contains(face, housed)].sum()) for face in faces]
        per_side = [h for h in per_side if h]
        assert len(per_side) >= 2, code  # it does reach across to households
        assert min(per_side) < 250, (code, per_side)  # ... too few for a grid of their own


@pytest.mark.parametrize("name", OSM_EXTRACTS)
def test_grid_boundaries_cut_buildings_only_along_major_roads(realdata, name):
    """A footprint spanning street blocks lies whole in one grid, unless a major road or railway runs through it.

    On bj_cau the underground 六道口 station (``building=train_station``,
    ``layer=-1``) lies under the 学院路/学清路 junction: cut by primary roads, it
    stays in the grid holding the largest part of it.
    """
    from gridmgmt.core.atoms import road_classes
    from gridmgmt.core.barriers import hard_barriers

    result, _ = partition_extract(realdata, name)
    if result is None:
        return
    buildings, roads, _ = read_extract(realdata, name)
    crs = result.metric_crs
    grids = result.grids.to_crs(crs)
    footprints = np.asarray(buildings.to_crs(crs).geometry.values, dtype=object)
    best, areas = largest_share_grid(footprints, grids)
    whole = areas[np.arange(len(best)), best] >= 0.99 * shapely.area(footprints)
    roads = roads.to_crs(crs) if len(roads) else None
    lines = hard_barriers(None if roads is None else roads.geometry.values, road_classes(roads))
    crossed = (
        shapely.intersects(footprints, shapely.union_all(lines))
        if len(lines)
        else np.zeros(len(footprints), bool)
    )
    cut = ~whole & ~crossed & (shapely.area(footprints) > 0)
    assert not cut.any(), buildings.loc[cut, ["building_id", "building_type"]]
