"""A seeded, realistic demo 街道 (our own generator; no external data).

Layout, in a local metric CRS (UTM) and returned in WGS84:

- arterial roads (主干道/次干道) with slight bends form superblocks of
  300–600 m; the 街道 boundary follows the outer arterials;
- 社区 are contiguous groups of superblocks, so their boundaries follow
  arterials and tile the 街道 exactly;
- most superblocks hold gated 小区 separated by branch roads, each filled with
  one housing type: 6-floor walk-up rows (24–36 households), 18–33-floor
  towers (100–260), villas (1), or old 平房; internal paths run between rows;
- other superblocks hold schools, a hospital, a market, a university campus
  (> 10 ha, the 单位网格 candidate), parks; kindergartens, clinics, a 街道办事处,
  a police station and one community centre per 社区 are placed inside.

:func:`generate_blocks` makes the same kind of layout at any size (for
benchmarks); :func:`generate_street` makes the demo with a household target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from gridmgmt.synthetic import names as nm
from gridmgmt.synthetic.divisions import split_cells, street_counts

DEFAULT_ORIGIN = (117.81, 30.94)  # 铜陵 铜官区
DISTRICT = ("340705", "铜官区")
STREET_NAME = "幸福街道"
ARTERIAL_HALF_WIDTH = 15.0  # m: half the road corridor along arterials
BRANCH_HALF_WIDTH = 7.0  # m: between 小区
WALL_SETBACK = 6.0  # m: from a compound wall to its buildings
SUPERBLOCK_AREA = 440.0**2  # m²: the mean superblock between arterials (320-560 m apart)

#: housing type -> (footprint w, d in m, spacing x, y in m, floors range, households range)
HOUSING = {
    "walkup": ((60.0, 12.0), (72.0, 30.0), (5, 7), (24, 36)),
    "tower": ((28.0, 22.0), (62.0, 66.0), (18, 33), (100, 260)),
    "villa": ((16.0, 13.0), (28.0, 26.0), (2, 3), (1, 1)),
    "old": ((30.0, 9.0), (36.0, 16.0), (1, 2), (4, 8)),
}
HOUSING_TYPE = {"walkup": "apartments", "tower": "apartments", "villa": "villa", "old": "house"}
HOUSING_MIX = (("walkup", 0.55), ("tower", 0.3), ("villa", 0.07), ("old", 0.08))


@dataclass
class SyntheticStreet:
    """A generated 街道: its layers in EPSG:4326 with the columns of :mod:`gridmgmt.core.layers`."""

    boundaries: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    district_code: str = DISTRICT[0]
    street_code: str = DISTRICT[0] + "001"
    seed: int = 0
    extra: dict = field(default_factory=dict)

    LAYERS = ("boundaries", "roads", "compounds", "buildings", "facilities")

    def households_by_community(self) -> pd.Series:
        """Households per 社区 name (buildings placed by representative point)."""
        comm = self.boundaries[self.boundaries["level"] == "community"]
        pts = gpd.GeoDataFrame(
            self.buildings[["households"]],
            geometry=self.buildings.representative_point(),
            crs=WGS84,
        )
        hit = gpd.sjoin(pts, comm[["name", "geometry"]], predicate="within")
        return hit.groupby("name")["households"].sum()


# ------------------------------------------------------------------ layout
class LayerBuilder:
    """Accumulates features in metric coordinates; one instance per street."""

    def __init__(self, rng: np.random.Generator, mean_households: float | None):
        self.rng = rng
        self.mean_households = mean_households
        self.roads: list[dict] = []
        self.compounds: list[dict] = []
        self.buildings: list[dict] = []
        self.facilities: list[dict] = []

    def _id(self, prefix: str, items: list) -> str:
        return f"{prefix}{len(items) + 1:06d}"

    def road(self, line, road_class: str, name: str | None) -> None:
        self.roads.append(
            {
                "road_id": self._id("R", self.roads),
                "road_class": road_class,
                "name": name,
                "geometry": line,
            }
        )

    def compound(self, poly, kind: str, landuse: str, name: str) -> str:
        cid = self._id("C", self.compounds)
        self.compounds.append(
            {
                "compound_id": cid,
                "compound_kind": kind,
                "landuse": landuse,
                "name": name,
                "geometry": poly,
            }
        )
        return cid

    def facility(self, geom, category: str, name: str) -> None:
        self.facilities.append(
            {
                "facility_id": self._id("F", self.facilities),
                "category": category,
                "name": name,
                "geometry": geom,
            }
        )

    def building_rows(self, geoms, btype, floors, households, compound_id, names, source) -> None:
        start = len(self.buildings)
        for i, g in enumerate(geoms):
            hh = int(households[i])
            self.buildings.append(
                {
                    "building_id": f"B{start + i + 1:06d}",
                    "building_type": btype[i] if isinstance(btype, list | np.ndarray) else btype,
                    "floors": float(floors[i]),
                    "households": hh,
                    "households_source": source[i]
                    if isinstance(source, list | np.ndarray)
                    else source,
                    "population": int(round(hh * self.rng.uniform(2.4, 3.0))),
                    "compound_id": compound_id,
                    "name": names[i],
                    "geometry": g,
                }
            )


def _lattice(total: float, lo: float, hi: float, rng) -> np.ndarray:
    """Cut positions 0 < ... < total with gaps in [lo, hi]."""
    cuts = [0.0]
    while total - cuts[-1] > hi:
        cuts.append(cuts[-1] + rng.uniform(lo, hi))
    if total - cuts[-1] < lo and len(cuts) > 1:
        cuts.pop()
    cuts.append(total)
    return np.asarray(cuts)


def _arterials(width: float, height: float, rng):
    """Bent arterial lines across the street and the superblock faces they make."""
    xs = _lattice(width, 320, 560, rng)
    ys = _lattice(height, 320, 560, rng)
    jx = rng.normal(0, 18, size=(len(xs), len(ys)))
    jy = rng.normal(0, 18, size=(len(xs), len(ys)))
    jx[0, :] = jx[-1, :] = 0
    jy[:, 0] = jy[:, -1] = 0
    node = lambda i, j: (xs[i] + jx[i, j], ys[j] + jy[i, j])  # noqa: E731
    verticals = [shapely.LineString([node(i, j) for j in range(len(ys))]) for i in range(len(xs))]
    horizontals = [shapely.LineString([node(i, j) for i in range(len(xs))]) for j in range(len(ys))]
    faces = []
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            faces.append(
                (
                    (i, j),
                    shapely.Polygon(
                        [node(i, j), node(i + 1, j), node(i + 1, j + 1), node(i, j + 1)]
                    ),
                )
            )
    return verticals, horizontals, faces, (len(xs) - 1, len(ys) - 1)


def fill_compound(b: LayerBuilder, poly, housing: str, cid: str, cname: str) -> None:
    """Place buildings of one housing type on a lattice inside ``poly``, with paths between rows."""
    rng = b.rng
    (w, d), (sx, sy), (f_lo, f_hi), (h_lo, h_hi) = HOUSING[housing]
    inner = poly.buffer(-WALL_SETBACK, join_style="mitre")
    if inner.is_empty:
        return
    minx, miny, maxx, maxy = inner.bounds
    cx = np.arange(minx + w / 2, maxx - w / 2 + 1e-9, sx)
    cy = np.arange(miny + d / 2, maxy - d / 2 + 1e-9, sy)
    if len(cx) == 0 or len(cy) == 0:
        return
    gx, gy = np.meshgrid(cx, cy)
    gx, gy = gx.ravel(), gy.ravel()
    boxes = shapely.box(gx - w / 2, gy - d / 2, gx + w / 2, gy + d / 2)
    shapely.prepare(inner)
    boxes = boxes[shapely.contains(inner, boxes)]
    if len(boxes) == 0:
        return
    n = len(boxes)
    floors = rng.integers(f_lo, f_hi + 1, size=n)
    if housing == "tower":
        households = np.clip(np.rint(floors * rng.uniform(4, 8, size=n)), h_lo, h_hi)
    elif housing == "walkup":
        households = floors * rng.choice([4, 5, 6], size=n)
        households = np.clip(households, h_lo, h_hi)
    else:
        households = rng.integers(h_lo, h_hi + 1, size=n)
    if b.mean_households is not None:  # benchmark layouts: a skewed distribution with this mean
        sigma = 0.6
        mu = np.log(b.mean_households) - sigma**2 / 2
        households = np.maximum(1, np.rint(rng.lognormal(mu, sigma, size=n)))
    source = np.where(rng.random(n) < 0.85, "ledger", "estimated")
    names = [f"{cname}{k + 1}号楼" for k in range(n)]
    b.building_rows(list(boxes), HOUSING_TYPE[housing], floors, households, cid, names, source)
    rows = np.unique(np.round(gy[: len(gy)], 3))
    for y in rows[:-1]:
        path = shapely.LineString([(minx, y + sy / 2), (maxx, y + sy / 2)]).intersection(inner)
        if not path.is_empty and path.length > 20:
            for part in shapely.get_parts(path):
                b.road(part, "service", None)


def _split(poly, rng, max_area: float) -> list:
    """Cut ``poly`` along its longer axis until each piece is below ``max_area``."""
    if poly.area <= max_area:
        return [poly]
    minx, miny, maxx, maxy = poly.bounds
    t = rng.uniform(0.4, 0.6)
    if maxx - minx >= maxy - miny:
        x = minx + t * (maxx - minx)
        a, c = (
            shapely.box(minx - 1, miny - 1, x, maxy + 1),
            shapely.box(x, miny - 1, maxx + 1, maxy + 1),
        )
    else:
        y = miny + t * (maxy - miny)
        a, c = (
            shapely.box(minx - 1, miny - 1, maxx + 1, y),
            shapely.box(minx - 1, y, maxx + 1, maxy + 1),
        )
    return _split(poly.intersection(a), rng, max_area) + _split(poly.intersection(c), rng, max_area)


def _residential_block(b: LayerBuilder, block, rng, names_iter) -> None:
    pieces = _split(block, rng, rng.uniform(40_000, 90_000))
    for piece in pieces:
        compound = piece.buffer(-BRANCH_HALF_WIDTH, join_style="mitre")
        if compound.is_empty or compound.area < 4_000:
            continue
        housing = rng.choice([h for h, _ in HOUSING_MIX], p=[p for _, p in HOUSING_MIX])
        cname = next(names_iter)
        cid = b.compound(compound, "residential", "residential", cname)
        fill_compound(b, compound, housing, cid, cname)
        if compound.area > 60_000 and rng.random() < 0.35:
            b.facility(
                compound.representative_point(), "kindergarten", rng.choice(nm.KINDERGARTEN_NAMES)
            )
    # branch roads along the cuts between pieces
    edges = shapely.union_all([p.boundary for p in pieces]).difference(block.boundary.buffer(1.0))
    for part in shapely.get_parts(edges):
        if part.length > 30:
            b.road(part, "tertiary", None)


def _unit_block(
    b: LayerBuilder,
    block,
    landuse: str,
    name: str,
    category: str | None,
    rng,
    *,
    n_buildings: int,
    floors=(3, 6),
    dorms: int = 0,
) -> None:
    compound = block.buffer(-BRANCH_HALF_WIDTH, join_style="mitre")
    cid = b.compound(compound, "unit", landuse, name)
    if category:
        b.facility(compound, category, name)
    inner = compound.buffer(-15)
    placed = []
    tries = 0
    minx, miny, maxx, maxy = inner.bounds if not inner.is_empty else (0.0, 0.0, 0.0, 0.0)
    while len(placed) < n_buildings + dorms and tries < 400 and maxx - minx > 10 < maxy - miny:
        tries += 1
        # a small unit block (a thin piece of a split block) takes smaller buildings
        w = min(rng.uniform(40, 90), maxx - minx)
        d = min(rng.uniform(15, 30), maxy - miny)
        x, y = rng.uniform(minx + w / 2, maxx - w / 2), rng.uniform(miny + d / 2, maxy - d / 2)
        box = shapely.box(x - w / 2, y - d / 2, x + w / 2, y + d / 2)
        if inner.contains(box) and not any(box.distance(p) < 12 for p in placed):
            placed.append(box)
    types = [
        "dormitory"
        if k < dorms
        else {
            "university": "university",
            "school": "school",
            "hospital": "hospital",
            "industrial": "industrial",
            "government": "public",
        }.get(landuse, "public")
        for k in range(len(placed))
    ]
    fl = rng.integers(floors[0], floors[1] + 1, size=len(placed))
    b.building_rows(
        placed,
        types,
        fl,
        np.zeros(len(placed)),
        cid,
        [f"{name}{k + 1}号楼" for k in range(len(placed))],
        "estimated",
    )


def _layout(
    width: float,
    height: float,
    n_communities: int,
    rng,
    *,
    mean_households=None,
    special: bool = True,
    per_street: int | None = None,
):
    b = LayerBuilder(rng, mean_households)
    verticals, horizontals, faces, (nx, ny) = _arterials(width, height, rng)
    road_names = iter(nm.ROAD_NAMES * 100)
    for line in verticals[1:-1] + horizontals[1:-1]:
        b.road(line, "primary" if rng.random() < 0.4 else "secondary", next(road_names))
    for line in (verticals[0], verticals[-1], horizontals[0], horizontals[-1]):
        b.road(line, "primary", next(road_names))
    compound_names = iter(
        f"{p}{s}" for s in nm.COMPOUND_SUFFIXES for p in rng.permutation(nm.COMPOUND_PREFIXES)
    )
    compound_names = _unique_names(compound_names)

    blocks = {ij: poly.buffer(-ARTERIAL_HALF_WIDTH, join_style="mitre") for ij, poly in faces}
    order = sorted(blocks)
    roles = {ij: "residential" for ij in order}
    if special and len(order) >= 6:
        by_area = sorted(order, key=lambda ij: -blocks[ij].area)
        roles[by_area[0]] = "campus"
        rest = [ij for ij in rng.permutation(len(order)) if order[ij] != by_area[0]]
        specials = ["school", "hospital", "park", "school", "market"]
        for ij, role in zip([order[k] for k in rest], specials, strict=False):
            roles[ij] = role
    schools = iter(nm.SCHOOL_NAMES * 10)
    for ij in order:
        block, role = blocks[ij], roles[ij]
        if role == "residential":
            _residential_block(b, block, rng, compound_names)
        elif role == "campus":
            _unit_block(
                b,
                block,
                "university",
                "铜陵学院",
                "university",
                rng,
                n_buildings=28,
                floors=(4, 8),
                dorms=8,
            )
        elif role == "school":
            part = _split(block, rng, block.area / 2.2)
            _unit_block(
                b, part[0], "school", next(schools), "school", rng, n_buildings=4, floors=(3, 5)
            )
            for piece in part[1:]:
                _residential_block(b, piece, rng, compound_names)
        elif role == "hospital":
            part = _split(block, rng, block.area / 2.2)
            _unit_block(
                b,
                part[0],
                "hospital",
                "铜陵市人民医院",
                "hospital",
                rng,
                n_buildings=6,
                floors=(5, 12),
            )
            for piece in part[1:]:
                _residential_block(b, piece, rng, compound_names)
        elif role == "park":
            b.facility(block.buffer(-5), "park", f"{next(compound_names)[:2]}公园")
        elif role == "market":
            part = _split(block, rng, block.area / 2.2)
            hall = part[0].centroid.buffer(35, cap_style="square")
            b.building_rows([hall], "retail", [2], [0], None, ["农贸市场"], "estimated")
            b.facility(hall, "market", "新城农贸市场")
            for piece in part[1:]:
                _residential_block(b, piece, rng, compound_names)

    return b, _divide(faces, nx, ny, n_communities, per_street)


def _divide(faces, nx: int, ny: int, n_communities: int, per_street: int | None):
    """街道 and their 社区 as ``[(street polygon, [community polygons])]``.

    One 街道 of at most ``nx`` 社区: contiguous column bands of superblocks
    (the demo's layout); otherwise rectangles of superblocks
    (:func:`~gridmgmt.synthetic.divisions.split_cells`), first into 街道 of
    ``per_street`` 社区, then each into its 社区.
    """
    counts = street_counts(n_communities, per_street)
    by_cell = dict(faces)
    if len(counts) == 1 and n_communities <= nx:
        street_poly = shapely.union_all([p for _, p in faces])
        community_polys = []
        bands = np.array_split(np.arange(nx), max(1, min(n_communities, nx)))
        for band in bands:
            community_polys.append(
                shapely.union_all([p for (i, j), p in faces if i in set(band.tolist())])
            )
        return [(street_poly, community_polys)]
    out = []
    for (cols, rows), count in zip(split_cells(range(nx), range(ny), counts), counts, strict=True):
        pieces = split_cells(cols, rows, [1] * count)
        polys = [shapely.union_all([by_cell[(i, j)] for i in c for j in r]) for c, r in pieces]
        out.append((shapely.union_all(polys), polys))
    return out


def _unique_names(it):
    seen = set()
    for name in it:
        if name not in seen:
            seen.add(name)
            yield name
    k = 0
    while True:
        k += 1
        yield f"第{k}小区"


def _place_services(b: LayerBuilder, streets, rng) -> None:
    """A party-service centre and a clinic per 社区, a 街道办事处 and a police station per 街道."""
    street_names, community_names = _division_names(streets)
    k = 0
    for street_name, (street_poly, community_polys) in zip(street_names, streets, strict=True):
        for poly in community_polys:
            name = community_names[k]
            k += 1
            b.facility(_random_point_in(poly, rng), "community_centre", f"{name}党群服务中心")
            b.facility(_random_point_in(poly, rng), "clinic", f"{name[:-2]}社区卫生服务站")
        b.facility(_random_point_in(street_poly, rng), "government", f"{street_name}办事处")
        b.facility(_random_point_in(street_poly, rng), "police", f"{street_name[:-2]}派出所")


def _division_names(streets) -> tuple[list[str], list[str]]:
    """Unique names of the 街道 and of all 社区, the demo's names first."""
    n = sum(len(polys) for _, polys in streets)
    return (
        nm.unique_place_names(len(streets), "街道", (STREET_NAME,)),
        nm.unique_place_names(n, "社区", nm.COMMUNITY_NAMES),
    )


def _random_point_in(poly, rng):
    minx, miny, maxx, maxy = poly.bounds
    for _ in range(1000):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if poly.contains(p):
            return p
    return poly.representative_point()


def _assemble(b: LayerBuilder, streets, origin, seed) -> SyntheticStreet:
    lon0, lat0 = origin
    epsg = utm_epsg(lon0, lat0)
    from pyproj import Transformer

    x0, y0 = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon0, lat0)

    def frame(rows, columns):
        df = pd.DataFrame(rows, columns=[*columns, "geometry"])
        geoms = shapely.transform(
            np.asarray(df["geometry"].tolist() or [], dtype=object), lambda c: c + [x0, y0]
        )
        return gpd.GeoDataFrame(
            df.drop(columns="geometry"), geometry=list(geoms), crs=f"EPSG:{epsg}"
        ).to_crs(WGS84)

    district = DISTRICT[0]
    whole = streets[0][0] if len(streets) == 1 else shapely.union_all([p for p, _ in streets])
    rows = [
        {
            "level": "district",
            "code": district,
            "name": DISTRICT[1],
            "parent_code": None,
            "geometry": whole,
        }
    ]
    street_names, community_names = _division_names(streets)
    names = iter(community_names)
    for s, (street_poly, community_polys) in enumerate(streets):
        street_code = f"{district}{s + 1:03d}"
        rows.append(
            {
                "level": "street",
                "code": street_code,
                "name": street_names[s],
                "parent_code": district,
                "geometry": street_poly,
            }
        )
        for k, poly in enumerate(community_polys):
            rows.append(
                {
                    "level": "community",
                    "code": f"{street_code}{k + 1:03d}",
                    "name": next(names),
                    "parent_code": street_code,
                    "geometry": poly,
                }
            )
    street_code = district + "001"
    return SyntheticStreet(
        boundaries=frame(rows, BOUNDARY_COLUMNS),
        roads=frame(b.roads, ROAD_COLUMNS),
        compounds=frame(b.compounds, COMPOUND_COLUMNS),
        buildings=frame(b.buildings, BUILDING_COLUMNS),
        facilities=frame(b.facilities, FACILITY_COLUMNS),
        district_code=district,
        street_code=street_code,
        seed=seed,
    )


def _thin_to(b: LayerBuilder, target: int, rng) -> None:
    """Drop residential buildings at random until total households is near ``target``."""
    hh = np.array([x["households"] for x in b.buildings])
    total = hh.sum()
    if total <= target:
        return
    residential = np.flatnonzero(hh > 0)
    order = rng.permutation(residential)
    drop = order[np.cumsum(hh[order]) <= total - target]
    keep = np.ones(len(hh), bool)
    keep[drop] = False
    kept = [x for x, k in zip(b.buildings, keep, strict=True) if k]
    for i, x in enumerate(kept):
        x["building_id"] = f"B{i + 1:06d}"
    b.buildings = kept


# ------------------------------------------------------------------ public
def generate_street(
    seed: int = 0,
    *,
    n_communities: int = 3,
    target_households: int = 25_000,
    origin: tuple[float, float] = DEFAULT_ORIGIN,
    communities_per_street: int | None = None,
) -> SyntheticStreet:
    """The demo 街道: ~``target_households`` households in ``n_communities`` 社区.

    Any number of 社区 is made, each with its own name and 12-digit code;
    with ``communities_per_street`` they are grouped into several 街道 (a
    city district), each holding that many.

    Parameters
    ----------
    seed : int
        Everything random comes from ``numpy.random.default_rng(seed)``.
    n_communities : int
        Number of 社区: contiguous bands of superblocks when they fit side by
        side in one 街道, else contiguous rectangles of superblocks.
    target_households : int
        Households in all; the layout is sized for it and thinned to it (and
        made larger when it would hold fewer superblocks than 社区).
    origin : (lon, lat)
        South-west corner of the 街道.
    communities_per_street : int, optional
        社区 per 街道; default all in one 街道 (at most 999).
    """
    if target_households <= 0 or n_communities <= 0:
        raise ValueError("target_households and n_communities must be positive")
    street_counts(n_communities, communities_per_street)  # refuse impossible codes early
    rng = np.random.default_rng(seed)
    area = target_households / 23_000 * 2.6e6 * 1.3  # m²: observed density, with margin to thin
    area = max(area, n_communities * 2.0 * SUPERBLOCK_AREA)
    width = float(np.sqrt(area * 1.35))
    height = area / width
    b, streets = _layout(width, height, n_communities, rng, per_street=communities_per_street)
    _thin_to(b, int(target_households), rng)
    _place_services(b, streets, rng)
    return _assemble(b, streets, origin, seed)


def generate_blocks(
    n_buildings: int,
    seed: int = 0,
    *,
    mean_households: float = 30.0,
    origin: tuple[float, float] = DEFAULT_ORIGIN,
) -> SyntheticStreet:
    """A street-block layout with about ``n_buildings`` residential buildings, one 社区.

    For benchmarks: households average about ``mean_households`` per
    building; no campus or other special blocks.
    """
    if n_buildings <= 0:
        raise ValueError("n_buildings must be positive")
    rng = np.random.default_rng(seed)
    side = float(np.sqrt(n_buildings * 3_600.0))
    b, streets = _layout(side, side, 1, rng, mean_households=mean_households, special=False)
    if len(b.buildings) > n_buildings:
        keep = np.sort(rng.choice(len(b.buildings), n_buildings, replace=False))
        b.buildings = [b.buildings[i] for i in keep]
        for i, x in enumerate(b.buildings):
            x["building_id"] = f"B{i + 1:06d}"
    return _assemble(b, streets, origin, seed)


def save_street(street: SyntheticStreet, path: str | Path) -> Path:
    """Write the street as one GeoPackage with a layer per :attr:`SyntheticStreet.LAYERS`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    for layer in SyntheticStreet.LAYERS:
        getattr(street, layer).to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


def load_street(path: str | Path) -> SyntheticStreet:
    """Read a GeoPackage written by :func:`save_street`."""
    import pyogrio

    layers = {name: pyogrio.read_dataframe(path, layer=name) for name in SyntheticStreet.LAYERS}
    street = layers["boundaries"]
    code = street.loc[street["level"] == "street", "code"].iloc[0]
    return SyntheticStreet(**layers, district_code=code[:6], street_code=code)
