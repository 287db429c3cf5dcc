"""A geometry column type that works on SQLite without SpatiaLite and on PostGIS.

The embedded default (SQLite) must run with no system package, and
SpatiaLite is not installable from PyPI, so on SQLite geometries are kept as
ISO WKB blobs and spatial questions are answered in Python with shapely
(see :mod:`gridmgmt.core`). On PostgreSQL the column is a real PostGIS
``geometry(<type>, 4326)`` (via GeoAlchemy2) with a GiST index created by the
migrations, so SQL such as ``ST_Covers`` works there.

Values going in and coming out are shapely geometries in EPSG:4326.
"""

from __future__ import annotations

from datetime import UTC

import shapely
from geoalchemy2 import Geometry  # imported eagerly: it registers DDL event hooks
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.types import TypeDecorator

SRID = 4326


class GeometryType(TypeDecorator):
    """Shapely geometry stored as PostGIS geometry or as WKB on other backends.

    Parameters
    ----------
    geometry_type : str
        PostGIS geometry type name (``"GEOMETRY"``, ``"POLYGON"``,
        ``"MULTIPOLYGON"``, ``"POINT"``, ``"LINESTRING"``...).
    """

    impl = LargeBinary
    cache_ok = True
    # Attributes GeoAlchemy2's DDL hooks read: our migrations create the GiST
    # indexes themselves, so the hooks must not add their own.
    spatial_index = False
    use_N_D_index = False
    srid = SRID
    dimension = 2

    def __init__(self, geometry_type: str = "GEOMETRY", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.geometry_type = geometry_type.upper()

    def load_dialect_impl(self, dialect):
        if dialect is None:  # GeoAlchemy2's DDL hooks probe types without a dialect
            return LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(
                Geometry(self.geometry_type, srid=SRID, spatial_index=False)
            )
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, shapely.Geometry):
            raise TypeError(f"expected a shapely geometry, got {type(value).__name__}")
        if dialect.name == "postgresql":
            # Hex EWKB with SRID: PostGIS' geometry input accepts it directly.
            return shapely.to_wkb(shapely.set_srid(value, SRID), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        data = getattr(value, "data", value)  # geoalchemy2 WKBElement
        if isinstance(data, memoryview):
            data = data.tobytes()
        geom = shapely.from_wkb(data)
        return shapely.set_srid(geom, 0)

    def column_expression(self, col):
        return col

    def __repr__(self) -> str:
        return f"GeometryType({self.geometry_type!r})"


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every backend, stored as UTC.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are
    converted to UTC before they are written and read back as UTC-aware
    (a plain ``DateTime(timezone=True)`` would silently drop the zone there).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone-aware value")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
