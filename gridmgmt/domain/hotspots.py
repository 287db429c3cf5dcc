"""Incident hot spots for an area and period, from the store.

The use case behind ``gridmgmt stats hotspots``, ``/api/v1/stats/hotspots``
and the analyst notebook: the current grids of one 社区 (or all), the
incidents created in ``[start, end)``, their rate per 1,000 households,
Getis-Ord Gi* classes and global Moran's I
(:mod:`gridmgmt.core.spatial_stats`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import geopandas as gpd
import pandas as pd

from gridmgmt.core.periods import check_period
from gridmgmt.core.spatial_stats import MoranResult, compare_periods, hotspots, incident_rates


class HotspotSource(Protocol):
    """What the use case reads: grids, communities and the incident table."""

    def current_grids(self, community_code: str | None = None) -> gpd.GeoDataFrame: ...

    def community(self, name_or_code: str) -> dict: ...

    def incidents(self, *, grid_codes=None) -> pd.DataFrame: ...


@dataclass(frozen=True)
class HotspotReport:
    """Per-grid rates and Gi* classes, Moran's I, and what was analysed."""

    grids: gpd.GeoDataFrame
    moran: MoranResult | None
    start: datetime
    end: datetime
    community: str | None
    incidents: int


def area_hotspots(
    store: HotspotSource,
    start: datetime,
    end: datetime,
    *,
    community: str | None = None,
    contiguity: str = "queen",
    permutations: int = 999,
    seed: int = 0,
) -> HotspotReport:
    """Gi* hot spots of incident rates in the current grids for ``[start, end)``.

    Parameters
    ----------
    store : HotspotSource
        The repository (:class:`gridmgmt.store.repository.Store`).
    start, end : datetime
        The period; incidents created at ``start`` count, at ``end`` not.
    community : str, optional
        社区 name or code; all grids when omitted.
    contiguity, permutations, seed
        Passed to :func:`gridmgmt.core.spatial_stats.hotspots`.
    """
    check_period(start, end)
    code = store.community(community)["code"] if community else None
    grids = store.current_grids(code)
    if grids.empty:
        raise ValueError(f"no grids in {community or 'the database'}; partition first")
    table = store.incidents(grid_codes=list(grids["code"]))
    if not table.empty:
        created = pd.to_datetime(table["created_at"], utc=True)
        t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
        t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0
        t1 = t1.tz_localize("UTC") if t1.tzinfo is None else t1
        table = table[(created >= t0) & (created < t1)]
    rates = incident_rates(grids, table["grid_code"] if not table.empty else [])
    out, moran = hotspots(rates, contiguity=contiguity, permutations=permutations, seed=seed)
    return HotspotReport(out, moran, start, end, code, int(len(table)))


def compare_area_periods(
    store: HotspotSource,
    first: tuple[datetime, datetime],
    second: tuple[datetime, datetime],
    **options,
) -> gpd.GeoDataFrame:
    """Rate and hot-spot class change per grid between two periods."""
    a = area_hotspots(store, *first, **options)
    b = area_hotspots(store, *second, **options)
    return compare_periods(a.grids, b.grids)
