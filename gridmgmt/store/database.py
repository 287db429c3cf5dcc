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
from sqlalchemy import Engine, false, func, select, text
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

    def take_turn(self, session, key: int, table: str) -> None:
        """Wait for, then hold until ``session``'s transaction ends, the turn to write
        under ``key`` (a PostgreSQL advisory lock; on SQLite the database's one write lock,
        taken by a write to ``table`` that changes nothing), so that read-then-write steps
        such as numbering run one after another across processes."""
        if self.backend == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(key)))
        else:
            session.execute(text(f'UPDATE "{table}" SET id = id WHERE 0'))

    def page_rows(self, conn, model, stmt, conditions, order_by, *, bbox, limit, offset):
        """One page of ``stmt``'s rows (``conditions`` applied, in ``order_by``) and the total.

        Counted and paged in SQL (LIMIT/OFFSET) on PostGIS and without a
        bbox; on SQLite, which has no spatial SQL, the ids of the matching
        rows intersecting ``bbox`` are found with shapely, then one page of
        rows is read by id. Two queries whatever the page size.
        """
        stmt = self.where_bbox(stmt.where(*conditions), model, bbox).order_by(*order_by)
        if bbox is not None and self.backend != "postgresql":
            located = conn.execute(
                select(model.id, model.geom).where(*conditions).order_by(*order_by)
            ).all()
            box = shapely.box(*bbox)
            inside = [r.id for r in located if r.geom is not None and r.geom.intersects(box)]
            wanted = inside[offset : offset + limit]
            rows = conn.execute(stmt.where(model.id.in_(wanted))).mappings().all() if wanted else []
            return rows, len(inside)
        count = select(func.count()).select_from(model).where(*conditions)
        total = conn.scalar(self.where_bbox(count, model, bbox))
        rows = (
            conn.execute(stmt.limit(limit).offset(offset)).mappings().all()
            if offset < total
            else []
        )
        return rows, int(total)

    def clip_bbox(self, frame: gpd.GeoDataFrame, bbox) -> gpd.GeoDataFrame:
        """``frame`` limited to ``bbox`` (on SQLite, where SQL could not filter it)."""
        if bbox is None or self.backend == "postgresql" or len(frame) == 0:
            return frame
        return frame[frame.intersects(shapely.box(*bbox))]


def grid_scope_conditions(grid_code, scope) -> list:
    """SQL conditions on a ``grid_code`` column for a
    :class:`gridmgmt.domain.access.GridScope` (the rule of ``visible_grids``)."""
    if scope.nothing:
        return [false()]
    conditions = []
    if scope.area is not None:
        conditions.append(grid_code.startswith(scope.area, autoescape=True))
    if scope.grid_codes is not None:
        conditions.append(grid_code.in_(list(scope.grid_codes)))
    return conditions


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of at most ``size``, for statements with bounded parameter counts."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]
