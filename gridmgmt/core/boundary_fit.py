"""Does a boundary fit the data? Missing boundaries and GCJ-02 offsets.

An official 街道/社区 outline that covers none of the buildings is the
wrong file (or the wrong place); one saved from a Chinese web map is often
in GCJ-02 although it declares WGS84, and then sits a few hundred metres
off the data (:mod:`gridmgmt.core.coords`). :func:`assess_fit` compares the
boundary as given with the same boundary moved by the GCJ-02→WGS84 shift
(computed at its centroid), and by the opposite shift (the data, not the
boundary, being GCJ-02), on three pieces of evidence:

- the share of the buildings' footprint area inside the boundary;
- the number of buildings cut by a boundary line (internal lines between
  the file's polygons included): a registered outline follows roads and
  walls, a shifted one runs through houses;
- the share of the boundary's length, within the data's extent, that runs
  along a road.

A shift fits *markedly better* when it brings at least :data:`GAIN_INSIDE`
more of the footprint inside, or cuts at most a quarter as many buildings
(at least :data:`MIN_CUT` cut as given) without losing footprint, or puts
:data:`GAIN_ROADS` more of the boundary on roads without losing footprint.
The verdict also needs the shift to single itself out: shifts of the same
length in other directions, and half as long or half as long again in its
own (decoys), must fit clearly worse, since an outline that cuts through the
data often fits "better" moved outwards, and is then more probably right
than offset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.core import coords as cc
from gridmgmt.core.boundary_sides import footprint_sides
from gridmgmt.core.crs import metric_crs
from gridmgmt.core.layers import WGS84

#: below this share of footprint inside, a boundary "misses" the data
MISS_SHARE = 0.02
#: gain in footprint share inside that counts as a markedly better fit
GAIN_INSIDE = 0.25
#: cut buildings needed before fewer cuts count as evidence
MIN_CUT = 5
#: gain in the share of boundary length along roads that counts as markedly better
GAIN_ROADS = 0.3
#: a boundary line within this distance (m) of a road centre line runs along it
ROAD_NEAR_M = 20.0
#: boundary length (m) within the data's extent needed to judge road alignment
MIN_LINE_M = 300.0
#: shifts shorter than this (m) are not tested (outside China there is none)
MIN_SHIFT_M = 50.0


@dataclass(frozen=True)
class Placement:
    """How the boundary, moved by one shift, meets the data."""

    share_inside: float
    cut: int
    on_roads: float | None  # share of boundary length along roads; None without evidence


#: directions (degrees from the GCJ-02 -> WGS84 shift) of the shifts tried; 0 converts the
#: boundary, 180 the data, the others are decoys of the same length
DIRECTIONS = (0, 45, 90, 135, 180, 225, 270, 315)
#: lengths (times the shift) of the decoys in directions 0 and 180: a true offset is
#: undone by the exact shift, not by one half as long or half as long again
SCALES = (0.5, 1.5)
#: how much more footprint inside, fewer buildings cut (and at most half as many) or
#: more boundary along roads the converted placement needs over every decoy
DECOY_MARGIN = 0.02
DECOY_CUTS = 3
DECOY_ROADS = 0.1


@dataclass(frozen=True)
class BoundaryFit:
    """The boundary as given and moved by the GCJ-02 shift turned by each of :data:`DIRECTIONS`."""

    given: Placement
    moved: Mapping[tuple[int, float], Placement]  # (direction, length in shifts) -> placement
    shift_m: float
    n_buildings: int

    @property
    def as_gcj02(self) -> Placement:
        """The boundary converted GCJ-02 -> WGS84."""
        return self.moved[0, 1.0]

    @property
    def data_as_gcj02(self) -> Placement:
        """The boundary moved WGS84 -> GCJ-02 (as if the data were GCJ-02)."""
        return self.moved[180, 1.0]

    @property
    def misses(self) -> bool:
        """The boundary covers (almost) none of the buildings' footprint."""
        return self.given.share_inside < MISS_SHARE

    @property
    def boundary_looks_gcj02(self) -> bool:
        """Converting the boundary from GCJ-02 fits markedly better, and better than any decoy."""
        return self._singles_out(0)

    @property
    def data_looks_gcj02(self) -> bool:
        """Converting the data from GCJ-02 (moving the boundary the other way) fits markedly better."""
        return not self.boundary_looks_gcj02 and self._singles_out(180)

    def _singles_out(self, direction: int) -> bool:
        if self.shift_m < MIN_SHIFT_M:
            return False
        chosen = self.moved[direction, 1.0]
        if not better(chosen, self.given):
            return False
        # other shifts must fit clearly worse: a boundary cutting the data may simply
        # fit better moved outwards, in any direction and the further the better
        return all(dominates(chosen, p) for k, p in self.moved.items() if k != (direction, 1.0))

    def describe(self) -> str:
        """One line of evidence: footprint inside and buildings cut, as given and converted."""
        g = self.given
        s = self.data_as_gcj02 if self.data_looks_gcj02 else self.as_gcj02
        text = (
            f"as given it holds {g.share_inside:.0%} of the {self.n_buildings} buildings' "
            f"footprint and cuts {g.cut} building(s); moved by the GCJ-02 offset "
            f"(~{self.shift_m:.0f} m) {s.share_inside:.0%} and {s.cut}"
        )
        if g.on_roads is not None and s.on_roads is not None:
            text += f"; along roads {g.on_roads:.0%} vs {s.on_roads:.0%} of its length"
        return text


def better(moved: Placement, given: Placement) -> bool:
    """Whether ``moved`` fits the data markedly better than ``given`` (see the module doc)."""
    keeps = moved.share_inside >= given.share_inside - MISS_SHARE
    more_inside = (
        moved.share_inside >= 0.5 and moved.share_inside - given.share_inside >= GAIN_INSIDE
    )
    fewer_cuts = keeps and given.cut >= MIN_CUT and moved.cut * 4 <= given.cut
    roads = (
        keeps
        and given.on_roads is not None
        and moved.on_roads is not None
        and moved.on_roads >= 0.5
        and moved.on_roads - given.on_roads >= GAIN_ROADS
    )
    return more_inside or fewer_cuts or roads


def dominates(chosen: Placement, decoy: Placement) -> bool:
    """Whether ``chosen`` fits clearly better than ``decoy``: more inside, fewer cuts or more on roads."""
    if chosen.share_inside >= decoy.share_inside + DECOY_MARGIN:
        return True
    if chosen.share_inside < decoy.share_inside - DECOY_MARGIN:
        return False
    if chosen.cut * 2 <= decoy.cut and decoy.cut - chosen.cut >= DECOY_CUTS:
        return True
    return (
        chosen.cut <= decoy.cut
        and chosen.on_roads is not None
        and decoy.on_roads is not None
        and chosen.on_roads >= decoy.on_roads + DECOY_ROADS
    )


def gcj02_shift(boundary: gpd.GeoSeries | gpd.GeoDataFrame) -> tuple[float, float]:
    """(dlon, dlat) in degrees moving a GCJ-02 boundary to WGS84, taken at its centroid."""
    geoms = boundary.to_crs(WGS84).geometry.values
    c = shapely.centroid(shapely.union_all(np.asarray(geoms, dtype=object)))
    lon, lat = cc.gcj02_to_wgs84(c.x, c.y)
    return float(lon) - c.x, float(lat) - c.y


def assess_fit(
    boundary: gpd.GeoSeries | gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
) -> BoundaryFit:
    """Compare the boundary, as given and moved by the GCJ-02 offset, with buildings and roads.

    Parameters
    ----------
    boundary : GeoSeries or GeoDataFrame
        Polygons with a CRS (one or several; internal lines count as boundary lines).
    buildings : GeoDataFrame
        Footprints with a CRS; at least one.
    roads : GeoDataFrame, optional
        Centre lines, for the alignment evidence.

    Returns
    -------
    BoundaryFit
    """
    dlon, dlat = gcj02_shift(boundary)
    polys = np.asarray(boundary.to_crs(WGS84).geometry.values, dtype=object)
    crs = metric_crs(buildings)
    b = np.asarray(buildings.to_crs(crs).geometry.values, dtype=object)
    road_zone = None
    if roads is not None and len(roads):
        r = np.asarray(roads.to_crs(crs).geometry.values, dtype=object)
        road_zone = shapely.buffer(shapely.union_all(r), ROAD_NEAR_M)
    extent = shapely.box(*shapely.total_bounds(b)).buffer(100.0)

    def place(dx: float, dy: float) -> Placement:
        moved = shapely.transform(polys, lambda xy: xy + np.array([dx, dy]))
        metric = np.asarray(gpd.GeoSeries(moved, crs=WGS84).to_crs(crs).values, dtype=object)
        metric = shapely.make_valid(metric)
        sides = footprint_sides(b, metric)
        footprint = shapely.area(b)
        total = footprint.sum()
        share = float((sides.share_inside * footprint).sum() / total) if total > 0 else 0.0
        on_roads = None
        if road_zone is not None:
            lines = shapely.intersection(shapely.union_all(shapely.boundary(metric)), extent)
            if lines.length >= MIN_LINE_M:
                on_roads = float(shapely.intersection(lines, road_zone).length / lines.length)
        return Placement(share, int(sides.cut.sum()), on_roads)

    c = shapely.centroid(shapely.union_all(polys))  # the shift's length in metres, there
    ends = gpd.GeoSeries([c, shapely.Point(c.x + dlon, c.y + dlat)], crs=WGS84).to_crs(crs)
    shift_m = float(ends.iloc[0].distance(ends.iloc[1]))

    def shifted(key: tuple[int, float]) -> Placement:
        direction, length = key
        turn = np.radians(direction)
        dx = length * (dlon * np.cos(turn) - dlat * np.sin(turn))
        dy = length * (dlon * np.sin(turn) + dlat * np.cos(turn))
        return place(float(dx), float(dy))

    tried = [(d, 1.0) for d in DIRECTIONS] + [(d, k) for d in (0, 180) for k in SCALES]
    moved = Placements(tried, shifted)
    return BoundaryFit(given=place(0.0, 0.0), moved=moved, shift_m=shift_m, n_buildings=len(b))


class Placements(Mapping):
    """Placements by (direction, length), each computed when first asked for.

    A verdict usually needs only the two conversions (0 and 180 degrees):
    the decoys are placed only when a conversion fits markedly better, so a
    boundary that fits costs 3 placements (as given and the two conversions), not 13,
    with the same verdicts.
    """

    def __init__(self, keys: list[tuple[int, float]], place: Callable):
        self._keys = list(keys)
        self._place = place
        self._done: dict[tuple[int, float], Placement] = {}

    def __getitem__(self, key: tuple[int, float]) -> Placement:
        if key not in self._done:
            if key not in self._keys:
                raise KeyError(key)
            self._done[key] = self._place(key)
        return self._done[key]

    def __iter__(self):
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
