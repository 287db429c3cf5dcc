"""Versioned responsibility grids in the store.

:class:`GridStore` writes a 社区's grids as a new version (closing the
current one), locates positions and objects in the current grids, keeps
grid household totals in step with the ledger and reads grids as they were
at any time. :func:`write_grid_version_in` and :func:`set_grid_codes_in`
do the same writes inside a caller's transaction (approving a proposal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
from sqlalchemy import Numeric, cast, func, insert, select, text, update
from sqlalchemy.orm import Session

from gridmgmt.core.flags import BAND_EXEMPT, join_flags, split_flags
from gridmgmt.core.households import confidence_of
from gridmgmt.core.layers import WGS84
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.store import models as m
from gridmgmt.store.database import Database, chunks, grid_scope_conditions
from gridmgmt.store.layers import LAYER_TABLES


class GridStore(Database):
    """Grids and their versions (:class:`gridmgmt.domain.repositories.GridRepository`)."""

    def write_grid_version(
        self,
        community_code: str,
        grids: gpd.GeoDataFrame,
        building_grid: Mapping[str, str] | pd.Series,
        *,
        expected_version: int | None = None,
    ) -> int:
        """Close the 社区's current grids and write ``grids`` as the next version.

        Parameters
        ----------
        community_code : str
            12-digit 社区 code.
        grids : GeoDataFrame
            code, kind, households, n_buildings, flag, geometry.
        building_grid : mapping or Series
            Building ``source_id`` -> grid code, written onto the buildings.
        expected_version : int, optional
            The version the caller based its work on; if the stored current
            version differs, :class:`ConflictError` names the newer one.

        Returns
        -------
        int
            The new version number.
        """
        with self.session() as s:
            return write_grid_version_in(
                s, community_code, grids, building_grid, expected_version=expected_version
            )

    def grid_code_at(self, lon: float, lat: float) -> str | None:
        """The current grid at a position: smallest code among the grids covering it.

        On PostGIS this is one indexed SQL query (``ST_Covers`` with the GiST
        index); on SQLite an in-process :class:`~gridmgmt.core.live_index.GridIndex`,
        rebuilt when the current grid set changes. Both follow the rules of
        :func:`gridmgmt.core.assignment.assign`, a position within 1 cm of a
        grid but covered by none included.
        """
        if self.backend == "postgresql":
            point = func.ST_SetSRID(func.ST_MakePoint(float(lon), float(lat)), 4326)
            stmt = (
                select(m.Grid.code)
                .where(m.Grid.valid_to.is_(None), func.ST_Covers(m.Grid.geom, point))
                .order_by(m.Grid.code)
                .limit(1)
            )
            with self.engine.connect() as conn:
                code = conn.scalar(stmt)
                if code is None:  # within 1 cm of a grid (an outer edge after rounding)
                    code = conn.scalar(self._nearest_within_tolerance(point))
                return code
        return self.grid_index().lookup(lon, lat)

    @staticmethod
    def _nearest_within_tolerance(point):
        """The nearest current grid within EDGE_TOLERANCE_M of ``point`` (ties: smallest code)."""
        from gridmgmt.core.assignment import EDGE_TOLERANCE_M

        metres = func.ST_Distance(func.Geography(m.Grid.geom), func.Geography(point))
        return (
            select(m.Grid.code)
            .where(
                m.Grid.valid_to.is_(None),
                func.ST_DWithin(m.Grid.geom, point, 1e-6),  # ~10 cm in degrees: the GiST index
                metres <= EDGE_TOLERANCE_M,
            )
            .order_by(func.round(cast(metres, Numeric), 6), m.Grid.code)
            .limit(1)
        )

    def grid_index(self):
        """The live index of current grids, rebuilt only when they changed."""
        from gridmgmt.core.live_index import GridIndex

        with self.engine.connect() as conn:
            key = tuple(
                conn.execute(
                    select(func.count(m.Grid.id), func.max(m.Grid.id), func.max(m.Grid.valid_to))
                ).one()
            )
        index = self.__dict__.setdefault("_grid_index", GridIndex())
        if index.version != key:
            index.refresh(self.current_grids(), key)
        return index

    def set_grid_codes(self, layer: str, mapping: Mapping[str, str] | pd.Series) -> None:
        """Write ``source_id -> grid code`` assignments onto a layer, in one transaction."""
        model, _ = LAYER_TABLES[layer]
        with self.session() as s:
            set_grid_codes_in(s, model, mapping)

    def set_grid_codes_of_layers(self, mappings: Mapping[str, pd.Series]) -> None:
        """``{layer: source_id -> grid code}`` for several layers, all in one transaction."""
        with self.session() as s:
            for layer, mapping in mappings.items():
                set_grid_codes_in(s, LAYER_TABLES[layer][0], mapping)

    def update_households(
        self, ledger: pd.DataFrame, *, min_households: int = 250, max_households: int = 500
    ) -> pd.DataFrame:
        """Write new household (and population) counts of stored buildings, in one transaction.

        ``ledger`` has ``building_id``, ``households`` and ``population``,
        optionally ``households_source`` (default ``'ledger'``; the
        confidence follows from it). The current grids they
        lie in get their new totals, and residential ones the flag
        ``out_of_band`` when the totals leave ``[min_households,
        max_households]`` (cleared when they come back). Returns one row per
        grid whose total changed: ``code``, ``community_code``, ``kind``,
        ``before``, ``after``, ``flag``.

        Raises
        ------
        NotFoundError
            Ids that match no stored building (listed); nothing is written.
        """
        ids = ledger["building_id"].astype(str).tolist()
        b = m.Building
        with self.session() as s:
            found: dict[str, tuple[int, str | None]] = {}
            for chunk in chunks(ids, 500):
                for row in s.execute(
                    select(b.source_id, b.id, b.grid_code).where(b.source_id.in_(chunk))
                ):
                    found[row.source_id] = (row.id, row.grid_code)
            missing = [i for i in ids if i not in found]
            if missing:
                more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                raise NotFoundError(
                    f"{len(missing)} building id(s) not stored: {', '.join(missing[:10])}{more}"
                )
            sources = (
                ledger["households_source"].tolist()
                if "households_source" in ledger.columns
                else ["ledger"] * len(ids)
            )
            confidence = confidence_of(sources)
            rows = [
                {
                    "id": found[i][0],
                    "households": int(h),
                    "population": int(p),
                    "households_source": src,
                    "households_confidence": str(c),
                }
                for i, h, p, src, c in zip(
                    ids,
                    ledger["households"],
                    ledger["population"],
                    sources,
                    confidence,
                    strict=True,
                )
            ]
            codes = sorted({found[i][1] for i in ids if found[i][1]})
            for chunk in chunks(rows, 2000):
                s.execute(update(b), chunk)
            changed = refresh_grid_totals_in(
                s, codes, min_households=min_households, max_households=max_households
            )
        return pd.DataFrame(
            changed, columns=["code", "community_code", "kind", "before", "after", "flag"]
        )

    def current_grids(self, community_code: str | None = None, *, bbox=None) -> gpd.GeoDataFrame:
        """Current grids (``valid_to IS NULL``), optionally of one 社区 or in a bbox."""
        return self.grids_at(None, community_code, bbox=bbox)

    def grid_page(
        self,
        scope,
        *,
        limit: int,
        offset: int = 0,
        bbox: tuple[float, float, float, float] | None = None,
        codes: Iterable[str] | None = None,
    ) -> tuple[gpd.GeoDataFrame, int]:
        """One page of the current grids ``scope`` lets its reader see, in code order.

        Parameters
        ----------
        scope : gridmgmt.domain.access.GridScope
            The grids the reader may see.
        limit, offset : int
            The page.
        bbox : tuple, optional
            ``(minx, miny, maxx, maxy)`` in lon/lat: only grids intersecting it.
        codes : iterable of str, optional
            Only these grids.

        Returns
        -------
        (geopandas.GeoDataFrame, int)
            The page (columns as :meth:`grids_at`) and how many grids match.
        """
        g = m.Grid
        conditions = [g.valid_to.is_(None), *grid_scope_conditions(g.code, scope)]
        if codes is not None:
            conditions.append(g.code.in_([str(c) for c in codes]))
        with self.engine.connect() as conn:
            rows, total = self.page_rows(
                conn,
                g,
                _grid_select(),
                conditions,
                [g.code],
                bbox=bbox,
                limit=limit,
                offset=offset,
            )
        return _grid_frame(rows), total

    def grids_at(self, when: datetime | None, community_code: str | None = None, *, bbox=None):
        """Grids valid at ``when`` (``None``: now) as a GeoDataFrame."""
        g = m.Grid
        stmt = _grid_select()
        if when is None:
            stmt = stmt.where(g.valid_to.is_(None))
        else:
            stmt = stmt.where(g.valid_from <= when, (g.valid_to.is_(None)) | (g.valid_to > when))
        if community_code is not None:
            stmt = stmt.where(m.Community.code == community_code)
        stmt = self.where_bbox(stmt, g, bbox)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(g.code)).mappings().all()
        return self.clip_bbox(_grid_frame(rows), bbox)


def _grid_select():
    """The columns grids are read with (and their 社区's code)."""
    g = m.Grid
    return select(
        g.code,
        g.kind,
        g.households,
        g.n_buildings,
        g.flag,
        g.version,
        g.valid_from,
        g.valid_to,
        m.Community.code.label("community_code"),
        g.geom,
    ).join(m.Community, g.community_id == m.Community.id)


def _grid_frame(rows) -> gpd.GeoDataFrame:
    """Grid rows (mappings of :func:`_grid_select`) as a GeoDataFrame."""
    records = [dict(r) for r in rows]
    geoms = [r.pop("geom") for r in records]
    columns = ["code", "kind", "households", "n_buildings", "flag", "version"]
    columns += ["valid_from", "valid_to", "community_code"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)


def write_grid_version_in(
    s: Session,
    community_code: str,
    grids: gpd.GeoDataFrame,
    building_grid: Mapping[str, str] | pd.Series,
    *,
    expected_version: int | None = None,
) -> int:
    """:meth:`GridStore.write_grid_version` inside the caller's transaction ``s``."""
    now = datetime.now(UTC)
    grids = grids.to_crs(WGS84)
    community = s.scalar(select(m.Community).where(m.Community.code == community_code))
    if community is None:
        raise NotFoundError(f"no 社区 with code {community_code}")
    current = s.scalar(
        select(func.max(m.Grid.version)).where(
            m.Grid.community_id == community.id, m.Grid.valid_to.is_(None)
        )
    )
    if expected_version is not None and (current or 0) != expected_version:
        raise ConflictError(
            f"社区 {community_code} is at grid version {current}, not {expected_version}; "
            "reload and redo the change"
        )
    latest = s.scalar(select(func.max(m.Grid.version)).where(m.Grid.community_id == community.id))
    version = (latest or 0) + 1
    s.execute(
        update(m.Grid)
        .where(m.Grid.community_id == community.id, m.Grid.valid_to.is_(None))
        .values(valid_to=now)
    )
    rows = [
        {
            "code": str(r.code),
            "community_id": community.id,
            "kind": r.kind,
            "households": int(r.households),
            "n_buildings": int(r.n_buildings),
            "flag": r.flag if isinstance(r.flag, str) and r.flag else None,
            "version": version,
            "valid_from": now,
            "geom": r.geometry,
        }
        for r in grids.itertuples(index=False)
    ]
    if rows:
        s.execute(insert(m.Grid), rows)
    set_grid_codes_in(s, m.Building, building_grid)
    return version


def refresh_grid_totals_in(
    s: Session, codes: list[str], *, min_households: int, max_households: int
) -> list[tuple[str, str, str, int, int, str | None]]:
    """Recount the current grids ``codes`` from their buildings, in the caller's transaction.

    Each grid gets the sum of its buildings' households; a residential grid
    gets the flag ``out_of_band`` when the total leaves ``[min_households,
    max_households]`` and loses it when it comes back (other flags stay;
    grids whose flags excuse them from the band are left as they are).
    Returns ``(code, community_code, kind, before, after, flag)`` for every
    grid whose total changed.
    """
    b, g = m.Building, m.Grid
    current = s.execute(
        select(g.id, g.code, g.kind, g.households, g.flag, m.Community.code)
        .join(m.Community, g.community_id == m.Community.id)
        .where(g.code.in_(codes), g.valid_to.is_(None))
    ).all()
    totals = dict(
        s.execute(
            select(b.grid_code, func.coalesce(func.sum(b.households), 0))
            .where(b.grid_code.in_(codes))
            .group_by(b.grid_code)
        ).all()
    )
    changed = []
    for gid, code, kind, before, flag, community in current:
        after = int(totals.get(code, 0))
        if after == before:
            continue
        if kind == "residential" and not BAND_EXEMPT & set(split_flags(flag)):
            inside = min_households <= after <= max_households
            others = [f for f in split_flags(flag) if f != "out_of_band"]
            flag = join_flags(*others, None if inside else "out_of_band")
        s.execute(update(g).where(g.id == gid).values(households=after, flag=flag))
        changed.append((code, community, kind, int(before), after, flag))
    return changed


def set_grid_codes_in(s: Session, model, mapping: Mapping[str, str] | pd.Series) -> None:
    """``source_id -> code`` onto ``model`` in the caller's transaction ``s``.

    A None code clears a stale assignment. One statement per row run as one
    ``executemany`` on SQLite; on PostGIS one ``UPDATE ... FROM unnest(...)``
    per :data:`UNNEST_ROWS` rows (no statement per grid code and id chunk).
    """
    series = pd.Series(mapping, dtype=object) if not isinstance(mapping, pd.Series) else mapping
    if len(series) == 0:
        return
    codes = [c if isinstance(c, str) and c else None for c in series.tolist()]
    ids = [str(i) for i in series.index]
    table = model.__tablename__
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        stmt = text(
            f'UPDATE "{table}" AS t SET grid_code = v.code '
            "FROM unnest(CAST(:ids AS text[]), CAST(:codes AS text[])) AS v(source_id, code) "
            "WHERE t.source_id = v.source_id"
        )
        for start in range(0, len(ids), UNNEST_ROWS):
            end = start + UNNEST_ROWS
            conn.execute(stmt, {"ids": ids[start:end], "codes": codes[start:end]})
        return
    stmt = text(f'UPDATE "{table}" SET grid_code = :code WHERE source_id = :source_id')
    conn.execute(stmt, [{"code": c, "source_id": i} for c, i in zip(codes, ids, strict=True)])


#: rows per ``UPDATE ... FROM unnest`` on PostGIS
UNNEST_ROWS = 50_000
