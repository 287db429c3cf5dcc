"""巡查 pages: a worker records a patrol from the phone and writes the 民情日记; supervisors read the report.

- ``GET /patrol`` (worker): 开始巡查 / 结束巡查, the track on a map, the
  diary form. ``static/js/patrol.js`` sends the phone's positions in
  batches; when the connection drops they wait in ``localStorage`` and are
  sent again later (each carries a sequence number, so nothing is stored
  twice).
- ``GET /api/v1/patrols?limit=&offset=``: the worker's own patrols, newest
  first, paged like every JSON list (:mod:`webapp.paging`).
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
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from shapely.geometry import mapping

from gridmgmt.core.periods import SHANGHAI, PeriodError, day_period, parse_day
from gridmgmt.domain.errors import ForbiddenError, NotFoundError
from gridmgmt.domain.patrols import (
    DIARY_KINDS,
    add_diary_entry,
    client_key,
    patrol_report,
    record_points,
    start_patrol,
    stop_patrol,
)
from gridmgmt.domain.report_labels import PATROL_REPORT_COLUMNS, label
from gridmgmt.io.errors import InputError
from gridmgmt.store.patrols import PatrolStore
from webapp.caching import conditional
from webapp.errors import wants_json
from webapp.extensions import store
from webapp.json_provider import iso
from webapp.messages import anomaly_labels
from webapp.paging import PagingError, add_page_headers, page_envelope, parse_page
from webapp.policy import grid_allowed, grid_mask, may, requires

bp = Blueprint("patrol", __name__)

MAX_POINTS_PER_BATCH = 2000


def repo() -> PatrolStore:
    return PatrolStore(store())


def _error(err: Exception, status: int):
    return {"error": str(err)}, status


@bp.get("/patrol")
@requires("patrol.record")
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


@bp.get("/api/v1/patrols")
@requires("patrol.record")
def my_patrols():
    """The worker's own patrols, newest first, one page (:mod:`webapp.paging`)."""
    try:
        paging = parse_page(request.args)
    except PagingError as err:
        return _error(err, 400)
    rows, total = repo().patrol_page(
        worker=current_user.username, limit=paging.limit, offset=paging.offset
    )
    items = [
        {
            "id": int(r["id"]),
            "grid_codes": list(r["grid_codes"] or []),
            "source": r["source"],
            "status": r["status"],
            "started_at": iso(r["started_at"]),
            "ended_at": iso(r["ended_at"]),
            "measures": r["measures"] or {},
        }
        for r in rows.to_dict("records")
    ]
    response = jsonify(page_envelope(items, total, paging))
    return conditional(add_page_headers(response, total, paging))


@bp.post("/api/v1/patrols")
@requires("patrol.record")
def start():
    """Start a patrol; JSON ``{idempotency_key, started_at}`` (both optional) -> ``{id}``.

    A start queued offline is replayed with its key and the time the worker
    tapped 开始巡查: the same key answers the same patrol (200), never a second.
    """
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        return {"error": "a JSON object: {idempotency_key, started_at}"}, 400
    key = body.get("idempotency_key")
    try:
        started_at = _instant(body.get("started_at"))
        known = key and repo().patrol_by_key(client_key(current_user.username, key))
        pid = start_patrol(
            store(), repo(), current_user.username, idempotency_key=key, started_at=started_at
        )
    except (ValueError, NotFoundError) as err:
        return _error(err, 400)
    return {"id": pid}, 200 if known else 201


def _instant(text, field: str = "started_at") -> datetime | None:
    """An ISO 8601 instant with its offset, or None; ValueError for anything else."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise ValueError(f"{field}: an ISO 8601 time such as 2026-12-01T08:30:00Z")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{field}: {text!r} is not an ISO 8601 time such as 2026-12-01T08:30:00Z"
        ) from None
    if value.tzinfo is None:
        raise ValueError(f"{field} needs a time zone (ISO 8601 with an offset or Z)")
    return value


@bp.post("/api/v1/patrols/<int:patrol_id>/points")
@requires("patrol.record")
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
    except ForbiddenError:  # someone else's patrol: as if it did not exist (no probing ids)
        abort(404)
    except (InputError, ValueError, TypeError) as err:
        return _error(err, 400)
    return {"new": new, "received": len(rows)}


@bp.post("/api/v1/patrols/<int:patrol_id>/stop")
@requires("patrol.record")
def stop(patrol_id: int):
    """Finish a patrol; JSON ``{ended_at}`` (optional: when 结束巡查 was tapped, for a queued stop)."""
    body = request.get_json(silent=True) or {}
    try:
        ended_at = _instant(body.get("ended_at") if isinstance(body, dict) else None, "ended_at")
        measures = stop_patrol(store(), repo(), patrol_id, current_user.username, ended_at=ended_at)
    except ValueError as err:
        return _error(err, 400)
    except NotFoundError as err:
        return _error(err, 404)
    except ForbiddenError:  # someone else's patrol: as if it did not exist (no probing ids)
        abort(404)
    # the codes stay for programs; the page shows the labels in its language
    measures = measures | {"anomaly_labels": anomaly_labels(measures.get("anomalies"))}
    return {"id": patrol_id, "measures": measures}


@bp.post("/patrol/diary")
@requires("patrol.record")
def diary():
    """A 民情日记 entry from the form (or the offline queue, with ``idempotency_key``).

    A client asking for JSON (``Accept: application/json``) gets ``{id}``
    (201, or 200 for a replayed key) or ``{error}`` (400/403); the form
    gets a redirect back to the page with a message.
    """
    f = request.form
    key = f.get("idempotency_key") or None
    try:
        day = parse_day(f.get("day", ""))
        known = key and repo().diary_by_key(client_key(current_user.username, key))
        entry_id = add_diary_entry(
            store(),
            repo(),
            current_user.username,
            day=day,
            grid_code=f.get("grid_code", ""),
            kind=f.get("kind", ""),
            text=f.get("text", ""),
            building_id=f.get("building_id") or None,
            idempotency_key=key,
        )
    except ForbiddenError as err:
        if wants_json():
            return _error(f"网格不在你的负责范围内 ({err})", 403)
        abort(403)
    except ValueError as err:
        if wants_json():
            return _error(err, 400)
        flash(str(err))
        return redirect(url_for("patrol.page"))
    if wants_json():
        return {"id": entry_id}, 200 if known else 201
    flash("已记入民情日记")
    return redirect(url_for("patrol.page"))


#: columns that name grid workers: shown only to roles the policy lets see people
NAME_COLUMNS = ("workers", "worker")


def _visible_parts(rep):
    """The report's grid table, patrols and daily rows, as far as the current user may see them.

    Grids (and the patrols and days of their workers) outside the user's
    area are left out; who the workers are is left out for roles that may
    not see people (analysts).
    """
    table = rep.table[grid_mask(rep.table["code"])] if len(rep.table) else rep.table
    patrols, daily = rep.patrol_rows(), rep.daily_rows()
    shown = set(table["code"]) if len(table) else set()
    if len(patrols):
        patrols = patrols[[bool(shown & set(str(c).split(","))) for c in patrols["grid_codes"]]]
    if len(daily):
        daily = daily[[bool(shown & set(str(c).split(","))) for c in daily["grid_codes"]]]
    if not may("patrol.names"):
        table, patrols, daily = (
            f.drop(columns=[c for c in NAME_COLUMNS if c in f.columns])
            for f in (table, patrols, daily)
        )
    return table, patrols, daily


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
@requires("patrol.report")
def report():
    first, last = _report_period()
    grid = request.args.get("grid") or None
    if grid is not None and not grid_allowed(grid):
        abort(404)
    try:
        rep = patrol_report(store(), repo(), first, last, grid=grid)
    except NotFoundError as err:
        abort(404, description=str(err))
    table, patrols, daily = _visible_parts(rep)
    fmt = request.args.get("format")
    if fmt:
        if fmt not in ("csv", "xlsx"):
            abort(400, description="format: csv or xlsx")
        from gridmgmt.io.exports import export_tables

        tables = {"grids": table}
        if fmt == "xlsx":
            tables["patrols"] = patrols
            tables["daily"] = daily
        tmp = Path(tempfile.mkdtemp(prefix="gridmgmt-patrol-"))
        path = export_tables(tables, tmp / f"patrol-{first}-{last}.{fmt}", labels=label)
        response = send_file(path, as_attachment=True, download_name=path.name)
        response.call_on_close(lambda: (path.unlink(missing_ok=True), tmp.rmdir()))
        return response
    names = may("patrol.names")
    columns = [c for c in PATROL_REPORT_COLUMNS if names or c not in NAME_COLUMNS]
    lines = repo().lines(patrols["id"].tolist()[-300:])
    tracks = [
        {
            "type": "Feature",
            "properties": {
                **({"worker": r["worker"]} if names else {}),
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
        rows=table.to_dict("records"),
        label=label,
        tracks={"type": "FeatureCollection", "features": tracks},
    )
