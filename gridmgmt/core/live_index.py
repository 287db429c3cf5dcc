"""The live grid index for single lookups (incident reports, map clicks).

One :class:`GridIndex` per process holds the current grids. When a new
grid version is written, :meth:`GridIndex.refresh` builds a new index and
swaps it in one assignment, so lookups in other threads never see a
half-built index and the web app needs no restart. Lookups follow exactly
the rules of :func:`gridmgmt.core.assignment.assign` (smallest code wins
on shared edges): both call the same covering function.
"""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import shapely

from gridmgmt.core.assignment import PreparedGrids, covering_grid, place_outside, prepare_grids


class GridIndex:
    """Current grids of a deployment, looked up by lon/lat (EPSG:4326)."""

    def __init__(
        self,
        grids: gpd.GeoDataFrame | None = None,
        version: object = None,
        *,
        code_column: str = "code",
    ):
        self._lock = threading.Lock()
        self._code_column = code_column
        self._state: tuple[PreparedGrids | None, object] = (None, None)
        if grids is not None:
            self.refresh(grids, version)

    @property
    def version(self) -> object:
        return self._state[1]

    def refresh(self, grids: gpd.GeoDataFrame, version: object = None) -> None:
        """Index ``grids`` (validated) and make it current in one step."""
        prepared = prepare_grids(grids, self._code_column) if len(grids) else None
        with self._lock:
            self._state = (prepared, version)

    def lookup(self, lon: float, lat: float) -> str | None:
        """Code of the grid at ``(lon, lat)``, or None outside every grid."""
        return self.lookup_many([lon], [lat])[0]

    def lookup_many(self, lon, lat) -> list[str | None]:
        """Codes for many positions (None where outside or not a number)."""
        prepared, _ = self._state
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        if prepared is None:
            return [None] * len(lon)
        if prepared.source_crs is not None and not prepared.source_crs.equals("EPSG:4326"):
            pts = (
                gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(prepared.source_crs).values
            )
        else:
            pts = shapely.points(lon, lat)
        ok = np.isfinite(lon) & np.isfinite(lat)
        idx = np.full(len(lon), -1)
        pts = np.asarray(pts, dtype=object)
        if ok.any():
            idx[ok] = covering_grid(prepared, pts[ok])
        outside = np.flatnonzero(ok & (idx < 0))
        if len(outside):  # within 1 cm of a grid (an outer edge after rounding): the nearest
            metric = gpd.GeoSeries(pts[outside], crs=prepared.source_crs).to_crs(prepared.crs)
            idx[outside], _ = place_outside(prepared, pts[outside], metric.values)
        return [prepared.codes[i] if i >= 0 else None for i in idx]
