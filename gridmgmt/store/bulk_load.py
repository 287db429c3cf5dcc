"""Bulk loading of imported layers: COPY on PostGIS, chunked ``executemany`` on SQLite.

The rows are the ones :func:`gridmgmt.store.layers.frame_to_rows` gives the
ORM path (same values, same defaults), built column by column instead of
row by row, and written through the driver connection of the SQLAlchemy
connection, so they land in the caller's transaction:

- **PostGIS**: ``COPY table (columns) FROM STDIN`` (psycopg 3), geometries
  as hex EWKB with SRID 4326, which PostGIS' geometry input reads;
- **SQLite**: ``executemany`` of ``INSERT`` in chunks of
  :data:`SQLITE_CHUNK_ROWS`, geometries as ISO WKB blobs (what
  :class:`gridmgmt.store.types.GeometryType` writes).
"""

from __future__ import annotations

from itertools import islice

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from gridmgmt.core.households import confidence_of
from gridmgmt.core.layers import WGS84
from gridmgmt.store.layers import LAYER_TABLES
from gridmgmt.store.types import SRID

#: rows per ``executemany`` on SQLite
SQLITE_CHUNK_ROWS = 20_000
#: table columns holding counts: missing values are written as 0
INT_COLUMNS = ("households", "population")


def layer_columns(layer: str, frame: gpd.GeoDataFrame) -> dict[str, list]:
    """Table column -> Python values for ``frame`` (a layer of :mod:`gridmgmt.core.layers`).

    The values equal those of :func:`gridmgmt.store.layers.frame_to_rows`:
    missing values are None, counts are ints (0 when missing), ids are text,
    a building without a households source is ``estimated`` with the
    confidence of that source, and a column the frame lacks takes the
    table's default. The geometry is under ``geom`` as shapely objects in
    EPSG:4326.

    Parameters
    ----------
    layer : str
        ``compounds``, ``buildings``, ``roads`` or ``facilities``.
    frame : GeoDataFrame
        The layer's rows.

    Returns
    -------
    dict
        Column name to a list of ``len(frame)`` values.
    """
    model, columns = LAYER_TABLES[layer]
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(WGS84)
    n = len(frame)
    table = model.__table__
    out: dict[str, list] = {}
    for src, dst in columns.items():
        if src in frame.columns:
            series = frame[src]
            values = series.to_numpy(dtype=object, na_value=None).tolist()
            if dst in INT_COLUMNS:
                values = [0 if v is None else int(v) for v in values]
            elif dst == "source_id":
                values = [None if v is None else str(v) for v in values]
            elif series.dtype == object:
                values = [v.item() if isinstance(v, np.generic) else v for v in values]
        else:
            default = table.c[dst].default
            value = default.arg if default is not None and default.is_scalar else None
            values = [value] * n
        out[dst] = values
    if layer == "buildings":
        sources = [s or "estimated" for s in out["households_source"]]
        out["households_source"] = sources
        confidence = confidence_of(sources)
        given = (
            out["households_confidence"]
            if "households_confidence" in frame.columns
            else [None] * n  # not the column default: the confidence of each row's source
        )
        out["households_confidence"] = [c or str(confidence[i]) for i, c in enumerate(given)]
    out["geom"] = np.asarray(frame.geometry.values, dtype=object)
    return out


def bulk_insert(connection: Connection, layer: str, frame: gpd.GeoDataFrame) -> int:
    """Insert ``frame`` into the layer's table in the transaction of ``connection``.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        An open connection (e.g. ``session.connection()``); its transaction
        is used, not committed.
    layer : str
        ``compounds``, ``buildings``, ``roads`` or ``facilities``.
    frame : GeoDataFrame
        The rows (any CRS; written in EPSG:4326).

    Returns
    -------
    int
        Rows written.
    """
    if len(frame) == 0:
        return 0
    model, _ = LAYER_TABLES[layer]
    columns = layer_columns(layer, frame)
    geoms = columns.pop("geom")
    names = list(columns)
    driver = connection.connection.driver_connection
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        if connection.dialect.name == "postgresql":
            ewkb = shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True)
            copy_rows(driver, model.__tablename__, [*names, "geom"], [*columns.values(), ewkb])
        else:
            wkb = shapely.to_wkb(geoms)
            quoted = ", ".join(f'"{c}"' for c in [*names, "geom"])
            marks = ", ".join("?" for _ in range(len(names) + 1))
            sql = f'INSERT INTO "{model.__tablename__}" ({quoted}) VALUES ({marks})'
            rows = zip(*columns.values(), wkb, strict=True)
            cursor = driver.cursor()
            try:
                while batch := list(islice(rows, SQLITE_CHUNK_ROWS)):
                    cursor.executemany(sql, batch)
            finally:
                cursor.close()
    except dbapi_error as err:  # the driver's own error, as SQLAlchemy would have raised it
        raise DBAPIError.instance(
            f"bulk insert into {model.__tablename__}", None, err, dbapi_error
        ) from err
    return len(frame)


def copy_rows(driver, table: str, names: list[str], columns: list) -> None:
    """``COPY table (names) FROM STDIN`` of the rows made of ``columns`` (psycopg 3)."""
    quoted = ", ".join(f'"{c}"' for c in names)
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)
