"""Residents and volunteers in the loop: follow codes and 回访 ratings, daily 零报告."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.store.models.base import Base
from gridmgmt.store.types import UTCDateTime


class ResidentReport(Base):
    """What a resident's report carries beyond the incident: the follow code, the contact, the 回访.

    ``code`` is the short code given at submission that opens the follow
    page together with the incident number; ``phone`` and ``email`` are
    the optional contacts for updates (personal, never shown publicly);
    ``device`` is a hash of the reporting device's id. ``rating`` is one of
    ``satisfied``, ``basic``, ``unsatisfied`` once the resident rated the
    closed case (once only).
    """

    __tablename__ = "resident_reports"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(12))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    device: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rating: Mapped[str | None] = mapped_column(String(12))
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class ZeroReport(Base):
    """A volunteer's (楼栋长, 信息员) 零报告: nothing to report on that Asia/Shanghai day."""

    __tablename__ = "zero_reports"
    __table_args__ = (UniqueConstraint("username", "day", name="uq_zero_reports_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
