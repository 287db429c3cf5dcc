"""Administrative areas (区, 街道, 社区) and the versioned responsibility grids.

Grids are versioned: a new partition or an approved rebalance closes the old
rows (``valid_to``) and writes new ones; current grids are those with
``valid_to IS NULL``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.store.models.base import Base
from gridmgmt.store.types import GeometryType


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
    flag: Mapped[str | None] = mapped_column(String(160))
    version: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=False)
