"""Incidents (事件/部件问题), their categories and their transition history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.store.models.base import Base
from gridmgmt.store.types import GeometryType, UTCDateTime


class IncidentCategory(Base):
    """A 小类 of 部件 or 事件 with its department and stage time limits (loaded from data, editable)."""

    __tablename__ = "incident_categories"
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    family: Mapped[str] = mapped_column(String(4))
    major_code: Mapped[str] = mapped_column(String(2))
    major_name: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    department: Mapped[str] = mapped_column(String(60))
    register_min: Mapped[int] = mapped_column(Integer)
    dispatch_min: Mapped[int] = mapped_column(Integer)
    handle_limit: Mapped[int] = mapped_column(Integer)
    handle_unit: Mapped[str] = mapped_column(String(16))
    urgent_handle_limit: Mapped[int] = mapped_column(Integer)
    urgent_handle_unit: Mapped[str] = mapped_column(String(16))
    verify_min: Mapped[int] = mapped_column(Integer)
    photo_required: Mapped[bool] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)


class Incident(Base):
    """An incident (事件/部件问题); ``version`` guards against concurrent transitions."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_grid_state", "grid_code", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    category_code: Mapped[str] = mapped_column(ForeignKey("incident_categories.code"), index=True)
    description: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(24), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    unassigned_reason: Mapped[str | None] = mapped_column(String(40))
    reporter: Mapped[str] = mapped_column(String(64), index=True)
    department: Mapped[str | None] = mapped_column(String(60), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    geom = mapped_column(GeometryType("POINT"), nullable=True)
    deadline_stage: Mapped[str | None] = mapped_column(String(16))
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class IncidentHistory(Base):
    """One transition of an incident: who, in which role, when, from and to which state, why."""

    __tablename__ = "incident_history"
    __table_args__ = (UniqueConstraint("incident_id", "seq", name="uq_incident_history_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    transition: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    photo_ids: Mapped[list] = mapped_column(JSON, default=list)
    geom = mapped_column(GeometryType("POINT"), nullable=True)
    deadline_stage: Mapped[str | None] = mapped_column(String(16))
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
