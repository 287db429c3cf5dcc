"""Export use case: grids, buildings, facilities, incidents, workload or 考核 KPIs of an area and period.

Behind ``gridmgmt export`` and the 报表 page's downloads; the file formats
are :mod:`gridmgmt.io.exports`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gridmgmt.core.periods import check_period
from gridmgmt.domain.areas import Area, select_area
from gridmgmt.domain.errors import ForbiddenError

WHAT = ("grids", "buildings", "facilities", "incidents", "workload", "kpi", "all")
#: what needs a period
PERIODIC = ("workload", "kpi")
INCIDENT_COLUMNS = [
    "number",
    "source",
    "category_code",
    "description",
    "urgent",
    "state",
    "grid_code",
    "reporter",
    "department",
    "address",
    "created_at",
    "deadline_at",
]


@dataclass(frozen=True)
class ExportOutcome:
    path: Path
    area: Area
    rows: dict[str, int]

    @property
    def empty(self) -> bool:
        return sum(self.rows.values()) == 0


def collect(
    store,
    what: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    street: str | None = None,
    community: str | None = None,
    grids: Iterable[str] | None = None,
    by: str = "grid",
    analyst: bool = False,
    patrols=None,
) -> tuple[Area, dict[str, pd.DataFrame]]:
    """The tables of an export (name -> frame) and the area they cover.

    ``incidents`` are those created in the period when one is given (all
    otherwise); ``workload`` and ``kpi`` need a period; ``all`` is every
    layer (with workload and KPIs when a period is given). ``analyst``
    leaves out what names people (incident reporters and texts, KPIs by
    worker). With ``patrols`` (the patrol repository) the workload has the
    patrol columns.

    Raises
    ------
    ValueError
        Unknown ``what``, a missing or reversed period.
    NotFoundError
        An unknown area.
    """
    if what not in WHAT:
        raise ValueError(f"unknown export {what!r}; expected one of {', '.join(WHAT)}")
    if (start is None) != (end is None):
        raise ValueError("give both the period's start and end, or neither")
    if start is not None:
        check_period(start, end)
    elif what in PERIODIC:
        raise ValueError(f"{what} covers a period: give its start and end (--from/--to)")
    if analyst and what == "kpi" and by == "worker":
        raise ForbiddenError("analysts see aggregates only: no KPIs by worker")
    area = select_area(store, street=street, community=community, grids=grids)
    codes = area.codes
    wanted = ("grids", "buildings", "facilities", "incidents") if what == "all" else (what,)
    if what == "all" and start is not None:
        wanted += ("workload", "kpi")
    tables: dict[str, pd.DataFrame] = {}
    for name in wanted:
        if name == "grids":
            cols = ["code", "kind", "community_code", "households", "n_buildings", "flag"]
            cols += ["version", "valid_from", "geometry"]
            tables[name] = area.grids[cols].reset_index(drop=True)
        elif name in ("buildings", "facilities"):
            tables[name] = store.read_layer(name, grid_codes=codes).drop(columns="id")
        elif name == "incidents":
            tables[name] = _incidents(store, codes, start, end, analyst)
        elif name == "workload":
            from gridmgmt.domain.workload import area_workload

            tables[name] = area_workload(store, start, end, grids=codes, patrols=patrols).table
        elif name == "kpi":
            from gridmgmt.domain.assessment import area_assessment

            by_kpi = "grid" if what == "all" else by
            tables[name] = area_assessment(store, start, end, by=by_kpi, grids=codes).table
    return area, tables


def _incidents(store, codes, start, end, analyst: bool) -> gpd.GeoDataFrame:
    table = store.incidents()
    if len(table):
        table = table[table["grid_code"].isin(codes)]
        if start is not None:
            created = pd.to_datetime(table["created_at"], utc=True)
            table = table[(created >= pd.Timestamp(start)) & (created < pd.Timestamp(end))]
    points = store.incident_points(open_only=False)
    where = dict(zip(points["id"], points.geometry, strict=True))
    columns = [c for c in INCIDENT_COLUMNS if not (analyst and c in ("reporter", "description"))]
    out = table[columns].reset_index(drop=True) if len(table) else pd.DataFrame(columns=columns)
    geometry = [where.get(i) for i in table["id"]] if len(table) else []
    return gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4326")


def export_data(
    store,
    what: str,
    path: str | Path,
    fmt: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    **options,
) -> ExportOutcome:
    """Collect the tables of ``what`` (see :func:`collect`) and write them to ``path``.

    An area without grids or a period without incidents gives an empty but
    valid file (check :attr:`ExportOutcome.empty`).
    """
    from gridmgmt.domain.report_labels import label
    from gridmgmt.io.exports import export_tables, format_of

    fmt = format_of(path, fmt)
    area, tables = collect(store, what, **options)
    if fmt in ("geojson", "shp"):
        flat = [n for n, t in tables.items() if not isinstance(t, gpd.GeoDataFrame)]
        if flat:
            raise ValueError(f"{', '.join(flat)} has no geometry: export it as csv, xlsx or gpkg")
    written = export_tables(tables, path, fmt, labels=label, progress=progress)
    return ExportOutcome(written, area, {n: len(t) for n, t in tables.items()})
