"""One database behind the store: its engine, transactions and bbox filters.

:class:`Database` opens the engine (bringing the schema up to date on first
use) and hands out sessions, each one transaction. The repositories of
:mod:`gridmgmt.store.repository` build on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import geopandas as gpd
import shapely
from sqlalchemy import Engine, func
from sqlalchemy.orm import sessionmaker

from gridmgmt.store.engine import ensure_schema, make_engine


class Database:
    """One database (SQLite file or PostGIS).

    Parameters
    ----------
    url_or_engine : str or sqlalchemy.Engine
        Database URL (see :mod:`gridmgmt.config`) or an existing engine.
    migrate : bool
        Bring the schema up to date on open (first use). Default True.
    """

    def __init__(self, url_or_engine: str | Engine, *, migrate: bool = True):
        self.engine = (
            make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        )
        if migrate:
            ensure_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self):
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()

    def where_bbox(self, stmt, model, bbox):
        """``stmt`` limited to rows of ``model`` intersecting ``bbox`` (on PostGIS, in SQL)."""
        if bbox is not None and self.backend == "postgresql":
            envelope = func.ST_MakeEnvelope(*map(float, bbox), 4326)
            stmt = stmt.where(func.ST_Intersects(model.geom, envelope))
        return stmt

    def clip_bbox(self, frame: gpd.GeoDataFrame, bbox) -> gpd.GeoDataFrame:
        """``frame`` limited to ``bbox`` (on SQLite, where SQL could not filter it)."""
        if bbox is None or self.backend == "postgresql" or len(frame) == 0:
            return frame
        return frame[frame.intersects(shapely.box(*bbox))]


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of at most ``size``, for statements with bounded parameter counts."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]
