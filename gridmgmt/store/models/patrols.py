"""Tables of patrols (巡查) and the residents'-affairs diary (民情日记)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.store.models.base import Base
from gridmgmt.store.types import GeometryType, UTCDateTime


class Patrol(Base):
    """One patrol of a grid worker: recorded in the browser or imported from a track file."""

    __tablename__ = "patrols"
    __table_args__ = (
        UniqueConstraint("client_key", name="uq_patrols_client_key"),
        Index("ix_patrols_worker_started", "worker", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(64), index=True)
    grid_codes: Mapped[list] = mapped_column(JSON)  # the worker's grids when it was made
    source: Mapped[str] = mapped_column(String(16))  # web | gpx | geojson | demo
    status: Mapped[str] = mapped_column(String(12), default="recording")  # recording | done
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    measures: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    geom = mapped_column(GeometryType("LINESTRING"), nullable=True)
    #: the phone's idempotency key, scoped to the worker: a replayed 开始巡查 finds this patrol
    client_key: Mapped[str | None] = mapped_column(String(64))


class PatrolPoint(Base):
    """A fix of a patrol; ``seq`` comes from the client so a replayed upload is stored once."""

    __tablename__ = "patrol_points"
    __table_args__ = (UniqueConstraint("patrol_id", "seq", name="uq_patrol_points_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    t: Mapped[datetime] = mapped_column(UTCDateTime())
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)


class DiaryEntry(Base):
    """A 民情日记 entry: what a worker did where, on which day."""

    __tablename__ = "diary_entries"
    __table_args__ = (UniqueConstraint("client_key", name="uq_diary_entries_client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(64), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    grid_code: Mapped[str] = mapped_column(String(15), index=True)
    building_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # 走访 调解 宣传 信息收集 应急 其他
    text: Mapped[str] = mapped_column(Text)
    photo_ids: Mapped[list] = mapped_column(JSON)
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the phone's idempotency key, scoped to the worker: a replayed entry finds this one
    client_key: Mapped[str | None] = mapped_column(String(64))


class PatrolIncident(Base):
    """An incident reported during a patrol."""

    __tablename__ = "patrol_incidents"

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
