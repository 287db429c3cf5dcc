"""Real compound outlines filled with generated buildings, grouped into 社区 and 街道.

Land-use files (OSM ``landuse=residential``, e.g. the 2,112 residential
compounds of Hangzhou's main urban area) give real compound walls but no
buildings. :func:`fill_compounds` keeps each outline as a compound, fills it
with buildings of one housing type as the street generator does
(:func:`gridmgmt.synthetic.street.fill_compound`: seeded, reproducible),
then groups the compounds into ``n_communities`` 社区 of similar household
counts by recursive bisection of their centres, and draws 社区 outlines that
tile the area (Voronoi cells of the compound centres, with each compound
kept whole inside its 社区). The result is a
:class:`~gridmgmt.synthetic.street.SyntheticStreet` like the generator's.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.crs import utm_epsg
from gridmgmt.core.layers import (
    BOUNDARY_COLUMNS,
    BUILDING_COLUMNS,
    COMPOUND_COLUMNS,
    FACILITY_COLUMNS,
    ROAD_COLUMNS,
    WGS84,
)
from gridmgmt.core.tessellation import polygonal_part
from gridmgmt.synthetic import names as nm
from gridmgmt.synthetic.divisions import street_counts
from gridmgmt.synthetic.street import (
    DISTRICT,
    HOUSING_MIX,
    STREET_NAME,
    LayerBuilder,
    SyntheticStreet,
    fill_compound,
)

#: columns that may say what a land-use polygon is, and the value for housing
LANDUSE_COLUMNS = ("fclass", "landuse", "compound_kind")
RESIDENTIAL = ("residential",)
PRECISION_M = 0.01  # m: 社区 outlines snapped to a 1 cm grid (valid, no slivers)
MARGIN_M = 150.0  # the area around the compounds that the 社区 outlines cover


def read_compounds(path: str | Path) -> gpd.GeoDataFrame:
    """Residential polygons of a land-use file, valid, in WGS84, with ``name`` (may be None).

    Raises
    ------
    ValueError
        Without a CRS or without residential polygons.
    """
    frame = gpd.read_file(path, engine="pyogrio")
    if frame.crs is None:
        raise ValueError(f"{path}: no coordinate reference system; save it with one (EPSG:4326)")
    for column in LANDUSE_COLUMNS:
        if column in frame:
            frame = frame[frame[column].isin(RESIDENTIAL)]
            break
    geoms = shapely.make_valid(np.asarray(frame.geometry.values, dtype=object))
    polygonal = [
        shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])
        if g is not None
        else None
        for g in geoms
    ]
    names = frame["name"] if "name" in frame else pd.Series(None, index=frame.index)
    out = gpd.GeoDataFrame(
        {"name": names.where(names.notna(), None).to_numpy(dtype=object)},
        geometry=polygonal,
        crs=frame.crs,
    ).to_crs(WGS84)
    out = out[out.geometry.notna() & ~out.geometry.is_empty].reset_index(drop=True)
    if len(out) == 0:
        raise ValueError(f"{path}: no residential polygons (landuse/fclass 'residential')")
    return out


def split_points(xy: np.ndarray, weight: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """Indices of ``xy`` cut into ``len(counts)`` compact groups with weight in proportion.

    Each group has at least ``counts[k]`` points (so it can be cut again).
    """
    idx = np.arange(len(xy))
    return _bisect(xy, weight, idx, counts)


def _bisect(xy, weight, idx, counts) -> list[np.ndarray]:
    if len(counts) == 1:
        return [idx]
    half = len(counts) // 2
    first, second = counts[:half], counts[half:]
    span = xy[idx].max(axis=0) - xy[idx].min(axis=0)
    axis = 0 if span[0] >= span[1] else 1
    order = idx[np.lexsort((idx, xy[idx, axis]))]
    cum = np.cumsum(weight[order])
    at = int(np.searchsorted(cum, cum[-1] * sum(first) / sum(counts))) + 1
    at = min(max(at, sum(first)), len(order) - sum(second))
    return _bisect(xy, weight, order[:at], first) + _bisect(xy, weight, order[at:], second)


def fill_compounds(
    path: str | Path,
    seed: int = 0,
    *,
    n_communities: int = 20,
    communities_per_street: int | None = None,
    district: tuple[str, str] = DISTRICT,
) -> SyntheticStreet:
    """Fill the residential compounds of a land-use file with generated buildings.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage... with polygons (and a CRS); with an ``fclass``
        or ``landuse`` column only the ``residential`` ones are used.
    seed : int
        Seed of every random choice (housing type, floors, households).
    n_communities : int
        社区 to group the compounds into (at most one per compound).
    communities_per_street : int, optional
        社区 per 街道; default all in one 街道.
    district : (code, name)
        The 6-digit district code and name the 街道 belong to.

    Raises
    ------
    ValueError
        No residential polygons, more 社区 than compounds, impossible codes.
    """
    compounds = read_compounds(path)
    counts = street_counts(n_communities, communities_per_street)
    if n_communities > len(compounds):
        raise ValueError(
            f"{path}: {len(compounds)} compounds cannot make {n_communities} 社区 "
            "(at most one 社区 per compound)"
        )
    rng = np.random.default_rng(seed)
    centre = compounds.geometry.union_all().centroid
    epsg = utm_epsg(centre.x, centre.y)
    metric = compounds.to_crs(epsg)
    b = LayerBuilder(rng, None)
    names = _compound_names(compounds["name"])
    for k, poly in enumerate(metric.geometry.values):
        housing = rng.choice([h for h, _ in HOUSING_MIX], p=[p for _, p in HOUSING_MIX])
        cid = b.compound(poly, "residential", "residential", names[k])
        before = len(b.buildings)
        fill_compound(b, poly, housing, cid, names[k])
        if len(b.buildings) == before and housing != "old":  # too small: old low houses fit
            fill_compound(b, poly, "old", cid, names[k])
    households = _households_per_compound(b, len(metric))
    xy = shapely.get_coordinates(metric.geometry.representative_point().values)
    by_street = split_points(xy, households + 1.0, counts)
    groups = [
        [members[g] for g in split_points(xy[members], households[members] + 1.0, [1] * c)]
        for members, c in zip(by_street, counts, strict=True)
    ]
    outlines = _community_outlines(metric.geometry.values, xy, [g for s in groups for g in s])
    return _assemble(b, groups, outlines, epsg, district, seed)


def _compound_names(names: pd.Series) -> list[str]:
    """The file's names where given and unique, generated 小区 names otherwise."""
    generated = iter(f"{p}{s}" for s in nm.COMPOUND_SUFFIXES for p in nm.COMPOUND_PREFIXES)
    seen: set[str] = set()
    out = []
    for k, name in enumerate(names):
        if not isinstance(name, str) or not name.strip() or name in seen:
            name = next(generated, None) or f"第{k + 1}小区"
            while name in seen:
                name = next(generated, None) or f"第{k + 1}小区"
        seen.add(name)
        out.append(name)
    return out


def _households_per_compound(b: LayerBuilder, n: int) -> np.ndarray:
    ids = {f"C{k + 1:06d}": k for k in range(n)}
    out = np.zeros(n)
    for row in b.buildings:
        out[ids[row["compound_id"]]] += row["households"]
    return out


def _community_outlines(polys, xy: np.ndarray, groups: list[np.ndarray]) -> list:
    """社区 polygons tiling the area: Voronoi cells of their compounds, compounds kept whole."""
    extent = shapely.union_all(polys).envelope.buffer(MARGIN_M, join_style="mitre")
    cells = shapely.voronoi_polygons(shapely.MultiPoint(xy), extend_to=extent)
    cells = np.asarray(shapely.get_parts(cells), dtype=object)
    owner = np.empty(len(xy), dtype=int)
    for k, members in enumerate(groups):
        owner[members] = k
    # duplicate centres share one cell: give every point the cell that holds it
    tree = shapely.STRtree(cells)
    pairs = tree.query(shapely.points(xy), predicate="intersects")
    cell_of = np.full(len(xy), -1)
    cell_of[pairs[0][::-1]] = pairs[1][::-1]
    walls = shapely.STRtree(polys)
    outlines = []
    for k, members in enumerate(groups):
        region = shapely.union_all([*cells[np.unique(cell_of[members])], *polys[members]])
        near = walls.query(region, predicate="intersects")
        others = shapely.union_all(polys[near[owner[near] != k]])
        outline = shapely.intersection(shapely.difference(region, others), extent)
        outline = shapely.set_precision(outline, PRECISION_M)  # no sliver rings
        outlines.append(polygonal_part(outline, min_area=1.0))
    return outlines


def _assemble(b: LayerBuilder, groups, outlines, epsg: int, district, seed) -> SyntheticStreet:
    def frame(rows, columns):
        df = pd.DataFrame(rows, columns=[*columns, "geometry"])
        return gpd.GeoDataFrame(
            df.drop(columns="geometry"), geometry=list(df["geometry"]), crs=f"EPSG:{epsg}"
        ).to_crs(WGS84)

    district_code, district_name = district
    street_names = nm.unique_place_names(len(groups), "街道", (STREET_NAME,))
    community_names = iter(nm.unique_place_names(len(outlines), "社区", nm.COMMUNITY_NAMES))
    polys = iter(outlines)
    rows = [
        {
            "level": "district",
            "code": district_code,
            "name": district_name,
            "parent_code": None,
            "geometry": shapely.union_all(outlines),
        }
    ]
    for s, members in enumerate(groups):
        street_code = f"{district_code}{s + 1:03d}"
        mine = [next(polys) for _ in members]
        rows.append(
            {
                "level": "street",
                "code": street_code,
                "name": street_names[s],
                "parent_code": district_code,
                "geometry": shapely.union_all(mine),
            }
        )
        for k, poly in enumerate(mine):
            name = next(community_names)
            rows.append(
                {
                    "level": "community",
                    "code": f"{street_code}{k + 1:03d}",
                    "name": name,
                    "parent_code": street_code,
                    "geometry": poly,
                }
            )
            b.facility(poly.representative_point(), "community_centre", f"{name}党群服务中心")
    return SyntheticStreet(
        boundaries=frame(rows, BOUNDARY_COLUMNS),
        roads=frame(b.roads, ROAD_COLUMNS),
        compounds=frame(b.compounds, COMPOUND_COLUMNS),
        buildings=frame(b.buildings, BUILDING_COLUMNS),
        facilities=frame(b.facilities, FACILITY_COLUMNS),
        district_code=district_code,
        street_code=f"{district_code}001",
        seed=seed,
    )
