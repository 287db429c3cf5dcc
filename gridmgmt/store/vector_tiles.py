"""What vector tiles are made of: version stamps, rows per tile, and PostGIS's own MVT.

On PostGIS a tile is one SQL statement: ``ST_TileEnvelope`` gives its
bounds, ``ST_AsMVTGeom`` clips and quantises and ``ST_AsMVT`` encodes. On
SQLite (no spatial SQL) the rows of a layer are read once per data version,
projected to Web Mercator and indexed with an STRtree, so a tile only has
to pick its rows from memory; :mod:`gridmgmt.core.vector_tiles` encodes them.

Version stamps change whenever what a layer's tiles show may change (a new
grid version, re-imported buildings, new household counts, an incident
reported or moved along), and serve as the tiles' ETags.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import bindparam, text

from gridmgmt.core.vector_tiles import (
    BUFFER,
    EXTENT,
    TileAddress,
    buffer_for,
    extent_for,
    to_mercator,
)

#: properties written per layer, in this order
TILE_PROPERTIES = {
    "grids": ("code", "kind", "households", "n_buildings", "flag", "community_code"),
    "buildings": ("building_id", "name", "building_type", "households", "floors", "grid_code"),
    "incidents": ("id", "number", "state", "category_code", "grid_code", "overdue"),
}

#: layer -> SQL of its version stamp. Buildings change with an import (a new import run)
#: and move between grids with a grid version; new household counts change the grids' sums.
_STAMPS = {
    "grids": "SELECT count(*), max(id), sum(households) FROM grids WHERE valid_to IS NULL",
    "buildings": "SELECT (SELECT max(id) FROM import_runs), count(*), max(id), sum(households) "
    "FROM grids WHERE valid_to IS NULL",
    "incidents": "SELECT count(*), max(id), max(updated_at) FROM incidents",
}
#: seconds a version stamp is reused: a map view asks for many tiles at once
STAMP_SECONDS = 1.0

_POSTGIS_ROWS = {
    "grids": """
        SELECT g.geom AS geom, g.code, g.kind, g.households, g.n_buildings, g.flag,
               c.code AS community_code
        FROM grids g JOIN communities c ON g.community_id = c.id, bounds
        WHERE g.valid_to IS NULL AND g.geom && ST_Transform(bounds.wide, 4326) {scope}""",
    "buildings": """
        SELECT b.geom AS geom, b.source_id AS building_id, b.name, b.building_type,
               b.households, b.floors, b.grid_code
        FROM buildings b, bounds
        WHERE b.geom && ST_Transform(bounds.wide, 4326) {scope}""",
    "incidents": """
        SELECT CASE WHEN :snap > 0 THEN ST_SnapToGrid(i.geom, :snap) ELSE i.geom END AS geom,
               i.id, i.number, i.state, i.category_code, i.grid_code,
               coalesce(i.deadline_at < now(), false) AS overdue
        FROM incidents i, bounds
        WHERE i.id IN :ids AND i.geom && ST_Transform(bounds.wide, 4326)""",
}


class VectorTileStore:
    """Tile sources over one :class:`~gridmgmt.store.repository.Store`.

    Parameters
    ----------
    store : gridmgmt.store.repository.Store
        The store to read from. One instance per process: it keeps the
        SQLite path's per-version layer index in memory.
    """

    def __init__(self, store):
        self.store = store
        self._indexes: dict[str, tuple[str, gpd.GeoDataFrame, shapely.STRtree]] = {}
        self._lock = threading.Lock()
        self._stamps: dict[str, tuple[float, str]] = {}

    @property
    def in_sql(self) -> bool:
        """Whether tiles are encoded by the database (PostGIS) rather than in Python."""
        return self.store.backend == "postgresql"

    def stamp(self, layer: str) -> str:
        """A short text that changes whenever ``layer``'s tiles may change.

        Asked of the database at most once every :data:`STAMP_SECONDS` per
        layer and process: a change shows in tiles (and ETags) within that.
        """
        now = time.monotonic()
        known = self._stamps.get(layer)
        if known is not None and now - known[0] < STAMP_SECONDS:
            return known[1]
        with self.store.engine.connect() as conn:
            values = conn.execute(text(_STAMPS[layer])).one()
        stamp = "-".join("" if v is None else str(v) for v in values).replace(" ", "T")
        self._stamps[layer] = (now, stamp)
        return stamp

    def current_grid_count(self) -> int:
        """How many grids are current (the map page switches to tiles above a threshold)."""
        with self.store.engine.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM grids WHERE valid_to IS NULL")))

    # ------------------------------------------------------------------ SQLite / Python path
    def features(self, layer: str, address: TileAddress) -> gpd.GeoDataFrame:
        """Rows of ``grids`` or ``buildings`` near the tile: geometry in EPSG:3857
        simplified to half a unit of the tile's zoom, and ``properties`` (the tile
        properties of each row, missing values left out).

        Read once per version stamp and kept in memory with an STRtree; the
        geometries are simplified once per zoom and stamp, as tiles first need them.
        """
        stamp = self.stamp(layer)
        with self._lock:
            cached = self._indexes.get(layer)
            if cached is None or cached[0] != stamp:
                frame = self._read(layer)
                cached = (stamp, frame, shapely.STRtree(frame.geometry.values), {})
                self._indexes[layer] = cached
        _stamp, frame, tree, by_zoom = cached
        minx, miny, maxx, maxy = address.mercator_bounds()
        pad = (maxx - minx) * BUFFER / EXTENT
        hits = np.sort(tree.query(shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)))
        with self._lock:
            simplified = by_zoom.setdefault(address.z, np.full(len(frame), None, dtype=object))
        todo = hits[shapely.is_missing(simplified[hits])]  # each row once per zoom and stamp
        if len(todo):
            unit = (maxx - minx) / extent_for(address.z)
            originals = frame.geometry.values[todo]
            simplified[todo] = shapely.simplify(originals, unit / 2, preserve_topology=True)
        rows = frame.iloc[hits]
        return rows.set_geometry(gpd.GeoSeries(simplified[hits], index=rows.index))

    def _read(self, layer: str) -> gpd.GeoDataFrame:
        store = self.store
        frame = store.current_grids() if layer == "grids" else store.read_layer(layer)
        columns = [c for c in TILE_PROPERTIES[layer] if c in frame.columns]
        geoms = to_mercator(frame.geometry.values)
        frame = frame[columns].reset_index(drop=True)
        frame["properties"] = tile_properties(frame)
        return gpd.GeoDataFrame(frame, geometry=geoms)

    # ------------------------------------------------------------------ PostGIS path
    def mvt(
        self,
        layer: str,
        address: TileAddress,
        *,
        area: str | None = None,
        grid_codes: Sequence[str] | None = None,
        incident_ids: Sequence[int] = (),
        snap_degrees: float = 0.0,
    ) -> bytes:
        """One tile of ``layer`` encoded by PostGIS (``ST_AsMVT``); ``b""`` when empty.

        ``area`` (a code prefix) and ``grid_codes`` (None: any) limit grids
        and buildings; incidents are exactly ``incident_ids``, their points
        snapped to ``snap_degrees`` when above 0.
        """
        scope = ""
        params: dict = {"z": address.z, "x": address.x, "y": address.y}
        column = "g.code" if layer == "grids" else "b.grid_code"
        if area:
            scope += f" AND {column} LIKE :area"
            params["area"] = area + "%"
        if grid_codes is not None:
            if not grid_codes:
                return b""
            scope += f" AND {column} IN :codes"
            params["codes"] = list(grid_codes)
        if layer == "incidents":
            if not incident_ids:
                return b""
            params["ids"] = [int(i) for i in incident_ids]
            params["snap"] = float(snap_degrees)
        names = ", ".join(f"t.{c}" for c in TILE_PROPERTIES[layer])
        extent, buffer = extent_for(address.z), buffer_for(address.z)
        sql = f"""
            WITH bounds AS (
                SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                       ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}) AS wide
            ),
            t AS ({_POSTGIS_ROWS[layer].format(scope=scope)}
            )
            SELECT ST_AsMVT(tile.*, :layer, {extent}, 'geom') FROM (
                SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), bounds.env, {extent}, {buffer}, true)
                       AS geom, {names}
                FROM t, bounds
            ) AS tile WHERE tile.geom IS NOT NULL
        """
        stmt = text(sql)
        expanding = [bindparam(k, expanding=True) for k in ("codes", "ids") if k in params]
        if expanding:
            stmt = stmt.bindparams(*expanding)
        params["layer"] = layer
        with self.store.engine.connect() as conn:
            data = conn.scalar(stmt, params)
        return bytes(data) if data else b""


def tile_properties(rows) -> list[dict]:
    """Tile properties of each row: plain values, missing ones left out (MVT has no null)."""
    out = []
    columns = [c for c in rows.columns if c not in ("geometry", "properties")]
    for values in rows[columns].itertuples(index=False, name=None):
        record = {}
        for name, value in zip(columns, values, strict=True):
            if value is None or (isinstance(value, float) and value != value):
                continue
            record[name] = value.item() if hasattr(value, "item") else value
        out.append(record)
    return out
