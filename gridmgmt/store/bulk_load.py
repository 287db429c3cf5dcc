"""Bulk loading of imported layers: COPY on PostGIS, chunked ``executemany`` on SQLite.

The rows are the ones :func:`gridmgmt.store.layers.frame_to_rows` gives the
ORM path (same values, same defaults), built column by column instead of
row by row, and written through the driver connection of the SQLAlchemy
connection, so they land in the caller's transaction:

- **PostGIS**: ``COPY table (columns) FROM STDIN (FORMAT BINARY)`` (psycopg 3),
  geometries as EWKB bytes with SRID 4326, which PostGIS' binary geometry
  input reads;
- **SQLite**: ``executemany`` of ``INSERT`` in chunks of
  :data:`SQLITE_CHUNK_ROWS`, geometries as ISO WKB blobs (what
  :class:`gridmgmt.store.types.GeometryType` writes).
"""

from __future__ import annotations

from itertools import islice

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import BigInteger, Connection, Float, Integer, String
from sqlalchemy.exc import DBAPIError

from gridmgmt.core.households import confidence_of
from gridmgmt.core.layers import WGS84
from gridmgmt.store.layers import LAYER_TABLES
from gridmgmt.store.types import SRID

#: rows per ``executemany`` on SQLite
SQLITE_CHUNK_ROWS = 20_000
#: the EWKB type flag saying an SRID follows the type
EWKB_SRID_FLAG = 0x20000000
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
    table = model.__table__
    columns = layer_columns(layer, frame)
    geoms = columns.pop("geom")
    for name in [n for n, values in columns.items() if values.count(None) == len(values)]:
        if table.c[name].server_default is None:  # left out, the column is NULL all the same
            del columns[name]
    names = list(columns)
    driver = connection.connection.driver_connection
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        if connection.dialect.name == "postgresql":
            types = [*(binary_type(table.c[c].type) for c in names), "bytea"]
            copy_rows(
                driver,
                model.__tablename__,
                [*names, "geom"],
                [*columns.values(), ewkb_with_srid(geoms)],
                types,
            )
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


def binary_type(column_type) -> str:
    """The COPY BINARY wire type of a layer table's column type (``int4``, ``float8``...)."""
    for kind, name in (
        (BigInteger, "int8"),
        (Integer, "int4"),
        (Float, "float8"),
        (String, "text"),
    ):
        if isinstance(column_type, kind):  # BigInteger before its base class Integer
            return name
    raise TypeError(f"no COPY BINARY type for column type {column_type!r}")


def ewkb_with_srid(geoms: np.ndarray) -> list[bytes]:
    """Little-endian EWKB with SRID :data:`SRID` of each geometry (PostGIS' binary input).

    The same bytes as ``shapely.to_wkb(shapely.set_srid(g, SRID), include_srid=True)``,
    made by adding the SRID to the header of plain extended WKB, without
    copying every geometry to set its SRID first.
    """
    srid = SRID.to_bytes(4, "little")
    return [
        w[:1]
        + (int.from_bytes(w[1:5], "little") | EWKB_SRID_FLAG).to_bytes(4, "little")
        + srid
        + w[5:]
        for w in shapely.to_wkb(geoms, byte_order=1, flavor="extended").tolist()
    ]


def copy_rows(driver, table: str, names: list[str], columns: list, types: list[str]) -> None:
    """``COPY table (names) FROM STDIN (FORMAT BINARY)`` of the rows made of ``columns`` (psycopg 3).

    ``types`` are the wire types of the columns (:func:`binary_type`); the
    geometry goes as ``bytea``: its bytes are EWKB, which PostGIS' binary
    input reads (no hex text to write and parse).
    """
    quoted = ", ".join(f'"{c}"' for c in names)
    sql = f'COPY "{table}" ({quoted}) FROM STDIN (FORMAT BINARY)'
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        copy.set_types(types)
        for row in zip(*columns, strict=True):
            copy.write_row(row)
