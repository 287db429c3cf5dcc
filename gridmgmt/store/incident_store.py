"""Incidents, their categories and history in the store.

:class:`IncidentStore` numbers new incidents per year, applies transitions
only when nobody else moved the incident meanwhile (an optimistic version
check) and reads incidents as dicts, tables or located points.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import geopandas as gpd
import pandas as pd
from sqlalchemy import case, false, func, select, update
from sqlalchemy.exc import IntegrityError

from gridmgmt.core.layers import WGS84
from gridmgmt.domain.access import IncidentScope
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.store import models as m
from gridmgmt.store.database import Database

#: states no deadline runs in (not counted as open)
CLOSED_STATES = ("closed", "rejected", "cancelled")
#: orders of :meth:`IncidentStore.incident_page`: a stable ORDER BY (ids break ties)
ORDERS = {
    "id": (m.Incident.id,),
    "-created": (m.Incident.created_at.desc(), m.Incident.id.desc()),
}


#: the largest id an (4-byte) integer primary key holds
MAX_ID = 2**31 - 1


def _storable_id(value) -> bool:
    """Whether ``value`` could be an incident id (asking PostgreSQL for more fails)."""
    return 0 < int(value) <= MAX_ID


def _scope_conditions(scope: IncidentScope):
    """SQL conditions of an access scope (the same rule as :meth:`IncidentScope.mask`)."""
    i = m.Incident
    if scope.nothing:
        yield false()
        return
    if scope.reporter is not None:
        yield i.reporter == scope.reporter
    if scope.area is not None:
        yield i.grid_code.startswith(scope.area, autoescape=True)
    if scope.grid_codes is not None:
        yield i.grid_code.in_(list(scope.grid_codes))
    if scope.states is not None:
        yield i.state.in_(list(scope.states))
    if scope.department is not None:
        yield i.department == scope.department


#: the PostgreSQL advisory lock key under which incident numbers are allocated
INCIDENT_NUMBER_LOCK = 0x6772_6964_0001


class IncidentStore(Database):
    """Incidents and categories (the repository of :mod:`gridmgmt.domain.incidents`)."""

    def sync_categories(self, categories) -> int:
        """Add categories missing from the table (edits made in the database are kept)."""
        with self.session() as s:
            known = set(s.scalars(select(m.IncidentCategory.code)))
            new = [c for c in categories if c.code not in known]
            for c in new:
                s.add(
                    m.IncidentCategory(
                        **{
                            k: getattr(c, k)
                            for k in (
                                "code",
                                "family",
                                "major_code",
                                "major_name",
                                "name",
                                "name_en",
                                "department",
                                "register_min",
                                "dispatch_min",
                                "handle_limit",
                                "handle_unit",
                                "urgent_handle_limit",
                                "urgent_handle_unit",
                                "verify_min",
                                "photo_required",
                            )
                        },
                        active=True,
                    )
                )
            return len(new)

    def departments(self) -> list[str]:
        """The departments incidents may be dispatched to: those of the stored categories."""
        with self.engine.connect() as conn:
            rows = conn.scalars(select(m.IncidentCategory.department).distinct())
            return sorted(d for d in rows if d)

    def category(self, code: str) -> dict | None:
        """One active category as a dict, or None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(m.IncidentCategory.__table__).where(
                        m.IncidentCategory.code == str(code), m.IncidentCategory.active.is_(True)
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def create_incident(self, record: dict, history: dict) -> tuple[dict, bool]:
        """Insert an incident and its first history row in one transaction.

        A record whose ``idempotency_key`` is stored already is not inserted
        again: the stored incident is returned with ``created=False`` (a phone
        retrying a submission). Returns ``(incident, created)``.
        """
        key = record.get("idempotency_key")
        if key:
            existing = self._incident_by(m.Incident.idempotency_key == key)
            if existing is not None:
                return existing, False
        now = record["created_at"]
        year = now.year
        for _ in range(5):
            try:
                with self.session() as s:
                    # reports from several processes take numbers one after another
                    # (the turn is held until this transaction ends), not by retrying
                    self.take_turn(s, INCIDENT_NUMBER_LOCK, m.Incident.__tablename__)
                    count = s.scalar(
                        select(func.count())
                        .select_from(m.Incident)
                        .where(m.Incident.number.like(f"{year}-%"))
                    )
                    incident = m.Incident(number=f"{year}-{count + 1:06d}", version=1, **record)
                    s.add(incident)
                    s.flush()
                    s.add(m.IncidentHistory(incident_id=incident.id, seq=1, **history))
                    incident_id = incident.id
                return self.incident(incident_id), True
            except IntegrityError:
                if (
                    key
                    and (existing := self._incident_by(m.Incident.idempotency_key == key))
                    is not None
                ):
                    return existing, False
                continue  # another report took the number: try the next one
        raise ConflictError("could not allocate an incident number; try again")

    def _incident_by(self, condition) -> dict | None:
        with self.engine.connect() as conn:
            incident_id = conn.scalar(select(m.Incident.id).where(condition))
        return None if incident_id is None else self.incident(incident_id)

    def incident(self, incident_id: int) -> dict:
        """An incident with its history (oldest first); NotFoundError if absent."""
        if not _storable_id(incident_id):
            raise NotFoundError(f"no incident {incident_id}")
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(m.Incident.__table__).where(m.Incident.id == incident_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"no incident {incident_id}")
            history = (
                conn.execute(
                    select(m.IncidentHistory.__table__)
                    .where(m.IncidentHistory.incident_id == incident_id)
                    .order_by(m.IncidentHistory.seq)
                )
                .mappings()
                .all()
            )
        out = dict(row)
        out["history"] = [dict(h) for h in history]
        return out

    def apply_transition(
        self, incident_id: int, expected_version: int, changes: dict, history: dict
    ) -> dict:
        """Move an incident on, if nobody else did since ``expected_version``.

        The update is conditional on the version; a concurrent transition that
        got there first makes this one fail with :class:`ConflictError`, and
        nothing is written.
        """
        with self.session() as s:
            result = s.execute(
                update(m.Incident)
                .where(m.Incident.id == incident_id, m.Incident.version == expected_version)
                .values(version=expected_version + 1, **changes)
            )
            if result.rowcount != 1:
                current = s.scalar(select(m.Incident.version).where(m.Incident.id == incident_id))
                if current is None:
                    raise NotFoundError(f"no incident {incident_id}")
                raise ConflictError(
                    f"incident {incident_id} changed meanwhile (version {current}, expected {expected_version}); reload it"
                )
            seq = s.scalar(
                select(func.max(m.IncidentHistory.seq)).where(
                    m.IncidentHistory.incident_id == incident_id
                )
            )
            s.add(m.IncidentHistory(incident_id=incident_id, seq=(seq or 0) + 1, **history))
        return self.incident(incident_id)

    def incidents(
        self,
        *,
        state: str | None = None,
        grid_codes=None,
        unassigned: bool | None = None,
        scope: IncidentScope | None = None,
    ) -> pd.DataFrame:
        """Incidents as a table (no geometry), filtered; only those in ``scope`` when given."""
        t = m.Incident.__table__
        stmt = select(*[c for c in t.c if c.name != "geom"]).order_by(m.Incident.id)
        if scope is not None:
            stmt = stmt.where(*_scope_conditions(scope))
        if state is not None:
            stmt = stmt.where(m.Incident.state == state)
        if grid_codes is not None:
            stmt = stmt.where(m.Incident.grid_code.in_(list(grid_codes)))
        if unassigned is not None:
            stmt = stmt.where(
                m.Incident.grid_code.is_(None) if unassigned else m.Incident.grid_code.is_not(None)
            )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return pd.DataFrame.from_records(
            [dict(r) for r in rows], columns=[c.name for c in t.c if c.name != "geom"]
        )

    def incident_records(
        self,
        scope: IncidentScope,
        *,
        limit: int,
        offset: int = 0,
        order: str = "id",
        state: str | None = None,
        states=None,
        grid_codes=None,
        unassigned: bool | None = None,
        ids=None,
        category_codes=None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        with_location: bool = False,
    ) -> tuple[list[dict], int]:
        """One page of the incidents in ``scope`` that match the filters, and how many match.

        Scope and filters are applied in SQL, then counted, then paged with
        LIMIT/OFFSET in a stable order, so each principal's total and pages
        are its own: two queries whatever the page size.

        Parameters
        ----------
        scope : IncidentScope
            What the asking principal may see (:func:`gridmgmt.domain.access.incident_scope`).
        limit, offset : int
            The page: at most ``limit`` rows after skipping ``offset``.
        order : str
            ``id`` (oldest first) or ``-created`` (newest first); ids break ties.
        state, states, grid_codes, unassigned, ids, category_codes : optional
            Filters (None: no filter).
        created_from, created_to : datetime, optional
            Reported at or after / at or before.
        bbox : tuple, optional
            ``(minx, miny, maxx, maxy)`` in lon/lat: only incidents located in it
            (in SQL on PostGIS; on SQLite the matching ids are found with shapely
            and one page of rows is then read by id).
        with_location : bool
            Add ``lon`` and ``lat`` (EPSG:4326) columns.

        Returns
        -------
        (list of dict, int)
            The page (keys as the columns of :meth:`incidents`, plus ``lon``/``lat``)
            and the total.
        """
        i = m.Incident
        conditions = list(_scope_conditions(scope))
        if state is not None:
            conditions.append(i.state == state)
        if states is not None:
            conditions.append(i.state.in_(list(states)))
        if grid_codes is not None:
            conditions.append(i.grid_code.in_(list(grid_codes)))
        if unassigned is not None:
            conditions.append(i.grid_code.is_(None) if unassigned else i.grid_code.is_not(None))
        if ids is not None:  # ids no row can have (beyond the integer column) match nothing
            conditions.append(i.id.in_([int(v) for v in ids if _storable_id(v)]))
        if category_codes is not None:
            conditions.append(i.category_code.in_(list(category_codes)))
        if created_from is not None:
            conditions.append(i.created_at >= created_from)
        if created_to is not None:
            conditions.append(i.created_at <= created_to)
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
        t = i.__table__
        columns = [c for c in t.c if c.name != "geom"] + ([t.c.geom] if with_location else [])
        with self.engine.connect() as conn:
            rows, total = self.page_rows(
                conn,
                i,
                select(*columns),
                conditions,
                ORDERS[order],
                bbox=bbox,
                limit=limit,
                offset=offset,
            )
        records = [dict(r) for r in rows]
        if with_location:
            for r in records:
                g = r.pop("geom")
                r["lon"], r["lat"] = (
                    (g.x, g.y) if g is not None and not g.is_empty else (None, None)
                )
        return records, int(total)

    def incident_page(
        self, scope: IncidentScope, *, with_location: bool = False, **filters
    ) -> tuple[pd.DataFrame, int]:
        """:meth:`incident_records` as a table (columns as :meth:`incidents`, plus
        ``lon``/``lat`` ``with_location``) and the total."""
        records, total = self.incident_records(scope, with_location=with_location, **filters)
        names = [c.name for c in m.Incident.__table__.c if c.name != "geom"]
        names += ["lon", "lat"] if with_location else []
        return pd.DataFrame.from_records(records, columns=names), total

    def counts_by_grid(self, scope: IncidentScope, grid_codes: Iterable[str]) -> dict[str, int]:
        """How many incidents in ``scope`` (any state) each of ``grid_codes`` holds:
        one grouped query; grids without incidents are left out."""
        i = m.Incident
        codes = list(grid_codes)
        if not codes:
            return {}
        stmt = (
            select(i.grid_code, func.count())
            .where(*_scope_conditions(scope), i.grid_code.in_(codes))
            .group_by(i.grid_code)
        )
        with self.engine.connect() as conn:
            return {code: int(n) for code, n in conn.execute(stmt).all()}

    def open_counts_by_grid(self, scope: IncidentScope, now: datetime) -> pd.DataFrame:
        """Open incidents in ``scope`` per grid code, and how many of them are past their
        deadline at ``now``: one grouped query (index ``grid_code``; columns ``open``,
        ``overdue``); incidents outside every grid are not counted."""
        i = m.Incident
        overdue = func.sum(case((i.deadline_at < now, 1), else_=0))
        stmt = (
            select(i.grid_code, func.count().label("open"), overdue.label("overdue"))
            .where(
                *_scope_conditions(scope),
                i.state.not_in(CLOSED_STATES),
                i.grid_code.is_not(None),
            )
            .group_by(i.grid_code)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(
            [(r.grid_code, int(r.open), int(r.overdue or 0)) for r in rows],
            columns=["grid_code", "open", "overdue"],
        )
        return frame.set_index("grid_code")

    def incident_points(self, *, bbox=None, open_only: bool = True) -> gpd.GeoDataFrame:
        """Incident ids, locations (EPSG:4326) and what the access policy filters by.

        Optionally only those in a bbox, and only open ones.
        """
        stmt = select(
            m.Incident.id,
            m.Incident.number,
            m.Incident.state,
            m.Incident.category_code,
            m.Incident.grid_code,
            m.Incident.deadline_at,
            m.Incident.department,
            m.Incident.reporter,
            m.Incident.geom,
        )
        if open_only:
            stmt = stmt.where(m.Incident.state.not_in(CLOSED_STATES))
        stmt = self.where_bbox(stmt, m.Incident, bbox)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        columns = (
            "id",
            "number",
            "state",
            "category_code",
            "grid_code",
            "deadline_at",
            "department",
            "reporter",
        )
        frame = gpd.GeoDataFrame(
            {c: pd.Series([r[c] for r in rows], dtype=object) for c in columns},
            geometry=[r["geom"] for r in rows],
            crs=WGS84,
        )
        return self.clip_bbox(frame, bbox)

    def set_incident_grids(self, placed: pd.DataFrame) -> None:
        """Write ``grid_code``/``reason`` (index: incident id) onto incidents, in one transaction."""
        with self.session() as s:
            for incident_id, row in placed.iterrows():
                s.execute(
                    update(m.Incident)
                    .where(m.Incident.id == int(incident_id))
                    .values(grid_code=row["grid_code"], unassigned_reason=row["reason"])
                )

    def incident_history(self) -> pd.DataFrame:
        """Every history row (no geometry), for KPIs and audits."""
        t = m.IncidentHistory.__table__
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(*[c for c in t.c if c.name != "geom"]).order_by(t.c.incident_id, t.c.seq)
                )
                .mappings()
                .all()
            )
        return pd.DataFrame.from_records(
            [dict(r) for r in rows], columns=[c.name for c in t.c if c.name != "geom"]
        )

    def satisfaction_ratings(self) -> pd.DataFrame:
        """Residents' 回访 ratings (``incident_id``, ``rating``, ``rated_at``), for 满意率."""
        t = m.ResidentReport.__table__
        stmt = select(t.c.incident_id, t.c.rating, t.c.rated_at).where(t.c.rating.is_not(None))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(t.c.incident_id)).mappings().all()
        return pd.DataFrame.from_records(
            [dict(r) for r in rows], columns=["incident_id", "rating", "rated_at"]
        )

    def zero_reports(self, first, last) -> pd.DataFrame:
        """Volunteers' 零报告 sent on days ``first`` .. ``last`` (inclusive)."""
        t = m.ZeroReport.__table__
        columns = ["username", "day", "grid_code", "at"]
        stmt = select(*[t.c[c] for c in columns]).where(t.c.day >= first, t.c.day <= last)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(t.c.day, t.c.username)).mappings().all()
        return pd.DataFrame.from_records([dict(r) for r in rows], columns=columns)
