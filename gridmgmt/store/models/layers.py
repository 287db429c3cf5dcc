"""Imported layers (compounds, buildings, roads, facilities) and the runs that imported them.

Objects carry the ``source_id`` they had in the file they were imported from
(OSM id, ledger id), unique per table, so re-imports and ledgers can find
them again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.core.households import HOUSEHOLD_SOURCES
from gridmgmt.store.models.base import Base
from gridmgmt.store.types import GeometryType

#: the households sources a building may carry, as an SQL list
HOUSEHOLD_SOURCES_SQL = ", ".join(f"'{s}'" for s in HOUSEHOLD_SOURCES)


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
    """建筑 with households from a ledger (台账) or estimated, and how sure they are.

    ``households_source`` and ``households_confidence`` are explained in
    :mod:`gridmgmt.core.households`; ``addr_street``/``addr_housenumber``
    (OSM ``addr:*``) let address ledgers find the building.
    """

    __tablename__ = "buildings"
    __table_args__ = (
        CheckConstraint("households >= 0", name="ck_buildings_households"),
        CheckConstraint(
            f"households_source IN ({HOUSEHOLD_SOURCES_SQL})",
            name="ck_buildings_households_source",
        ),
        CheckConstraint(
            "households_confidence IN ('high', 'medium', 'low')",
            name="ck_buildings_households_confidence",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    building_type: Mapped[str] = mapped_column(String(32), default="other")
    floors: Mapped[float | None] = mapped_column(Float)
    households: Mapped[int] = mapped_column(Integer, default=0)
    households_source: Mapped[str] = mapped_column(String(16), default="estimated")
    households_confidence: Mapped[str] = mapped_column(
        String(8), default="low", server_default="low"
    )
    population: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str | None] = mapped_column(String(200))
    compound_source_id: Mapped[str | None] = mapped_column(String(64), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    addr_street: Mapped[str | None] = mapped_column(String(200))
    addr_housenumber: Mapped[str | None] = mapped_column(String(40))
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
