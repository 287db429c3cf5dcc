"""报表: per-grid workload and 考核 (assessment) tables for an area and period, with downloads.

- ``GET /reports``: the page for a 社区 (or all) and a period (default:
  the last 30 days), assessment at a chosen level. It answers at once and
  shows progress while its script loads the heavy tables from
  ``GET /reports/tables`` (the same arguments; 1–2 s on a 街道); without
  scripts, ``?inline=1`` renders them into the page;
- ``GET /reports/tables``: the workload and 考核 tables as an HTML fragment;
- ``GET /reports/download?what=…&format=…``: the same data as GeoPackage,
  GeoJSON, zipped Shapefile, CSV (UTF-8 BOM) or XLSX, written to a
  temporary file in chunks and streamed from disk.

Supervisors and admins see everything; analysts get aggregates only (no
KPIs by worker, incidents without reporter and description).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

from flask import Blueprint, abort, render_template, request, send_file, url_for

from gridmgmt.core.periods import SHANGHAI, PeriodError, parse_day
from gridmgmt.domain.areas import select_area
from gridmgmt.domain.assessment import area_assessment
from gridmgmt.domain.errors import ForbiddenError, NotFoundError
from gridmgmt.domain.exporting import WHAT, export_data
from gridmgmt.domain.report_labels import ASSESSMENT_COLUMNS, LEVELS, WORKLOAD_COLUMNS, label
from gridmgmt.domain.workload import area_workload
from gridmgmt.io.exports import FORMATS, SUFFIXES
from gridmgmt.store.patrols import PatrolStore
from webapp.auth import current_principal
from webapp.extensions import store
from webapp.i18n import current_language
from webapp.policy import grid_allowed, may, requires

bp = Blueprint("reports", __name__)


def _analyst() -> bool:
    """Whether the user sees reports without personal data (who the workers are, case texts)."""
    return not may("patrol.names")


def _area(community: str | None) -> dict:
    """The area arguments of a report: the 社区 asked for, else the user's own area, else all.

    A 社区 outside the user's area is a 404, as if it did not exist.
    """
    if community is not None:
        if not grid_allowed(community):
            abort(404)
        return {"community": community}
    area = current_principal().area
    if area is None:
        return {}
    if len(area) == 12:
        return {"community": area}
    if len(area) == 9:
        return {"street": area}
    codes = store().current_grids()["code"]
    return {"grids": [c for c in codes if c.startswith(area)]}


def _form() -> dict:
    """Area, period and level from the query string, with defaults; 400 on bad values."""
    args = request.args
    today = datetime.now(SHANGHAI).date()
    try:
        first = parse_day(args["from"]) if args.get("from") else today - timedelta(30)
        last = parse_day(args["to"]) if args.get("to") else today + timedelta(1)
    except PeriodError as err:
        abort(400, description=str(err))
    if first >= last:  # ``to`` is the exclusive end here
        abort(400, description=f"period start {first} is not before its end {last}")
    by = args.get("by") or "grid"
    if by not in LEVELS or (by == "worker" and _analyst()):
        abort(400, description=f"unknown or forbidden level {by!r}")
    return {
        "community": args.get("community") or None,
        "from": first,
        "to": last,
        "by": by,
        "start": datetime.combine(first, time(0), SHANGHAI),
        "end": datetime.combine(last, time(0), SHANGHAI),
    }


#: the export list's rows: what -> (中文, English)
EXPORT_NAMES = {
    "grids": ("网格", "Grids"),
    "buildings": ("建筑", "Buildings"),
    "facilities": ("设施", "Facilities"),
    "incidents": ("事件", "Incidents"),
    "workload": ("工作量", "Workload"),
    "kpi": ("考核指标", "Assessment KPIs"),
    "all": ("全部图层", "All layers"),
}


def export_name(what: str) -> str:
    """The export ``what`` as the download list names it, in the page's language."""
    zh, en = EXPORT_NAMES.get(what, (what, what))
    return en if current_language() == "en" else zh


def _tables(f: dict, area: dict) -> dict:
    """The heavy part: workload and 考核 of the area and period (404 for an unknown area)."""
    try:
        workload = area_workload(
            store(), f["start"], f["end"], patrols=PatrolStore(store()), **area
        )
        assessment = area_assessment(store(), f["start"], f["end"], by=f["by"], **area)
    except NotFoundError as err:
        abort(404, description=str(err))
    wl = workload.table
    return {
        "workload": wl[list(WORKLOAD_COLUMNS)].to_dict("records") if len(wl) else [],
        "workload_columns": WORKLOAD_COLUMNS,
        "weights": workload.weights,
        "kpi": assessment.table.reset_index().to_dict("records"),
        "kpi_columns": (f["by"], *ASSESSMENT_COLUMNS),
        "label": label,
    }


@bp.get("/reports")
@requires("reports.view")
def index():
    f = _form()
    area = _area(f["community"])
    try:
        area_label = select_area(store(), **area).label
    except NotFoundError as err:
        abort(404, description=str(err))
    inline = request.args.get("inline") == "1"
    args = {k: v for k, v in request.args.items() if k not in ("inline", "lang")}
    return render_template(
        "reports.html",
        f=f,
        communities=_communities(),
        levels=[lv for lv in LEVELS if not (lv == "worker" and _analyst())],
        label=label,
        area=area_label,
        whats=[w for w in WHAT if w != "all"] + ["all"],
        export_name=export_name,
        formats=FORMATS,
        tables_url=url_for("reports.tables", **args),
        inline_url=url_for("reports.index", inline="1", **args),
        tables=_tables(f, area) if inline else None,
    )


@bp.get("/reports/tables")
@requires("reports.view")
def tables():
    """The workload and 考核 tables alone (an HTML fragment the report page loads)."""
    f = _form()
    return render_template("reports_tables.html", f=f, **_tables(f, _area(f["community"])))


def _communities():
    """The 社区 the user may choose from."""
    frame = store().admin_areas("community")
    return frame[[grid_allowed(c) for c in frame["code"]]] if len(frame) else frame


@bp.get("/reports/download")
@requires("reports.view")
def download():
    f = _form()
    what, fmt = request.args.get("what", ""), request.args.get("format", "")
    if what not in WHAT or fmt not in FORMATS:
        abort(400, description=f"what must be one of {WHAT}, format one of {FORMATS}")
    name = f"gridmgmt-{what}-{f['from']}-{f['to']}{SUFFIXES[fmt]}"
    tmp = Path(tempfile.mkdtemp(prefix="gridmgmt-export-"))
    path = tmp / name
    try:
        export_data(
            store(),
            what,
            path,
            fmt,
            start=f["start"],
            end=f["end"],
            by=f["by"],
            **_area(f["community"]),
            analyst=_analyst(),
            patrols=PatrolStore(store()),
        )
    except ForbiddenError as err:
        abort(403, description=str(err))
    except NotFoundError as err:
        abort(404, description=str(err))
    except ValueError as err:
        abort(400, description=str(err))
    response = send_file(path, as_attachment=True, download_name=name, conditional=False)

    def cleanup():
        path.unlink(missing_ok=True)
        tmp.rmdir()

    response.call_on_close(cleanup)
    return response
