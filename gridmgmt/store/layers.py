"""Mapping between the layer GeoDataFrames of :mod:`gridmgmt.core.layers` and tables."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmgmt.core.households import confidence_of
from gridmgmt.core.layers import WGS84
from gridmgmt.store.models import Building, Compound, Facility, Road

#: layer -> (model, {layer column: table column})
LAYER_TABLES = {
    "compounds": (
        Compound,
        {
            "compound_id": "source_id",
            "compound_kind": "compound_kind",
            "landuse": "landuse",
            "name": "name",
        },
    ),
    "buildings": (
        Building,
        {
            "building_id": "source_id",
            "building_type": "building_type",
            "floors": "floors",
            "households": "households",
            "households_source": "households_source",
            "households_confidence": "households_confidence",
            "population": "population",
            "compound_id": "compound_source_id",
            "name": "name",
            "grid_code": "grid_code",
            "addr_street": "addr_street",
            "addr_housenumber": "addr_housenumber",
        },
    ),
    "roads": (Road, {"road_id": "source_id", "road_class": "road_class", "name": "name"}),
    "facilities": (
        Facility,
        {
            "facility_id": "source_id",
            "category": "category",
            "name": "name",
            "grid_code": "grid_code",
        },
    ),
}

_INT_COLUMNS = {"households", "population"}


def _clean(value):
    """Plain Python value for the database: NaN/NA -> None, numpy scalars unwrapped."""
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def frame_to_rows(layer: str, frame: gpd.GeoDataFrame) -> list[dict]:
    """Rows ready for ``insert(Model)``; geometry in EPSG:4326."""
    _, columns = LAYER_TABLES[layer]
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(WGS84)
    present = {src: dst for src, dst in columns.items() if src in frame.columns}
    data = {dst: frame[src].tolist() for src, dst in present.items()}
    data["geom"] = list(frame.geometry.values)
    rows = []
    for i in range(len(frame)):
        row = {key: _clean(values[i]) for key, values in data.items()}
        for key in _INT_COLUMNS & row.keys():
            row[key] = 0 if row[key] is None else int(row[key])
        if "source_id" in row and row["source_id"] is not None:
            row["source_id"] = str(row["source_id"])
        if layer == "buildings":
            row["households_source"] = row.get("households_source") or "estimated"
            row["households_confidence"] = row.get("households_confidence") or str(
                confidence_of([row["households_source"]])[0]
            )
        rows.append(row)
    return rows


def rows_to_frame(layer: str, rows) -> gpd.GeoDataFrame:
    """GeoDataFrame with the layer's column names from table rows.

    ``rows`` are mappings (with shapely geometries under ``geom``) or tuples
    as :func:`wkb_rows_to_frame` takes them.
    """
    if len(rows) and not isinstance(rows[0], Mapping):
        return wkb_rows_to_frame(layer, rows)
    _, columns = LAYER_TABLES[layer]
    back = {dst: src for src, dst in columns.items()}
    records = [dict(r) for r in rows]
    geoms = [r.pop("geom") for r in records]
    frame = pd.DataFrame.from_records(records, columns=[c for c in columns.values()] + ["id"])
    frame = frame.rename(columns=back)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84).values, crs=WGS84)


def wkb_rows_to_frame(layer: str, rows) -> gpd.GeoDataFrame:
    """:func:`rows_to_frame` of rows whose geometry is still as stored, parsed all at once.

    ``rows`` are tuples of the table columns (in :data:`LAYER_TABLES` order),
    ``id`` and the geometry as the driver returns it (WKB bytes, or hex EWKB
    from PostGIS); the frame is the one :func:`rows_to_frame` gives for the
    same rows read with their geometries parsed one by one.
    """
    _, columns = LAYER_TABLES[layer]
    back = {dst: src for src, dst in columns.items()}
    names = [*columns.values(), "id"]
    frame = pd.DataFrame.from_records([r[:-1] for r in rows], columns=names)
    frame = frame.rename(columns=back)
    raw = np.array([r[-1] for r in rows], dtype=object)
    if len(raw) and isinstance(raw[0], memoryview):
        raw = np.array([bytes(g) for g in raw], dtype=object)
    geoms = shapely.from_wkb(raw)
    if shapely.get_srid(geoms).any():  # EWKB from PostGIS: SRID 0, as single reads give
        geoms = shapely.set_srid(geoms, 0)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84).values, crs=WGS84)
