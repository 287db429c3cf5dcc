"""Grid change proposals and grid version history, over the :class:`Store`'s database.

:class:`ProposalStore` implements
:class:`gridmgmt.domain.rebalancing.ProposalRepository`. Approval is one
transaction that locks the 社区 first, so of two supervisors approving
proposals made on the same base version, the second waits, then finds its
proposal superseded and gets a :class:`ConflictError` naming the newer
version; its proposal is kept (status ``superseded``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from gridmgmt.core.layers import WGS84
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.domain.proposal_values import Approval, ProposalContent
from gridmgmt.store import models as m
from gridmgmt.store.grid_store import set_grid_codes_in, write_grid_version_in
from gridmgmt.store.models import (
    PROPOSAL_KINDS,
    GridProposal,
    GridProposalGrid,
    GridProposalMove,
)

_GRID_COLUMNS = ["code", "kind", "households", "n_buildings", "flag"]
_MOVE_COLUMNS = ["building_id", "households", "from_code", "to_code"]


class ProposalStore:
    """Proposals, their decisions and the grid version history of each 社区.

    Parameters
    ----------
    store : gridmgmt.store.repository.Store
        The store whose database (and grid writer) is used.
    """

    def __init__(self, store):
        self.store = store

    # ------------------------------------------------------------- proposals
    def add_proposal(self, content: ProposalContent) -> int:
        """Store a pending proposal; returns its id.

        Raises
        ------
        ValueError
            An unknown kind, or no grid.
        NotFoundError
            No such 社区.
        """
        with self.store.session() as s:
            return self._add_in(s, content)

    def add_approved_proposal(
        self, content: ProposalContent, approval: Approval
    ) -> tuple[int, int]:
        """Store a proposal and approve it in one transaction; returns (proposal id, version).

        What :meth:`add_proposal` then :meth:`approve` do. Nothing is kept
        when any step fails: when the 社区 is no longer at the content's
        ``base_version`` (another version was approved meanwhile),
        :class:`ConflictError` is raised and no proposal is left behind
        (unlike :meth:`approve`, which keeps a stored proposal as
        ``superseded``).
        """
        with self.store.session() as s:
            community_id = self._community_id(s, content.community_code)
            self._lock_community(s, community_id)  # before the proposal's row refers to it
            proposal_id = self._add_in(s, content)
            version, conflict = self._approve_in(s, proposal_id, community_id, approval)
            if conflict:
                raise ConflictError(conflict)  # rolls the proposal back with the rest
        return proposal_id, version

    def _add_in(self, s: Session, content: ProposalContent) -> int:
        """:meth:`add_proposal` in the session ``s``."""
        if content.kind not in PROPOSAL_KINDS:
            raise ValueError(
                f"unknown proposal kind {content.kind!r}; expected one of {PROPOSAL_KINDS}"
            )
        if len(content.grids) == 0:
            raise ValueError("a proposal needs at least one grid")
        grids = content.grids.to_crs(WGS84)
        proposal = GridProposal(
            community_id=self._community_id(s, content.community_code),
            base_version=int(content.base_version),
            author=content.author,
            created_at=datetime.now(UTC),
            kind=content.kind,
            status="pending",
            summary=content.summary,
            report=dict(content.report),
            totals=list(content.totals),
        )
        s.add(proposal)
        s.flush()
        s.execute(
            insert(GridProposalGrid),
            [
                {
                    "proposal_id": proposal.id,
                    "code": str(r.code),
                    "kind": r.kind,
                    "households": int(r.households),
                    "n_buildings": int(r.n_buildings),
                    "flag": r.flag if isinstance(r.flag, str) and r.flag else None,
                    "geom": r.geometry,
                }
                for r in grids.itertuples(index=False)
            ],
        )
        rows = [
            {
                "proposal_id": proposal.id,
                "building_id": str(r.building_id),
                "households": int(r.households),
                "from_code": r.from_code if isinstance(r.from_code, str) else None,
                "to_code": r.to_code if isinstance(r.to_code, str) else None,
            }
            for r in content.moves.itertuples(index=False)
        ]
        if rows:
            s.execute(insert(GridProposalMove), rows)
        return proposal.id

    def proposals(
        self, community_code: str | None = None, *, status: str | None = None
    ) -> list[dict]:
        """Proposals (newest first) without their grids: id, community, kind, status, counts."""
        p = GridProposal
        moved = (
            select(
                GridProposalMove.proposal_id,
                func.count().label("buildings_moved"),
                func.coalesce(func.sum(GridProposalMove.households), 0).label("households_moved"),
            )
            .group_by(GridProposalMove.proposal_id)
            .subquery()
        )
        stmt = (
            select(
                *_proposal_columns(),
                func.coalesce(moved.c.buildings_moved, 0).label("buildings_moved"),
                func.coalesce(moved.c.households_moved, 0).label("households_moved"),
            )
            .join(m.Community, p.community_id == m.Community.id)
            .outerjoin(moved, moved.c.proposal_id == p.id)
            .order_by(p.id.desc())
        )
        if community_code is not None:
            stmt = stmt.where(m.Community.code == community_code)
        if status is not None:
            stmt = stmt.where(p.status == status)
        with self.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def proposal(self, proposal_id: int) -> dict:
        """One proposal with ``grids`` (GeoDataFrame), ``moves`` (DataFrame), report and totals."""
        rows = [r for r in self._proposal_rows(proposal_id)]
        out = rows[0]
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(GridProposal.report, GridProposal.totals).where(
                    GridProposal.id == proposal_id
                )
            ).one()
            grids = (
                conn.execute(
                    select(
                        *[getattr(GridProposalGrid, c) for c in _GRID_COLUMNS],
                        GridProposalGrid.geom,
                    )
                    .where(GridProposalGrid.proposal_id == proposal_id)
                    .order_by(GridProposalGrid.code)
                )
                .mappings()
                .all()
            )
            moves = (
                conn.execute(
                    select(*[getattr(GridProposalMove, c) for c in _MOVE_COLUMNS])
                    .where(GridProposalMove.proposal_id == proposal_id)
                    .order_by(GridProposalMove.building_id)
                )
                .mappings()
                .all()
            )
        out["report"] = row.report
        out["totals"] = row.totals
        out["grids"] = gpd.GeoDataFrame(
            pd.DataFrame.from_records([dict(g) for g in grids], columns=_GRID_COLUMNS),
            geometry=[g["geom"] for g in grids],
            crs=WGS84,
        )
        out["moves"] = pd.DataFrame.from_records([dict(r) for r in moves], columns=_MOVE_COLUMNS)
        return out

    def _proposal_rows(self, proposal_id: int) -> list[dict]:
        p = GridProposal
        stmt = (
            select(*_proposal_columns())
            .join(m.Community, p.community_id == m.Community.id)
            .where(p.id == int(proposal_id))
        )
        with self.store.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(stmt).mappings()]
        if not rows:
            raise NotFoundError(f"no grid proposal {proposal_id}")
        return rows

    def reject(self, proposal_id: int, *, decided_by: str, note: str | None = None) -> None:
        """Mark a pending proposal rejected; a decided one gives :class:`ConflictError`."""
        with self.store.session() as s:
            result = s.execute(
                update(GridProposal)
                .where(GridProposal.id == int(proposal_id), GridProposal.status == "pending")
                .values(
                    status="rejected",
                    decided_by=decided_by,
                    decided_at=datetime.now(UTC),
                    decision_note=note,
                )
            )
            if result.rowcount != 1:
                status = s.scalar(
                    select(GridProposal.status).where(GridProposal.id == int(proposal_id))
                )
                if status is None:
                    raise NotFoundError(f"no grid proposal {proposal_id}")
                raise ConflictError(f"grid proposal {proposal_id} is {status}, not pending")

    def approve(self, proposal_id: int, approval: Approval) -> int:
        """Write the proposal as the 社区's next grid version, in one transaction.

        The 社区 is locked first. If its current version is no longer the
        proposal's base version (another proposal was approved meanwhile),
        the proposal is marked ``superseded`` and :class:`ConflictError`
        names the newer version. Otherwise the grids are written through
        :meth:`Store.write_grid_version`'s writer, the given buildings,
        facilities and open incidents get their new grid codes, the proposal
        is marked ``approved`` with the version it produced, and every other
        pending proposal of the 社区 made on an older version is marked
        ``superseded``.

        Parameters
        ----------
        proposal_id : int
        approval : Approval
            Who approves, and the buildings, facilities and open incidents
            whose grid changes.

        Returns
        -------
        int
            The new grid version.
        """
        with self.store.engine.connect() as conn:
            community_id = conn.scalar(
                select(GridProposal.community_id).where(GridProposal.id == int(proposal_id))
            )
        if community_id is None:
            raise NotFoundError(f"no grid proposal {proposal_id}")
        with self.store.session() as s:
            version, conflict = self._approve_in(s, proposal_id, community_id, approval)
        if conflict:
            raise ConflictError(conflict)
        return version

    def _approve_in(
        self, s: Session, proposal_id: int, community_id: int, approval: Approval
    ) -> tuple[int | None, str | None]:
        """:meth:`approve` in the session ``s``: (new version, None) or (None, conflict message)."""
        conflict = version = None
        # Lock first: what is read next is the state after any approval we waited for.
        community = self._lock_community(s, community_id)
        prop = s.get(GridProposal, int(proposal_id))
        current = self._current_version(s, community.id)
        if prop.status == "superseded" or (
            prop.status == "pending" and current != prop.base_version
        ):
            prop.status = "superseded"
            if not prop.decision_note:
                prop.decision_note = f"superseded by grid version {current}"
            conflict = (
                f"grid proposal {proposal_id} was made on version {prop.base_version} of "
                f"社区 {community.code}, which is now at grid version {current}; "
                "make the change again on the new version"
            )
        elif prop.status != "pending":
            raise ConflictError(f"grid proposal {proposal_id} is {prop.status}, not pending")
        else:
            grids = self._proposal_grids(s, prop.id)
            version = write_grid_version_in(
                s,
                community.code,
                grids,
                approval.building_grid,
                expected_version=prop.base_version,
            )
            set_grid_codes_in(s, m.Facility, approval.facility_grid)
            for incident_id, row in approval.incident_grid.iterrows():
                s.execute(
                    update(m.Incident)
                    .where(m.Incident.id == int(incident_id))
                    .values(grid_code=row["grid_code"], unassigned_reason=row["reason"])
                )
            now = datetime.now(UTC)
            prop.status = "approved"
            prop.decided_by = approval.decided_by
            prop.decided_at = now
            prop.decision_note = approval.note
            prop.result_version = version
            s.execute(
                update(GridProposal)
                .where(
                    GridProposal.community_id == community.id,
                    GridProposal.status == "pending",
                    GridProposal.id != prop.id,
                    GridProposal.base_version < version,
                )
                .values(
                    status="superseded",
                    decision_note=f"superseded by grid version {version} (proposal {prop.id})",
                )
            )
        return version, conflict

    @staticmethod
    def _lock_community(s: Session, community_id: int):
        """Serialise grid writes of one 社区: a row lock on PostGIS, the write lock on SQLite."""
        s.execute(
            update(m.Community).where(m.Community.id == community_id).values(code=m.Community.code)
        )
        return s.get(m.Community, community_id)

    @staticmethod
    def _current_version(s: Session, community_id: int) -> int:
        return (
            s.scalar(
                select(func.max(m.Grid.version)).where(
                    m.Grid.community_id == community_id, m.Grid.valid_to.is_(None)
                )
            )
            or 0
        )

    @staticmethod
    def _proposal_grids(s: Session, proposal_id: int) -> gpd.GeoDataFrame:
        rows = s.execute(
            select(*[getattr(GridProposalGrid, c) for c in _GRID_COLUMNS], GridProposalGrid.geom)
            .where(GridProposalGrid.proposal_id == proposal_id)
            .order_by(GridProposalGrid.code)
        ).all()
        frame = pd.DataFrame.from_records([r[:-1] for r in rows], columns=_GRID_COLUMNS)
        return gpd.GeoDataFrame(frame, geometry=[r[-1] for r in rows], crs=WGS84)

    @staticmethod
    def _community_id(s: Session, community_code: str) -> int:
        community_id = s.scalar(select(m.Community.id).where(m.Community.code == community_code))
        if community_id is None:
            raise NotFoundError(f"no 社区 with code {community_code}")
        return community_id

    # --------------------------------------------------------------- versions
    def current_version(self, community_code: str) -> int:
        """The 社区's current grid version (0 before any grids)."""
        with self.store.session() as s:
            return self._current_version(s, self._community_id(s, community_code))

    def grid_versions(self, community_code: str) -> list[dict]:
        """Every grid version of a 社区, oldest first, with the proposal that produced it.

        Each dict: version, valid_from, valid_to, grids, households,
        proposal_id, proposal_kind, author, decided_by (the last four None for
        versions written outside proposals, e.g. by ``gridmgmt partition``).
        """
        g = m.Grid
        with self.store.session() as s:
            community_id = self._community_id(s, community_code)
            rows = s.execute(
                select(
                    g.version,
                    func.min(g.valid_from),
                    func.max(g.valid_to),
                    func.count(g.id),
                    func.coalesce(func.sum(g.households), 0),
                    func.count(g.valid_to),
                )
                .where(g.community_id == community_id)
                .group_by(g.version)
                .order_by(g.version)
            ).all()
            made = {
                p.result_version: p
                for p in s.scalars(
                    select(GridProposal).where(
                        GridProposal.community_id == community_id,
                        GridProposal.result_version.is_not(None),
                    )
                )
            }
            out = []
            for version, valid_from, valid_to, n, households, n_closed in rows:
                p = made.get(version)
                out.append(
                    {
                        "version": int(version),
                        "valid_from": _utc(valid_from),
                        "valid_to": _utc(valid_to) if n_closed == n else None,
                        "grids": int(n),
                        "households": int(households),
                        "proposal_id": p.id if p else None,
                        "proposal_kind": p.kind if p else None,
                        "author": p.author if p else None,
                        "decided_by": p.decided_by if p else None,
                    }
                )
            return out

    def grids_of_version(self, community_code: str, version: int) -> gpd.GeoDataFrame:
        """The grids of one stored version of a 社区 (any version, current or closed)."""
        g = m.Grid
        with self.store.session() as s:
            community_id = self._community_id(s, community_code)
            rows = s.execute(
                select(*[getattr(g, c) for c in _GRID_COLUMNS], g.geom)
                .where(g.community_id == community_id, g.version == int(version))
                .order_by(g.code)
            ).all()
        if not rows:
            raise NotFoundError(f"社区 {community_code} has no grid version {version}")
        frame = pd.DataFrame.from_records([r[:-1] for r in rows], columns=_GRID_COLUMNS)
        return gpd.GeoDataFrame(frame, geometry=[r[-1] for r in rows], crs=WGS84)

    def used_codes(self, community_code: str) -> list[str]:
        """Every grid code ever stored for the 社区 (retired codes are never reused)."""
        with self.store.session() as s:
            community_id = self._community_id(s, community_code)
            return sorted(
                s.scalars(select(m.Grid.code).distinct().where(m.Grid.community_id == community_id))
            )


def _utc(value: datetime | None) -> datetime | None:
    """UTC-aware (SQLite hands back naive UTC times from ``grids``)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _proposal_columns() -> tuple:
    """The columns of a proposal row with its 社区's code and name (listing and single reads)."""
    p = GridProposal
    return (
        p.id,
        p.base_version,
        p.author,
        p.created_at,
        p.kind,
        p.status,
        p.summary,
        p.decided_by,
        p.decided_at,
        p.decision_note,
        p.result_version,
        m.Community.code.label("community_code"),
        m.Community.name.label("community_name"),
    )
