"""Residents' reports (follow codes, contacts, 回访 ratings) and volunteers' 零报告 in the store."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from gridmgmt.store.models import Incident, ResidentReport, ZeroReport

RESIDENT_COLUMNS = ("incident_id", "code", "phone", "email", "device", "created_at")
RATING_COLUMNS = ("incident_id", "rating", "rating_comment", "rated_at")


class ResidentStore:
    """Repository of :mod:`gridmgmt.domain.residents` over a :class:`~gridmgmt.store.repository.Store`.

    Parameters
    ----------
    store : gridmgmt.store.repository.Store
        The store whose engine holds the tables.
    """

    def __init__(self, store):
        self.store = store

    # ------------------------------------------------------------ resident reports
    def add_resident_report(self, record: dict) -> None:
        """Keep the follow code and contact of a new resident report (one per incident)."""
        with self.store.session() as s:
            if s.get(ResidentReport, record["incident_id"]) is None:
                s.add(ResidentReport(**record))

    def resident_report(self, incident_id: int) -> dict | None:
        """The resident part of an incident (code, contact, rating), or None for other incidents."""
        t = ResidentReport.__table__
        with self.store.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.incident_id == incident_id)).mappings().first()
        return dict(row) if row else None

    def incident_id_by_number(self, number: str) -> int | None:
        """The id of the incident numbered ``number``, or None."""
        with self.store.engine.connect() as conn:
            return conn.scalar(select(Incident.id).where(Incident.number == str(number)[:16]))

    def rate(self, incident_id: int, rating: str, comment: str | None, at: datetime) -> bool:
        """Record the 回访 rating unless one is recorded already; whether this one was kept."""
        with self.store.session() as s:
            changed = s.execute(
                update(ResidentReport)
                .where(ResidentReport.incident_id == incident_id, ResidentReport.rating.is_(None))
                .values(rating=rating, rating_comment=comment, rated_at=at)
            ).rowcount
        return changed == 1

    def ratings(self) -> pd.DataFrame:
        """Every recorded rating: incident id, rating, comment, when."""
        t = ResidentReport.__table__
        stmt = select(*[t.c[c] for c in RATING_COLUMNS]).where(t.c.rating.is_not(None))
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(t.c.incident_id)).mappings().all()
        return pd.DataFrame.from_records([dict(r) for r in rows], columns=list(RATING_COLUMNS))

    def resident_incident_ids(self) -> set[int]:
        """Ids of the incidents reported by residents through the public page."""
        with self.store.engine.connect() as conn:
            return set(conn.scalars(select(ResidentReport.incident_id)))

    # ------------------------------------------------------------ 零报告
    def add_zero_report(
        self, username: str, day: date, grid_code: str | None, at: datetime
    ) -> bool:
        """Record a 零报告 of ``username`` for ``day``; False when one was sent that day already."""
        try:
            with self.store.session() as s:
                s.add(ZeroReport(username=username, day=day, grid_code=grid_code, at=at))
        except IntegrityError:
            return False
        return True

    def zero_reports(self, first: date, last: date) -> pd.DataFrame:
        """零报告 sent on days ``first`` .. ``last`` (inclusive)."""
        return self.store.zero_reports(first, last)
