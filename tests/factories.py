"""Builders of the data tests share: small hand-made layouts, synthetic 社区, stored states.

Plain functions and constants, no fixtures (those live in the ``conftest.py``
files). Three families:

* the small 街道 (2 社区, 4 grids G1–G4, up to 8 buildings, one road) that the
  store, domain, CLI and web tests write to a store;
* the 2 x 2 lattice of grids with a hole and a multipolygon that the
  assignment tests query;
* synthetic 社区 from :mod:`gridmgmt.synthetic`, partitioned in memory or in
  a store.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CRS = "EPSG:4326"
#: south-west corner of every hand-made layout (lon, lat)
X0, Y0 = 117.81, 30.94

# ------------------------------------------------------------- the small 街道
#: 翠湖社区 holds G1, G2; 东湖社区 holds G3 and the 单位网格 G4
COMMUNITY = "340705001001"
OTHER_COMMUNITY = "340705001002"
G1, G2, G3, G4 = "340705001001001", "340705001001002", "340705001002001", "340705001002002"
#: B0, B1, B4, B5 in G1 (x < 0.001), B2, B3, B6, B7 in G2, as the web fixture stores them
LABELS = {f"B{i}": G1 if i % 4 < 2 else G2 for i in range(8)}
#: one point inside G1 and one inside G2 (lon, lat)
IN_G1, IN_G2 = (X0 + 0.0005, Y0 + 0.0005), (X0 + 0.0015, Y0 + 0.0005)


def square(ix: int, iy: int, size: float = 0.001) -> shapely.Polygon:
    """The square of side ``size`` degrees at lattice cell (ix, iy) from (X0, Y0)."""
    return shapely.box(X0 + ix * size, Y0 + iy * size, X0 + (ix + 1) * size, Y0 + (iy + 1) * size)


def boundaries() -> gpd.GeoDataFrame:
    """铜官区 > 幸福街道 > 翠湖社区 (west half) and 东湖社区 (east half)."""
    street = shapely.box(X0, Y0, X0 + 0.004, Y0 + 0.002)
    return gpd.GeoDataFrame(
        {
            "level": ["community", "district", "street", "community"],
            "code": [OTHER_COMMUNITY, "340705", "340705001", COMMUNITY],
            "name": ["东湖社区", "铜官区", "幸福街道", "翠湖社区"],
            "parent_code": ["340705001", None, "340705", "340705001"],
        },
        geometry=[
            shapely.box(X0 + 0.002, Y0, X0 + 0.004, Y0 + 0.002),
            street,
            street,
            shapely.box(X0, Y0, X0 + 0.002, Y0 + 0.002),
        ],
        crs=CRS,
    )


def buildings(n: int = 4, households: int = 30) -> gpd.GeoDataFrame:
    """``n`` apartment blocks B0… of compound C1, four to a row of 0.0004° cells."""
    return gpd.GeoDataFrame(
        {
            "building_id": [f"B{i}" for i in range(n)],
            "building_type": ["apartments"] * n,
            "floors": [6.0] * n,
            "households": [households] * n,
            "households_source": ["ledger"] * n,
            "population": [households * 3] * n,
            "compound_id": ["C1"] * n,
            "name": [f"{i + 1}号楼" for i in range(n)],
        },
        geometry=[square(i % 4, i // 4, 0.0004).buffer(-0.0001) for i in range(n)],
        crs=CRS,
    )


def roads() -> gpd.GeoDataFrame:
    """长江路, east-west through the middle of the 街道."""
    return gpd.GeoDataFrame(
        {"road_id": ["R1"], "road_class": ["primary"], "name": ["长江路"]},
        geometry=[shapely.LineString([(X0, Y0 + 0.001), (X0 + 0.004, Y0 + 0.001)])],
        crs=CRS,
    )


def small_grids() -> gpd.GeoDataFrame:
    """G1–G4 west to east, 0.001° wide each; G4 is a 单位网格 without households."""
    return gpd.GeoDataFrame(
        {
            "code": [G1, G2, G3, G4],
            "kind": ["residential", "residential", "residential", "unit"],
            "households": [300, 420, 260, 0],
            "n_buildings": [4, 4, 0, 0],
            "flag": [None, None, None, None],
        },
        geometry=[
            shapely.box(X0, Y0, X0 + 0.001, Y0 + 0.002),
            shapely.box(X0 + 0.001, Y0, X0 + 0.002, Y0 + 0.002),
            shapely.box(X0 + 0.002, Y0, X0 + 0.003, Y0 + 0.002),
            shapely.box(X0 + 0.003, Y0, X0 + 0.004, Y0 + 0.002),
        ],
        crs=CRS,
    )


def move_proposal_grids(split_x: float = 0.0004) -> gpd.GeoDataFrame:
    """G1 shrinks west of ``split_x``; G2 takes the rest (B1, B5 move to G2)."""
    g = small_grids().iloc[:2].copy()
    g.loc[g.index[0], "geometry"] = shapely.box(X0, Y0, X0 + split_x, Y0 + 0.002)
    g.loc[g.index[1], "geometry"] = shapely.box(X0 + split_x, Y0, X0 + 0.002, Y0 + 0.002)
    g["households"] = [60, 180]
    g["n_buildings"] = [2, 6]
    return gpd.GeoDataFrame(g, geometry="geometry", crs=CRS)


def add_move_proposal(proposals, author: str = "supervisor", base_version: int = 1) -> int:
    """A pending proposal moving B1 and B5 (30 households each) from G1 to G2; its id."""
    from gridmgmt.domain.proposal_values import ProposalContent

    moves = pd.DataFrame(
        {
            "building_id": ["B1", "B5"],
            "households": [30, 30],
            "from_code": [G1, G1],
            "to_code": [G2, G2],
        }
    )
    totals = [{"code": G1, "before": 120, "after": 60}, {"code": G2, "before": 120, "after": 180}]
    return proposals.add_proposal(
        ProposalContent(
            COMMUNITY,
            base_version=base_version,
            author=author,
            kind="move",
            grids=move_proposal_grids(),
            moves=moves,
            totals=totals,
            report={"violations": ["below_min"], "households_moved": 60},
            summary="move B1, B5",
        )
    )


#: the steps that bring a new incident to each state, as (transition, role, extras)
INCIDENT_PATHS = {
    "reported": [],
    "registered": [("register", "supervisor", {})],
    "dispatched": [("register", "supervisor", {}), ("dispatch", "supervisor", {})],
    "handled": [
        ("register", "supervisor", {}),
        ("dispatch", "supervisor", {}),
        ("accept", "dept", {}),
        ("handle", "dept", {"note": "已清理", "photo_ids": ["p.png"]}),
    ],
}


def make_incident(
    store,
    state: str = "reported",
    at: tuple[float, float] = IN_G1,
    description: str = "垃圾堆放",
    reporter: str = "worker",
    now=None,
) -> dict:
    """An incident (category 11001) at ``at`` brought to ``state`` through the real workflow."""
    from gridmgmt.domain.incidents.service import report_incident, transition_incident

    incident, _ = report_incident(
        store,
        category_code="11001",
        description=description,
        lon=at[0],
        lat=at[1],
        reporter=reporter,
        photo_ids=["p.png"],
        now=now,
    )
    for transition, role, extras in INCIDENT_PATHS[state]:
        incident = transition_incident(
            store, incident["id"], transition, actor=role, role=role, now=now, **extras
        )
    return incident


# --------------------------------------------------- grids for the assignment
#: side of the lattice squares of :func:`holed_grids`, in degrees
CELL = 0.001
#: codes of :func:`holed_grids`: A south-west, B south-east, C (holed) north-west,
#: E north-east plus a detached square further east
HOLED_GRID_CODES = ("340705001001001", "340705001001002", "340705001001003", "340705001001004")


def holed_grids() -> gpd.GeoDataFrame:
    """2 x 2 squares; C has a hole that nothing fills; E is a multipolygon."""
    a, b, c, e = HOLED_GRID_CODES
    d = CELL
    hole = shapely.box(X0 + 0.3 * d, Y0 + 1.3 * d, X0 + 0.6 * d, Y0 + 1.6 * d)
    return gpd.GeoDataFrame(
        {"code": [b, a, c, e]},
        geometry=[
            shapely.box(X0 + d, Y0, X0 + 2 * d, Y0 + d),
            shapely.box(X0, Y0, X0 + d, Y0 + d),
            shapely.box(X0, Y0 + d, X0 + d, Y0 + 2 * d).difference(hole),
            shapely.MultiPolygon(
                [
                    shapely.box(X0 + d, Y0 + d, X0 + 2 * d, Y0 + 2 * d),
                    shapely.box(X0 + 3 * d, Y0, X0 + 4 * d, Y0 + d),
                ]
            ),
        ],
        crs=4326,
    )


# ------------------------------------------------------------ synthetic 社区
def partitioned_layout(seed: int, n_buildings: int = 700, *, barriers: bool = False):
    """A synthetic 社区 partitioned into grids in memory.

    The seeds used by the rebalancing tests are chosen for the situation
    their partition leaves (one grid no move can fix, a change whole
    compounds can absorb); they were drawn without hard barriers, so that
    is the default here (``barriers=True`` partitions as the CLI does).

    Returns
    -------
    (SyntheticStreet, PartitionResult, GeoDataFrame)
        The layout, the partition (codes under :data:`COMMUNITY`) and the
        buildings with ``id`` and their ``grid_code``.
    """
    from gridmgmt.core.partition import partition
    from gridmgmt.synthetic import generate_blocks

    s = generate_blocks(n_buildings, seed=seed)
    area = s.boundaries[s.boundaries["level"] == "community"]
    part = partition(
        s.buildings,
        boundary=area,
        roads=s.roads,
        compounds=s.compounds,
        code_prefix=COMMUNITY,
        barriers=barriers,
    )
    b = s.buildings.rename(columns={"building_id": "id"}).copy()
    b["grid_code"] = part.labels.to_numpy()
    return s, part, b


def changed_households(b: gpd.GeoDataFrame, seed: int = 1) -> gpd.GeoDataFrame:
    """+10% households: demolitions, two towers on cleared sites, more families in random buildings."""
    rng = np.random.default_rng(seed)
    total = int(b["households"].sum())
    b = b.copy()
    cleared = rng.choice(len(b), 8, replace=False)
    towers = b.iloc[cleared[:2]].copy()
    towers["id"] = ["T1", "T2"]
    towers["households"] = [220, 180]
    towers["grid_code"] = None  # new buildings: placed by location
    b = b.drop(b.index[cleared])
    b = pd.concat([b, towers], ignore_index=True)
    extra = int(total * 1.10) - int(b["households"].sum())
    picks = rng.choice(len(b), max(extra // 4, 0), replace=True)
    hh = b["households"].to_numpy().copy()
    np.add.at(hh, picks, 4)
    b["households"] = hh
    return gpd.GeoDataFrame(b, geometry="geometry", crs=4326)


def partition_stored_blocks(store, n_buildings: int = 150, seed: int = 1, source: str = "t"):
    """Write a synthetic one-社区 layout to ``store`` and partition it (grid version 1).

    Returns
    -------
    The partition outcome of the one 社区 (``code``, ``name``, …).
    """
    from gridmgmt.domain.partitioning import partition_communities
    from gridmgmt.synthetic import generate_blocks

    street = generate_blocks(n_buildings, seed=seed)
    store.write_layers({layer: getattr(street, layer) for layer in street.LAYERS}, source=source)
    (outcome,) = partition_communities(store, seed=0)
    return outcome
