"""Database tables (SQLAlchemy 2 declarative models).

Every geometry is WGS84 (EPSG:4326). Objects carry the ``source_id`` they had
in the file they were imported from (OSM id, ledger id), unique per table, so
re-imports and ledgers can find them again. Grids are versioned: a new
partition or an approved rebalance closes the old rows (``valid_to``) and
writes new ones; current grids are those with ``valid_to IS NULL``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gridmgmt.store.types import GeometryType, UTCDateTime


class Base(DeclarativeBase):
    pass


class District(Base):
    """区 (county-level district), the top of the three-level grid map."""

    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=True)


class Street(Base):
    """街道 (sub-district): 一级网格."""

    __tablename__ = "streets"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=True)


class Community(Base):
    """社区 (community): 二级网格."""

    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=True)


class Grid(Base):
    """责任网格 (responsibility grid), one row per grid per version."""

    __tablename__ = "grids"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_grids_code_version"),
        CheckConstraint("kind IN ('residential', 'unit')", name="ck_grids_kind"),
        Index("ix_grids_current", "community_id", "valid_to"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(String(16), default="residential")
    households: Mapped[int] = mapped_column(Integer, default=0)
    n_buildings: Mapped[int] = mapped_column(Integer, default=0)
    flag: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=False)


class Compound(Base):
    """小区 (residential compound) or 单位 (unit enclosure)."""

    __tablename__ = "compounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    compound_kind: Mapped[str] = mapped_column(String(16), default="residential")
    landuse: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200))
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=False)


class Building(Base):
    """建筑 with households from the ledger (台账) or estimated."""

    __tablename__ = "buildings"
    __table_args__ = (
        CheckConstraint("households >= 0", name="ck_buildings_households"),
        CheckConstraint(
            "households_source IN ('ledger', 'estimated')", name="ck_buildings_households_source"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    building_type: Mapped[str] = mapped_column(String(32), default="other")
    floors: Mapped[float | None] = mapped_column(Float)
    households: Mapped[int] = mapped_column(Integer, default=0)
    households_source: Mapped[str] = mapped_column(String(16), default="estimated")
    population: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str | None] = mapped_column(String(200))
    compound_source_id: Mapped[str | None] = mapped_column(String(64), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=False)


class Road(Base):
    """道路 centre lines."""

    __tablename__ = "roads"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    road_class: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=False)


class Facility(Base):
    """设施: school, hospital, market, kindergarten, clinic, government, police, park..."""

    __tablename__ = "facilities"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(40), default="other")
    name: Mapped[str | None] = mapped_column(String(200))
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=False)


class Role(Base):
    """A role a user may hold (admin, supervisor, dept, worker, analyst)."""

    __tablename__ = "roles"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(40))


class User(Base):
    """An account; grid workers are bound to grids through :class:`UserGrid`."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(ForeignKey("roles.name"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UserGrid(Base):
    """Which grids (by code) a grid worker is responsible for."""

    __tablename__ = "user_grids"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15), primary_key=True)


class ApiKey(Base):
    """A machine client's key; only its SHA-256 is stored."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(ForeignKey("roles.name"))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


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
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    category_code: Mapped[str] = mapped_column(ForeignKey("incident_categories.code"))
    description: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(24), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    unassigned_reason: Mapped[str | None] = mapped_column(String(40))
    reporter: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    geom = mapped_column(GeometryType("POINT"), nullable=True)
    deadline_stage: Mapped[str | None] = mapped_column(String(16))
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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


class ImportRun(Base):
    """One import of a file: what was read, imported, repaired and skipped."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    summary: Mapped[dict] = mapped_column(JSON)


#: layer name -> model, for the layers the importers produce
LAYER_MODELS = {
    "compounds": Compound,
    "buildings": Building,
    "roads": Road,
    "facilities": Facility,
}


# Feature tables declared in their own modules register on the same Base here.
from gridmgmt.store import models_patrol, models_proposals, models_web  # noqa: E402,F401
