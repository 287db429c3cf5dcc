"""巡查 pages: a worker records a patrol from the phone and writes the 民情日记; supervisors read the report.

- ``GET /patrol`` (worker): 开始巡查 / 结束巡查, the track on a map, the
  diary form. ``static/js/patrol.js`` sends the phone's positions in
  batches; when the connection drops they wait in ``localStorage`` and are
  sent again later (each carries a sequence number, so nothing is stored
  twice).
- ``POST /api/v1/patrols`` (start), ``POST /api/v1/patrols/<id>/points``,
  ``POST /api/v1/patrols/<id>/stop``: JSON, CSRF header, the worker's own
  patrols only.
- ``POST /patrol/diary``: a diary entry in one of the worker's grids.
- ``GET /patrols/report`` (supervisor, admin, analyst): per grid patrol
  days, compliance, coverage, anomalies, diary entries, incidents found,
  the tracks on a map; ``?format=csv|xlsx`` downloads it.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from shapely.geometry import mapping

from gridmgmt.core.periods import SHANGHAI, PeriodError, day_period, parse_day
from gridmgmt.domain.errors import ForbiddenError, NotFoundError
from gridmgmt.domain.patrols import (
    DIARY_KINDS,
    add_diary_entry,
    patrol_report,
    record_points,
    start_patrol,
    stop_patrol,
)
from gridmgmt.domain.report_labels import label
from gridmgmt.io.errors import InputError
from gridmgmt.store.patrols import PatrolStore
from webapp.auth import roles_required
from webapp.extensions import store

bp = Blueprint("patrol", __name__)

REPORT_ROLES = ("supervisor", "admin", "analyst")
MAX_POINTS_PER_BATCH = 2000
REPORT_COLUMNS = (
    "code",
    "workers",
    "working_days",
    "patrol_days",
    "compliance",
    "patrols",
    "mean_building_share",
    "mean_road_share",
    "anomalies",
    "diary_entries",
    "incidents_on_patrol",
)


def repo() -> PatrolStore:
    return PatrolStore(store())


def _error(err: Exception, status: int):
    return {"error": str(err)}, status


@bp.get("/patrol")
@roles_required("worker")
def page():
    today = datetime.now(SHANGHAI).date()
    recent = repo().patrols(
        worker=current_user.username, start=datetime.now(SHANGHAI) - timedelta(7)
    )
    diary = repo().diary(worker=current_user.username, first=today - timedelta(days=7))
    grids = store().current_grids()
    mine = grids[grids["code"].isin(current_user.grid_codes)]
    bbox = [round(float(v), 6) for v in mine.total_bounds] if len(mine) else None
    return render_template(
        "patrol.html",
        today=today,
        kinds=DIARY_KINDS,
        grid_codes=current_user.grid_codes,
        recent=recent.sort_values("started_at", ascending=False).to_dict("records"),
        diary=diary.to_dict("records"),
        bbox=bbox,
    )


@bp.post("/api/v1/patrols")
@roles_required("worker")
def start():
    try:
        pid = start_patrol(store(), repo(), current_user.username)
    except (ValueError, NotFoundError) as err:
        return _error(err, 400)
    return {"id": pid}, 201


@bp.post("/api/v1/patrols/<int:patrol_id>/points")
@roles_required("worker")
def points(patrol_id: int):
    body = request.get_json(silent=True) or {}
    rows = body.get("points")
    if not isinstance(rows, list) or len(rows) > MAX_POINTS_PER_BATCH:
        return {"error": f"points: a list of at most {MAX_POINTS_PER_BATCH} fixes"}, 400
    try:
        frame = pd.DataFrame(rows, columns=["seq", "t", "lon", "lat", "accuracy"])
        frame["t"] = pd.to_datetime(frame["t"], utc=True, format="ISO8601")
        frame[["lon", "lat", "accuracy"]] = frame[["lon", "lat", "accuracy"]].astype(float)
        new = record_points(store(), repo(), patrol_id, current_user.username, frame)
    except NotFoundError as err:
        return _error(err, 404)
    except ForbiddenError as err:
        return _error(err, 403)
    except (InputError, ValueError, TypeError) as err:
        return _error(err, 400)
    return {"new": new, "received": len(rows)}


@bp.post("/api/v1/patrols/<int:patrol_id>/stop")
@roles_required("worker")
def stop(patrol_id: int):
    try:
        measures = stop_patrol(store(), repo(), patrol_id, current_user.username)
    except NotFoundError as err:
        return _error(err, 404)
    except ForbiddenError as err:
        return _error(err, 403)
    return {"id": patrol_id, "measures": measures}


@bp.post("/patrol/diary")
@roles_required("worker")
def diary():
    f = request.form
    try:
        day = parse_day(f.get("day", ""))
        add_diary_entry(
            store(),
            repo(),
            current_user.username,
            day=day,
            grid_code=f.get("grid_code", ""),
            kind=f.get("kind", ""),
            text=f.get("text", ""),
            building_id=f.get("building_id") or None,
        )
    except ForbiddenError:
        abort(403)
    except ValueError as err:
        flash(str(err))
        return redirect(url_for("patrol.page"))
    flash("已记入民情日记")
    return redirect(url_for("patrol.page"))


def _report_period() -> tuple[date, date]:
    """First and last day from ``from``/``to`` (default: the last 30 days); 400 for bad dates."""
    today = datetime.now(SHANGHAI).date()
    args = request.args
    try:
        first = parse_day(args["from"]) if args.get("from") else today - timedelta(29)
        last = parse_day(args["to"]) if args.get("to") else today
        day_period(first, last)  # refuses a reversed period
    except PeriodError as err:
        abort(400, description=str(err))
    return first, last


@bp.get("/patrols/report")
@roles_required(*REPORT_ROLES)
def report():
    first, last = _report_period()
    grid = request.args.get("grid") or None
    try:
        rep = patrol_report(store(), repo(), first, last, grid=grid)
    except NotFoundError as err:
        abort(404, description=str(err))
    fmt = request.args.get("format")
    if fmt:
        if fmt not in ("csv", "xlsx"):
            abort(400, description="format: csv or xlsx")
        from gridmgmt.io.exports import export_tables

        tables = {"grids": rep.table}
        if fmt == "xlsx":
            tables["patrols"] = rep.patrol_rows()
            tables["daily"] = rep.daily_rows()
        tmp = Path(tempfile.mkdtemp(prefix="gridmgmt-patrol-"))
        path = export_tables(tables, tmp / f"patrol-{first}-{last}.{fmt}", labels=label)
        response = send_file(path, as_attachment=True, download_name=path.name)
        response.call_on_close(lambda: (path.unlink(missing_ok=True), tmp.rmdir()))
        return response
    columns = REPORT_COLUMNS
    lines = repo().lines(rep.patrols["id"].tolist()[-300:])
    tracks = [
        {
            "type": "Feature",
            "properties": {
                "worker": r["worker"],
                "anomalies": (r["measures"] or {}).get("anomalies", ""),
            },
            "geometry": mapping(r["geom"]),
        }
        for r in lines
    ]
    return render_template(
        "patrol_report.html",
        first=first,
        last=last,
        grid=grid,
        columns=columns,
        rows=rep.table.to_dict("records"),
        label=label,
        tracks={"type": "FeatureCollection", "features": tracks},
    )
