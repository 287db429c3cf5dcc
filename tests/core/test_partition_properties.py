"""Partition invariants over generated layouts (hypothesis).

Whatever the layout, :func:`gridmgmt.core.partition.partition` must return
grids that tile the 社区 without overlaps, put every building in exactly one
grid (the one holding its point on surface) with household totals that add
up, hold the household band or say why not, and keep each compound in one
grid unless it is one the engine reports as split.

Two families of layouts: synthetic street blocks with roads and compounds
(:func:`gridmgmt.synthetic.generate_blocks`, from a drawn size, seed and
mean households per building), and lattices of square buildings with drawn
households and compounds drawn as runs of a row. A layout is the tuple
``(buildings, compounds, boundary[, roads])``. The examples are
derandomized, so every run (and CI) checks the same ones.

Two layouts that once failed are kept as explicit examples: buildings of a
split compound or loose group that lay outside the grid they were labelled
with, and a band repair that crashed on buildings of no households.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from gridmgmt.core.flags import count_flags, split_flags
from gridmgmt.core.partition import PartitionResult, partition
from gridmgmt.synthetic import generate_blocks

LO, HI = 250, 500
PREFIX = "340705001001"
#: flags that say why a residential grid is outside the band
BAND_FLAGS = {"out_of_band", "indivisible_building", "community_below_min", "part_below_min"}
#: tiling tolerance, relative to the 社区's area
AREA_TOLERANCE = 1e-6
#: how far (m) a building's point on surface may lie outside its grid after the round trip to WGS84
POINT_TOLERANCE_M = 0.01

PROPERTIES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: metres of UTM zone 50N -> lon/lat, for the lattice layouts
TO_WGS84 = Transformer.from_crs(32650, 4326, always_xy=True)
ORIGIN = (500_000.0, 3_420_000.0)
SIDE, GAP = 30.0, 20.0


def check_tiling(boundary, result: PartitionResult) -> None:
    """The grids tile the 社区: their union is the boundary, their areas add up to the union's."""
    grids = result.grids.to_crs(result.metric_crs)
    whole = gpd.GeoSeries(boundary, crs=4326).to_crs(result.metric_crs).union_all()
    polygons = grids.geometry.values
    assert grids.is_valid.all()
    union = shapely.union_all(polygons)
    assert shapely.symmetric_difference(union, whole).area <= AREA_TOLERANCE * whole.area
    assert abs(shapely.area(polygons).sum() - union.area) <= AREA_TOLERANCE * whole.area


def check_labels(buildings, result: PartitionResult) -> None:
    """Every building has exactly one grid; households and building counts add up."""
    labels, grids = result.labels, result.grids.set_index("code")
    assert result.grids["code"].is_unique
    assert labels.index.equals(buildings.index)
    assert labels.notna().all() and labels.isin(grids.index).all()
    households = buildings["households"].groupby(labels).sum()
    assert (households.reindex(grids.index, fill_value=0) == grids["households"]).all()
    counts = labels.value_counts()
    assert (counts.reindex(grids.index, fill_value=0) == grids["n_buildings"]).all()


def check_points_in_own_grid(buildings, result: PartitionResult) -> None:
    """Each building's grid holds its point on surface (the point the engine places it by)."""
    crs = result.metric_crs
    by_code = result.grids.to_crs(crs).set_index("code")
    points = shapely.point_on_surface(buildings.to_crs(crs).geometry.values)
    own = by_code.loc[result.labels.to_numpy(), "geometry"].to_numpy()
    distance = pd.Series(shapely.distance(own, points), index=buildings.index)
    far = distance > POINT_TOLERANCE_M
    assert not far.any(), pd.DataFrame({"grid": result.labels[far], "metres": distance[far]})


def check_band(buildings, result: PartitionResult) -> None:
    """Residential grids hold the band or carry the flag that says why; the report agrees."""
    grids = result.grids
    residential = grids[grids["kind"] == "residential"]
    in_band = residential["households"].between(LO, HI)
    said = [bool(BAND_FLAGS & set(split_flags(f))) for f in residential.loc[~in_band, "flag"]]
    assert all(said), residential[~in_band]
    assert result.report.share_in_band == in_band.mean()
    assert result.report.flags == count_flags(grids["flag"])
    total = int(buildings["households"].sum())
    if total <= HI and (grids["kind"] == "unit").sum() == 0:
        # one grid can hold the whole 社区: in band unless the 社区 itself is below it
        assert len(grids) == 1, grids.drop(columns="geometry")
        assert grids["flag"].iloc[0] == (None if total >= LO else "community_below_min")


def check_compounds(buildings, compounds, result: PartitionResult) -> None:
    """A compound's buildings share one grid unless the engine split the compound (and says so).

    The atoms split compounds too large for a grid; the band repair divides one
    that fits only when no arrangement of whole compounds brings every grid
    into band, and names it in ``compounds_divided`` and the report's notes.
    """
    if compounds is None or "compound_id" not in buildings.columns:
        return
    labels = result.labels
    known = buildings["compound_id"].isin(compounds["compound_id"])
    spread = labels[known].groupby(buildings.loc[known, "compound_id"]).nunique()
    divided = set(spread[spread > 1].index)
    atoms_per_compound = pd.Series(result.atoms.compound_id).dropna().value_counts()
    split_by_engine = set(atoms_per_compound[atoms_per_compound > 1].index)
    assert divided <= split_by_engine | set(result.compounds_divided), divided - split_by_engine
    assert len(divided) <= result.report.compounds_split
    for cid in result.compounds_divided:
        assert cid in divided
        assert any(cid in note and "divided between grids" in note for note in result.report.notes)


# ---------------------------------------------------------------- lattices
def to_wgs84(polygon: shapely.Polygon) -> shapely.Polygon:
    return shapely.transform(polygon, lambda xy: np.column_stack(TO_WGS84.transform(*xy.T)))


def lattice_layout(cols: int, rows: int, households: list[int], compound_runs: list[tuple]):
    """Square buildings row by row on a ``cols`` x ``rows`` lattice, inside a boundary.

    ``compound_runs`` holds ``(row, first column, last column)`` runs of one
    row, each walled into one residential compound.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame, GeoSeries)
        Buildings (``building_id``, ``households``, ``compound_id``),
        compounds and the 社区 boundary, in EPSG:4326.
    """
    pitch = SIDE + GAP
    compound_of: dict[tuple[int, int], str] = {}
    walls = []
    for row, first, last in compound_runs:
        cid = f"C{row}_{first}"
        x0, y0 = ORIGIN[0] + first * pitch - GAP / 4, ORIGIN[1] + row * pitch - GAP / 4
        x1, y1 = ORIGIN[0] + last * pitch + SIDE + GAP / 4, y0 + SIDE + GAP / 2
        walls.append((cid, to_wgs84(shapely.box(x0, y0, x1, y1))))
        compound_of.update({(row, c): cid for c in range(first, last + 1)})
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    footprints = [
        to_wgs84(shapely.box(x, y, x + SIDE, y + SIDE))
        for x, y in ((ORIGIN[0] + c * pitch, ORIGIN[1] + r * pitch) for r, c in cells)
    ]
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"B{i}" for i in range(len(cells))],
            "households": households,
            "compound_id": [compound_of.get(cell) for cell in cells],
        },
        geometry=footprints,
        crs=4326,
    )
    compounds = gpd.GeoDataFrame(
        {"compound_id": [c for c, _ in walls], "compound_kind": "residential"},
        geometry=[g for _, g in walls],
        crs=4326,
    )
    outline = shapely.box(
        ORIGIN[0] - GAP, ORIGIN[1] - GAP, ORIGIN[0] + cols * pitch, ORIGIN[1] + rows * pitch
    )
    boundary = gpd.GeoSeries([to_wgs84(shapely.segmentize(outline, 10.0))], crs=4326)
    return buildings, compounds, boundary


@st.composite
def lattices(draw):
    """A :func:`lattice_layout` of drawn size and households; each row cut into runs, some walled."""
    cols, rows = draw(st.integers(2, 9)), draw(st.integers(1, 6))
    households = draw(
        st.lists(st.integers(0, 180), min_size=cols * rows, max_size=cols * rows).map(
            lambda h: h if sum(h) else [1, *h[1:]]  # the engine refuses a 社区 of no households
        )
    )
    runs = []
    for row in range(rows):
        cuts = sorted(draw(st.sets(st.integers(1, cols - 1), max_size=cols - 1)))
        for first, end in zip([0, *cuts], [*cuts, cols], strict=True):
            if end - first > 1 and draw(st.booleans()):
                runs.append((row, first, end - 1))
    return lattice_layout(cols, rows, households, runs)


# ------------------------------------------------------------------ the tests
def street_layout(n_buildings: int, seed: int, mean_households: int):
    """A :func:`generate_blocks` 社区 as (buildings, compounds, boundary, roads)."""
    s = generate_blocks(n_buildings, seed=seed, mean_households=mean_households)
    area = s.boundaries[s.boundaries["level"] == "community"]
    return s.buildings, s.compounds, area.geometry, s.roads


@st.composite
def street_blocks(draw):
    """A :func:`street_layout` of drawn size, seed and mean households per building."""
    return street_layout(
        draw(st.integers(20, 320)),
        seed=draw(st.integers(0, 10_000)),
        mean_households=draw(st.integers(5, 60)),
    )


def run_partition(layout, seed: int) -> PartitionResult:
    """The partition of a layout, codes under :data:`PREFIX`."""
    buildings, compounds, boundary, *roads = layout
    return partition(
        buildings,
        boundary=boundary,
        roads=roads[0] if roads else None,
        compounds=compounds if len(compounds) else None,
        code_prefix=PREFIX,
        seed=seed,
    )


def check_partition(layout, result: PartitionResult) -> None:
    """Every invariant but :func:`check_points_in_own_grid` (tested on its own below)."""
    buildings, compounds, boundary, *_ = layout
    check_tiling(boundary, result)
    check_labels(buildings, result)
    check_band(buildings, result)
    check_compounds(buildings, compounds, result)


@PROPERTIES
@given(layout=street_blocks(), seed=st.integers(0, 3))
def test_street_blocks_tiled_labelled_in_band_and_compounds_whole(layout, seed):
    check_partition(layout, run_partition(layout, seed))


@PROPERTIES
@given(layout=lattices(), seed=st.integers(0, 3))
def test_lattices_tiled_labelled_in_band_and_compounds_whole(layout, seed):
    check_partition(layout, run_partition(layout, seed))


#: buildings 3 and 6 of the split compound C000001 lie 36 m outside their grid
STREET_OUTSIDE_ITS_GRID = street_layout(20, seed=86, mean_households=54)
#: no compounds; the loose group of 850 households is split and B5 lies 35 m outside its grid
LATTICE_OUTSIDE_ITS_GRID = lattice_layout(4, 2, [70, 164, 88, 104, 89, 44, 176, 115], [])
#: stop at the first failing example: shrinking it costs minutes
FIRST_FAILURE = settings(PROPERTIES, phases=[Phase.explicit, Phase.generate])


@FIRST_FAILURE
@example(layout=STREET_OUTSIDE_ITS_GRID, seed=0)
@given(layout=street_blocks(), seed=st.integers(0, 3))
def test_each_building_lies_in_its_grid_on_street_blocks(layout, seed):
    check_points_in_own_grid(layout[0], run_partition(layout, seed))


@FIRST_FAILURE
@example(layout=LATTICE_OUTSIDE_ITS_GRID, seed=0)
@given(layout=lattices(), seed=st.integers(0, 3))
def test_each_building_lies_in_its_grid_on_lattices(layout, seed):
    check_points_in_own_grid(layout[0], run_partition(layout, seed))


def test_band_repair_copes_with_buildings_without_households():
    """Buildings of 0 households next to a compound; ``repair=False`` partitions it."""
    layout = lattice_layout(7, 1, [0, 155, 105, 0, 134, 4, 146], [(0, 2, 4)])
    check_partition(layout, run_partition(layout, seed=0))
