"""Mapbox Vector Tiles (MVT): tile addresses and the Python encoder (the SQLite path).

Tiles follow the XYZ scheme of web maps: zoom ``z``, column ``x`` from the
west, row ``y`` from the north, in Web Mercator (EPSG:3857). A tile's
features are clipped to its bounds plus a small buffer, simplified and
quantised to the tile's ``extent`` (4096 units a side) and encoded with
``mapbox-vector-tile`` (the PostGIS store does the same in SQL with
``ST_AsMVTGeom``/``ST_AsMVT``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

#: half the Web Mercator world's width in metres
ORIGIN_SHIFT = 20037508.342789244
#: the largest zoom a tile address may have
MAX_ZOOM = 22
#: integer units a tile's side is quantised to
EXTENT = 4096
#: units of buffer kept around a tile so strokes at its edges join their neighbours
BUFFER = 64
#: from this zoom on tiles carry the full :data:`EXTENT`; each zoom below halves it
FULL_DETAIL_ZOOM = 14
#: the coarsest a tile is quantised to: one unit per pixel of a 256-pixel tile
MIN_EXTENT = 256
#: shapely type ids of polygons and multipolygons
POLYGONAL = (3, 6)
#: Web Mercator's latitude limit
MAX_LATITUDE = 85.0511287798066


@dataclass(frozen=True)
class TileAddress:
    """One tile: zoom, column and row (XYZ scheme, row 0 at the north)."""

    z: int
    x: int
    y: int

    def __post_init__(self):
        if not (0 <= self.z <= MAX_ZOOM):
            raise ValueError(f"zoom must be 0..{MAX_ZOOM}, not {self.z}")
        n = 2**self.z
        if not (0 <= self.x < n and 0 <= self.y < n):
            raise ValueError(f"x and y must be 0..{n - 1} at zoom {self.z}, not {self.x}/{self.y}")

    def mercator_bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the tile in EPSG:3857 metres."""
        size = 2 * ORIGIN_SHIFT / 2**self.z
        minx = -ORIGIN_SHIFT + self.x * size
        maxy = ORIGIN_SHIFT - self.y * size
        return minx, maxy - size, minx + size, maxy

    def lonlat_bounds(self, buffer: float = 0.0) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in degrees, grown by ``buffer`` (a share of the tile)."""
        minx, miny, maxx, maxy = self.mercator_bounds()
        pad = (maxx - minx) * buffer
        west, south = mercator_to_lonlat(minx - pad, miny - pad)
        east, north = mercator_to_lonlat(maxx + pad, maxy + pad)
        return (
            max(west, -180.0),
            max(south, -MAX_LATITUDE),
            min(east, 180.0),
            min(north, MAX_LATITUDE),
        )


def extent_for(z: int) -> int:
    """Units a tile's side is quantised to at zoom ``z``: :data:`EXTENT` from
    :data:`FULL_DETAIL_ZOOM` on, halved for each zoom below, never under
    :data:`MIN_EXTENT`. A city's grids seen from afar are a few pixels each:
    finer units only make tiles larger and slower to encode."""
    return max(MIN_EXTENT, EXTENT >> max(0, FULL_DETAIL_ZOOM - z))


def buffer_for(z: int) -> int:
    """The buffer at zoom ``z`` in that zoom's units (the same share of the tile)."""
    return BUFFER * extent_for(z) // EXTENT


def mercator_to_lonlat(x: float, y: float) -> tuple[float, float]:
    """EPSG:3857 metres to longitude/latitude degrees."""
    lon = x / ORIGIN_SHIFT * 180.0
    lat = math.degrees(2 * math.atan(math.exp(y / ORIGIN_SHIFT * math.pi)) - math.pi / 2)
    return lon, lat


def lonlat_to_mercator(coords: np.ndarray) -> np.ndarray:
    """An ``(n, 2)`` array of longitude/latitude to EPSG:3857 metres (latitudes clamped)."""
    lon = coords[:, 0]
    lat = np.clip(coords[:, 1], -MAX_LATITUDE, MAX_LATITUDE)
    x = lon * ORIGIN_SHIFT / 180.0
    y = np.log(np.tan((90.0 + lat) * math.pi / 360.0)) * ORIGIN_SHIFT / math.pi
    return np.column_stack([x, y])


def to_mercator(geometries: np.ndarray) -> np.ndarray:
    """WGS84 shapely geometries to EPSG:3857 (vectorised)."""
    return shapely.transform(np.asarray(geometries, dtype=object), lonlat_to_mercator)


def tile_geometries(
    geometries: np.ndarray,
    address: TileAddress,
    *,
    extent: int = EXTENT,
    buffer: int = BUFFER,
    simplify: bool = True,
) -> np.ndarray:
    """EPSG:3857 geometries in tile units: clipped, simplified to one unit, snapped to integers.

    Coordinates run 0..``extent`` from the tile's west and north edges
    (y down, as MVT stores them); what lies more than ``buffer`` units
    outside is cut off. Geometries that vanish come back None or empty.
    Polygon exteriors have a positive shoelace area in these units (holes
    negative), as the MVT specification asks.
    """
    geometries = np.asarray(geometries, dtype=object)
    if len(geometries) == 0:
        return geometries
    minx, miny, maxx, maxy = address.mercator_bounds()
    scale = extent / (maxx - minx)
    pad = buffer / scale
    clipped = shapely.clip_by_rect(geometries, minx - pad, miny - pad, maxx + pad, maxy + pad)

    def to_units(coords: np.ndarray) -> np.ndarray:
        return np.column_stack([(coords[:, 0] - minx) * scale, (maxy - coords[:, 1]) * scale])

    units = shapely.transform(clipped, to_units)
    if simplify:  # off when the caller's geometries are simplified to this zoom already
        units = shapely.simplify(units, 0.5, preserve_topology=True)
    # snap each vertex to the integer grid (pointwise: no overlay, ~10× cheaper than a
    # valid-output snap; a sliver that collapses is dropped below, as MVT readers expect)
    units = shapely.set_precision(units, 1.0, mode="pointwise")
    collapsed = shapely.is_empty(units) | (
        np.isin(shapely.get_type_id(units), POLYGONAL) & (shapely.area(units) == 0)
    )
    units[collapsed] = None
    # exterior rings with a positive shoelace area in y-down tile units (the MVT rule)
    return shapely.orient_polygons(units, exterior_cw=False)


def encode_tile(
    layers: Mapping[str, tuple[np.ndarray, Sequence[Mapping]]],
    address: TileAddress,
    *,
    extent: int | None = None,
    simplify: bool = True,
) -> bytes:
    """One MVT tile of ``layers``: name -> (EPSG:3857 geometries, one properties dict each).

    ``extent`` defaults to :func:`extent_for` the tile's zoom; ``simplify``
    off skips simplifying to half a unit (geometries made so already). Empty
    geometries (outside the tile after clipping) are left out; a layer left
    without features is not written. An empty result is a valid, empty tile
    (``b""``).
    """
    import mapbox_vector_tile

    extent = extent or extent_for(address.z)
    buffer = BUFFER * extent // EXTENT
    encoded = []
    for name, (geometries, properties) in layers.items():
        shapes = tile_geometries(
            geometries, address, extent=extent, buffer=buffer, simplify=simplify
        )
        kept = np.flatnonzero(~(shapely.is_missing(shapes) | shapely.is_empty(shapes)))
        features = [{"geometry": shapes[k], "properties": dict(properties[k])} for k in kept]
        if features:
            encoded.append({"name": name, "features": features})
    if not encoded:
        return b""
    return mapbox_vector_tile.encode(
        encoded,
        default_options={"extents": extent, "y_coord_down": True, "check_winding_order": False},
    )
