"""Patrols, their points, the 民情日记 and incidents found on patrol, in the store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gridmgmt.domain.errors import NotFoundError
from gridmgmt.store.models import DiaryEntry, Patrol, PatrolIncident, PatrolPoint
from gridmgmt.store.repository import Store

PATROL_COLUMNS = [
    "id",
    "worker",
    "grid_codes",
    "source",
    "status",
    "started_at",
    "ended_at",
    "measures",
]


class PatrolStore:
    """Repository of patrols and diary entries over a :class:`~gridmgmt.store.repository.Store`."""

    def __init__(self, store: Store):
        self.store = store

    # ---------------------------------------------------------------- patrols
    def start(
        self,
        worker: str,
        grid_codes: list[str],
        started_at: datetime,
        source: str = "web",
        client_key: str | None = None,
    ) -> int:
        """A new patrol in state ``recording``; its id.

        With a ``client_key`` stored already (a replayed start), the id of
        that patrol instead: nothing new is written.
        """
        try:
            with self.store.session() as s:
                p = Patrol(
                    worker=worker,
                    grid_codes=list(grid_codes),
                    source=source,
                    status="recording",
                    started_at=started_at,
                    created_at=datetime.now(UTC),
                    client_key=client_key,
                )
                s.add(p)
                s.flush()
                return p.id
        except IntegrityError:
            existing = self.patrol_by_key(client_key) if client_key else None
            if existing is None:
                raise
            return existing

    def patrol_by_key(self, client_key: str) -> int | None:
        """The id of the patrol started with ``client_key``, or None."""
        with self.store.engine.connect() as conn:
            return conn.scalar(select(Patrol.id).where(Patrol.client_key == client_key))

    def add_points(self, patrol_id: int, points: pd.DataFrame) -> int:
        """Store fixes (``seq``, ``t``, ``lon``, ``lat``, ``accuracy``); seqs stored before are skipped.

        Returns how many were new, so a replayed upload changes nothing.
        """
        with self.store.session() as s:
            if s.get(Patrol, patrol_id) is None:
                raise NotFoundError(f"no patrol {patrol_id}")
            seen = set(s.scalars(select(PatrolPoint.seq).where(PatrolPoint.patrol_id == patrol_id)))
            rows = [
                {
                    "patrol_id": patrol_id,
                    "seq": int(r.seq),
                    "t": r.t.to_pydatetime() if isinstance(r.t, pd.Timestamp) else r.t,
                    "lon": float(r.lon),
                    "lat": float(r.lat),
                    "accuracy": None if pd.isna(r.accuracy) else float(r.accuracy),
                }
                for r in points.assign(accuracy=points.get("accuracy", None)).itertuples()
                if int(r.seq) not in seen
            ]
            rows = list({r["seq"]: r for r in rows}.values())  # a batch repeating a seq
            for k in range(0, len(rows), 2000):
                s.execute(insert(PatrolPoint), rows[k : k + 2000])
            return len(rows)

    def finish(self, patrol_id: int, ended_at: datetime, measures: dict, line) -> None:
        """Mark a patrol done with its measures and line (shapely, EPSG:4326, or None)."""
        with self.store.session() as s:
            s.execute(
                update(Patrol)
                .where(Patrol.id == patrol_id)
                .values(status="done", ended_at=ended_at, measures=measures, geom=line)
            )

    def patrol(self, patrol_id: int) -> dict:
        with self.store.session() as s:
            p = s.get(Patrol, patrol_id)
            if p is None:
                raise NotFoundError(f"no patrol {patrol_id}")
            return {c: getattr(p, c) for c in PATROL_COLUMNS} | {"geom": p.geom}

    def patrols(
        self,
        *,
        worker: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        status: str | None = None,
        ids: Iterable[int] | None = None,
    ) -> pd.DataFrame:
        """Patrols started in ``[start, end)``, optionally of one worker, status or id list, oldest first."""
        stmt = select(*(getattr(Patrol, c) for c in PATROL_COLUMNS)).order_by(
            Patrol.started_at, Patrol.id
        )
        if worker is not None:
            stmt = stmt.where(Patrol.worker == worker)
        if start is not None:
            stmt = stmt.where(Patrol.started_at >= start)
        if end is not None:
            stmt = stmt.where(Patrol.started_at < end)
        if status is not None:
            stmt = stmt.where(Patrol.status == status)
        if ids is not None:
            stmt = stmt.where(Patrol.id.in_([int(i) for i in ids]))
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=PATROL_COLUMNS)

    def patrol_page(self, *, worker: str, limit: int, offset: int = 0) -> tuple[pd.DataFrame, int]:
        """One page of ``worker``'s patrols, newest first, and how many there are (two queries)."""
        mine = Patrol.worker == worker
        stmt = (
            select(*(getattr(Patrol, c) for c in PATROL_COLUMNS))
            .where(mine)
            .order_by(Patrol.started_at.desc(), Patrol.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.store.engine.connect() as conn:
            total = conn.scalar(select(func.count()).select_from(Patrol).where(mine))
            rows = conn.execute(stmt).mappings().all() if offset < total else []
        return pd.DataFrame([dict(r) for r in rows], columns=PATROL_COLUMNS), int(total)

    def points(self, patrol_ids: Iterable[int]) -> pd.DataFrame:
        """Fixes of the patrols: ``patrol_id``, ``seq``, ``t``, ``lon``, ``lat``, ``accuracy``."""
        ids = [int(i) for i in patrol_ids]
        cols = ["patrol_id", "seq", "t", "lon", "lat", "accuracy"]
        out = []
        with self.store.engine.connect() as conn:
            for k in range(0, len(ids), 500):
                stmt = (
                    select(*(getattr(PatrolPoint, c) for c in cols))
                    .where(PatrolPoint.patrol_id.in_(ids[k : k + 500]))
                    .order_by(PatrolPoint.patrol_id, PatrolPoint.t, PatrolPoint.seq)
                )
                out += [dict(r) for r in conn.execute(stmt).mappings()]
        frame = pd.DataFrame(out, columns=cols)
        frame["t"] = pd.to_datetime(frame["t"], utc=True)
        return frame

    def lines(self, patrol_ids: Iterable[int]) -> list[dict]:
        """``id``, ``worker``, ``measures`` and ``geom`` of the patrols that have a line."""
        ids = [int(i) for i in patrol_ids]
        stmt = select(Patrol.id, Patrol.worker, Patrol.measures, Patrol.geom).where(
            Patrol.id.in_(ids), Patrol.geom.is_not(None)
        )
        with self.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt.order_by(Patrol.id)).mappings()]

    def link_incident(self, patrol_id: int, incident_id: int) -> None:
        with self.store.session() as s:
            if s.get(PatrolIncident, (patrol_id, incident_id)) is None:
                s.add(PatrolIncident(patrol_id=patrol_id, incident_id=incident_id))

    def patrol_incidents(self, patrol_ids: Iterable[int]) -> pd.DataFrame:
        ids = [int(i) for i in patrol_ids]
        stmt = select(PatrolIncident.patrol_id, PatrolIncident.incident_id).where(
            PatrolIncident.patrol_id.in_(ids)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return pd.DataFrame(rows, columns=["patrol_id", "incident_id"])

    # ------------------------------------------------------------------ diary
    def add_diary(self, entry: dict) -> int:
        """A diary entry (worker, day, grid_code, building_id, kind, text, photo_ids, patrol_id).

        An entry may carry a ``client_key``; one stored already (a replayed
        entry) returns the id of the first entry and writes nothing.
        """
        try:
            with self.store.session() as s:
                d = DiaryEntry(**entry, created_at=datetime.now(UTC))
                s.add(d)
                s.flush()
                return d.id
        except IntegrityError:
            key = entry.get("client_key")
            existing = self.diary_by_key(key) if key else None
            if existing is None:
                raise
            return existing

    def diary_by_key(self, client_key: str) -> int | None:
        """The id of the diary entry written with ``client_key``, or None."""
        with self.store.engine.connect() as conn:
            return conn.scalar(select(DiaryEntry.id).where(DiaryEntry.client_key == client_key))

    def diary(
        self, *, first: date | None = None, last: date | None = None, grid_codes=None, worker=None
    ) -> pd.DataFrame:
        """Diary entries of days ``first``..``last`` (inclusive), newest first."""
        cols = ["id", "worker", "day", "grid_code", "building_id", "kind", "text", "photo_ids"]
        cols += ["patrol_id", "created_at"]
        stmt = select(*(getattr(DiaryEntry, c) for c in cols)).order_by(
            DiaryEntry.day.desc(), DiaryEntry.id.desc()
        )
        if first is not None:
            stmt = stmt.where(DiaryEntry.day >= first)
        if last is not None:
            stmt = stmt.where(DiaryEntry.day <= last)
        if grid_codes is not None:
            stmt = stmt.where(DiaryEntry.grid_code.in_(list(grid_codes)))
        if worker is not None:
            stmt = stmt.where(DiaryEntry.worker == worker)
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=cols)
