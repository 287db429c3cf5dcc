"""The declarative base every table of the store registers on.

Every geometry is WGS84 (EPSG:4326). The tables are declared per concept in
the sibling modules; :mod:`gridmgmt.store.models` imports them all, so
``Base.metadata`` (which the migrations compare against) holds every table
once the package is imported.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""
