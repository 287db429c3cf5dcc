"""Per-grid workload report for an area and period (the use case behind 报表 and ``gridmgmt report workload``).

Counts come from the store (buildings, facilities, the incident history via
:func:`gridmgmt.domain.incidents.kpi.incident_facts`); the index and the
neighbour flag from :mod:`gridmgmt.core.workload`. More per-grid columns
(patrol compliance, diary entries, ...) join in through ``providers``:
callables ``(area, start, end) -> DataFrame`` indexed by grid code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import geopandas as gpd
import pandas as pd

from gridmgmt.core.periods import check_period
from gridmgmt.core.workload import grid_counts, neighbour_outliers, workload_index
from gridmgmt.domain.areas import Area, select_area
from gridmgmt.domain.incidents.kpi import incident_facts
from gridmgmt.domain.volunteers import volunteer_columns

Provider = Callable[[Area, datetime, datetime], pd.DataFrame]
FACT_COLUMNS = ["grid_code", "category_code", "state", "overdue", "reported", "handling_hours"]


@dataclass(frozen=True)
class WorkloadReport:
    """One row per grid of the area (EPSG:4326), with the inputs that made it."""

    area: Area
    start: datetime
    end: datetime
    table: gpd.GeoDataFrame
    weights: Mapping[str, float] = field(default_factory=dict)


def period_facts(store, codes: list[str], start: datetime, end: datetime) -> pd.DataFrame:
    """Incident facts of the period for incidents located in ``codes`` (see :data:`FACT_COLUMNS`)."""
    check_period(start, end)
    incidents = store.incidents()
    incidents = incidents[incidents["grid_code"].isin(codes)] if len(incidents) else incidents
    if incidents.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FACT_COLUMNS})
    history = store.incident_history()
    history = history[history["incident_id"].isin(incidents["id"])]
    facts = incident_facts(incidents, history, start, end)
    facts["state"] = facts["state_at_end"].fillna("reported")
    touching = facts["reported"] | facts["due"] | facts["handled"] | facts["overdue"]
    return facts.loc[touching, FACT_COLUMNS].reset_index(drop=True)


def area_workload(
    store,
    start: datetime,
    end: datetime,
    *,
    street: str | None = None,
    community: str | None = None,
    grids: Iterable[str] | None = None,
    weights: Mapping[str, float] | None = None,
    ratio: float = 1.5,
    providers: Iterable[Provider] = (),
    patrols=None,
) -> WorkloadReport:
    """The workload of every current grid in the area for ``[start, end)``.

    Parameters
    ----------
    store
        The repository (:class:`gridmgmt.store.repository.Store`).
    start, end : datetime
        The period (aware datetimes); incidents created in it are counted,
        overdue and handling times are those of the KPI formulas.
    street, community, grids
        The area (see :func:`gridmgmt.domain.areas.select_area`); all grids
        when none is given.
    weights : mapping, optional
        Weights of the workload index (:data:`gridmgmt.core.workload.DEFAULT_WEIGHTS`);
        extra measures from ``providers`` may be weighted too.
    ratio : float
        A grid at ``ratio`` times its neighbours' mean index is flagged.
    providers : iterable of callables
        Extra per-grid columns, joined on the grid code.
    patrols : PatrolRepository, optional
        With the patrol repository, the patrol columns join in: patrol
        days, compliance, mean building and road coverage, 民情日记 entries,
        incidents found on patrol (:func:`patrol_columns`). Stores that
        keep 零报告 add the volunteers per grid and their reporting rate
        (:func:`gridmgmt.domain.volunteers.volunteer_columns`).

    Returns
    -------
    WorkloadReport
        ``table`` has ``code``, ``kind``, ``community_code``, the counts of
        :func:`gridmgmt.core.workload.grid_counts`, provider columns,
        ``workload_index``, ``neighbour_index``, ``far_above_neighbours``;
        sorted by code. Empty (but with the columns) for an area without grids.
    """
    check_period(start, end)
    area = select_area(store, street=street, community=community, grids=grids)
    codes = area.codes
    base = area.grids[["code", "kind", "community_code", "geometry"]].reset_index(drop=True)
    buildings = store.read_layer("buildings", grid_codes=codes)
    facilities = store.read_layer("facilities", grid_codes=codes)
    facts = period_facts(store, codes, start, end)
    table = grid_counts(base, buildings, facilities, facts)
    providers = list(providers)
    if patrols is not None:
        providers.append(patrol_columns(store, patrols))
    if hasattr(store, "zero_reports"):  # 楼栋长/信息员 reporting rates
        providers.append(volunteer_columns(store))
    for provide in providers:
        extra = provide(area, start, end)
        table = table.join(extra, on="code")
    chosen = dict(weights) if weights is not None else None
    if len(table):
        table["workload_index"] = workload_index(table, chosen).round(3)
        flags = neighbour_outliers(table, table["workload_index"], ratio=ratio)
        table["neighbour_index"] = flags["neighbour_index"].round(3)
        table["far_above_neighbours"] = flags["far_above_neighbours"]
    else:
        for col in ("workload_index", "neighbour_index", "far_above_neighbours"):
            table[col] = pd.Series(dtype=float if col != "far_above_neighbours" else bool)
    table = gpd.GeoDataFrame(table, geometry="geometry", crs=area.grids.crs or "EPSG:4326")
    from gridmgmt.core.workload import DEFAULT_WEIGHTS

    return WorkloadReport(area, start, end, table, chosen or dict(DEFAULT_WEIGHTS))


PATROL_COLUMNS = [
    "patrol_days",
    "compliance",
    "mean_building_share",
    "mean_road_share",
    "diary_entries",
    "incidents_on_patrol",
]


def patrol_columns(store, patrols) -> Provider:
    """A provider of the patrol report's per-grid figures for the workload period.

    Days are those of the period in Asia/Shanghai (its last day is the one
    before ``end``).
    """
    from datetime import timedelta

    from gridmgmt.core.periods import SHANGHAI
    from gridmgmt.domain.patrols import patrol_report

    def provide(area: Area, start: datetime, end: datetime) -> pd.DataFrame:
        first = start.astimezone(SHANGHAI).date()
        last = (end.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()
        table = patrol_report(store, patrols, first, last).table
        if table.empty:
            return pd.DataFrame(columns=PATROL_COLUMNS, index=pd.Index([], name="code"))
        return table.set_index("code")[PATROL_COLUMNS]

    return provide
