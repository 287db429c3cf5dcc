"""The households ledger of visits (房屋台账 on 走访): one row per confirmation or correction.

A grid worker on a visit confirms or corrects a building's households (and
optionally population); each one is a new row, never an update of an older
one, so the building's history stays whole. The building's current counts
(``buildings.households``, ``households_source = 'visit'``) follow the
latest row. ``building_id`` is the building's ``source_id`` (as in the
民情日记), so a change outlives a re-import of the building. Idempotency
keys are unique per user: a replayed submission finds its row instead of
writing a second one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.store.models.base import Base
from gridmgmt.store.types import UTCDateTime

#: where a change comes from: ``visit`` (走访), the only door so far
CHANGE_SOURCES = ("visit",)


class HouseholdChange(Base):
    """One confirmation or correction of a building's households, with the values it replaced."""

    __tablename__ = "household_changes"
    __table_args__ = (
        UniqueConstraint("username", "idempotency_key", name="uq_household_changes_key"),
        CheckConstraint("households >= 0", name="ck_household_changes_households"),
        CheckConstraint(
            "population IS NULL OR population >= 0", name="ck_household_changes_population"
        ),
        CheckConstraint("source IN ('visit')", name="ck_household_changes_source"),
        Index("ix_household_changes_grid_created", "grid_code", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[str] = mapped_column(String(64), index=True)
    #: the building's grid when the change was made (None: in no current grid)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    households: Mapped[int] = mapped_column(Integer)
    #: population as given on the visit; None when only households were counted
    population: Mapped[int | None] = mapped_column(Integer)
    households_before: Mapped[int] = mapped_column(Integer)
    population_before: Mapped[int] = mapped_column(Integer)
    source_before: Mapped[str] = mapped_column(String(16))
    #: the grid's total before and after (None without a current grid)
    grid_households_before: Mapped[int | None] = mapped_column(Integer)
    grid_households_after: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), default="visit")
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
