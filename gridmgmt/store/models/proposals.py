"""Tables of grid change proposals: every rebalance is proposed, then decided.

A proposal is made for one 社区 against the grid version it was computed
from (``base_version``). It holds the proposed grids (geometry and
attributes), the buildings it moves (with households, from/to grid) and the
engine's report. Approving it writes a new grid version and records which
version it produced (``result_version``); rejecting or superseding it keeps
it for the record. Nothing here is ever deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridmgmt.store.models.base import Base
from gridmgmt.store.types import GeometryType, UTCDateTime

PROPOSAL_KINDS = ("auto", "move", "split", "merge", "rollback")
PROPOSAL_STATUSES = ("pending", "approved", "rejected", "superseded")


class GridProposal(Base):
    """A proposed change of one 社区's grids and its decision."""

    __tablename__ = "grid_proposals"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('auto', 'move', 'split', 'merge', 'rollback')", name="ck_grid_proposals_kind"
        ),
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'superseded')",
            name="ck_grid_proposals_status",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    base_version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict] = mapped_column(JSON)
    totals: Mapped[list] = mapped_column(JSON)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    result_version: Mapped[int | None] = mapped_column(Integer)


class GridProposalGrid(Base):
    """One grid of a proposal's proposed partition."""

    __tablename__ = "grid_proposal_grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("grid_proposals.id"), index=True)
    code: Mapped[str] = mapped_column(String(15))
    kind: Mapped[str] = mapped_column(String(16))
    households: Mapped[int] = mapped_column(Integer)
    n_buildings: Mapped[int] = mapped_column(Integer)
    flag: Mapped[str | None] = mapped_column(String(160))
    geom = mapped_column(GeometryType("GEOMETRY"), nullable=False)


class GridProposalMove(Base):
    """One building a proposal moves to another grid."""

    __tablename__ = "grid_proposal_moves"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("grid_proposals.id"), index=True)
    building_id: Mapped[str] = mapped_column(String(64))
    households: Mapped[int] = mapped_column(Integer)
    from_code: Mapped[str | None] = mapped_column(String(15))
    to_code: Mapped[str | None] = mapped_column(String(15))
